// Waiting for a `podium up` a bench started: its API server through the kubeconfig it writes,
// and a Ready node.
import { join } from 'node:path';
import { ApiClient } from '../../controllers/framework/client.js';
import { waitUntil, type Child } from './processes.js';

/** The admin client of `podium up --data-dir dataDir`, once its API server answers /readyz over TLS. */
export async function waitForApiServer(dataDir: string, up: Child): Promise<ApiClient> {
  let client: ApiClient | undefined;
  await waitUntil('the API server to answer /readyz over TLS with the written kubeconfig', async () => {
    client ??= ApiClient.fromKubeconfig(join(dataDir, 'kubeconfig'));
    await client.get('/readyz');
    return true;
  }, 90_000, up, 200);
  return client!;
}

/** The name of the first node whose Ready condition is True. */
export async function waitForReadyNode(api: ApiClient, up: Child): Promise<string> {
  let name = '';
  await waitUntil('a node to be Ready', async () => {
    const nodes = await api.list<{ metadata?: { name?: string }; status?: { conditions?: { type: string; status: string }[] } }>('/api/v1/nodes');
    name = nodes.items.find((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))?.metadata?.name ?? '';
    return name !== '';
  }, 120_000, up, 250);
  return name;
}
