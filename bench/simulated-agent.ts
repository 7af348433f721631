// `node dist/bench/simulated-agent.js [--nodes 100] [--pods 3000] [--scheduler]`: how fast the
// simulated node agent brings pods to Ready. Starts a throwaway redis-server, the API server
// (plain HTTP) and `podium agent --runtime simulated` as separate processes; creates pods bound
// round-robin to the nodes (or, with --scheduler, unbound pods and `podium scheduler`), and
// reports creation time and time until every pod is Running and Ready. It reports figures;
// it exits non-zero only when the bench itself failed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { NodeList, PodList } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../node-agent/api.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, startRedis, waitUntil } from './lib/processes.js';

const NS = 'bench';
const CREATE_CONCURRENCY = 32;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string' }, pods: { type: 'string' }, scheduler: { type: 'boolean' } } });
  const nodes = Number(values.nodes ?? 100);
  const pods = Number(values.pods ?? 3000);
  cleanupOnSignals();
  const dir = await makeTempDir('podium-bench-sim-');
  const redis = await startRedis(dir, 'none');
  const port = await freePort();
  const podium = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const apiserver = new Child('apiserver', process.execPath, [podium, 'apiserver', '--redis-url', redis.url, '--port', String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('api server', async () => (await fetch(`${url}/readyz`)).ok, 30_000, apiserver);
  const api = ApiClient.fromBaseUrl(url);
  await api.create('/api/v1/namespaces', { metadata: { name: NS } });
  await api.create(`/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'default' } });

  const agentStarted = performance.now();
  const agent = new Child('agent', process.execPath, [podium, 'agent', '--server', url, '--runtime', 'simulated', '--nodes', String(nodes)]);
  await waitUntil(
    'every node Ready',
    async () => {
      const list = await api.get<NodeList>('/api/v1/nodes');
      return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === nodes;
    },
    60_000,
    agent,
    200,
  );
  const nodesReadySeconds = (performance.now() - agentStarted) / 1000;
  let scheduler: Child | undefined;
  if (values.scheduler) {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`);
    scheduler = new Child('scheduler', process.execPath, [podium, 'scheduler', '--kubeconfig', kubeconfig]);
  }

  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      for (let i = next++; i < pods; i = next++) {
        await api.create(`/api/v1/namespaces/${NS}/pods`, {
          metadata: { name: `p-${i}`, labels: { app: 'bench' } },
          spec: { ...(scheduler ? {} : { nodeName: `sim-${i % nodes}` }), containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        });
      }
    }),
  );
  const created = performance.now();
  let ready = 0;
  await waitUntil(
    'every pod Ready',
    async () => {
      const list = await api.get<PodList>(`/api/v1/namespaces/${NS}/pods`);
      ready = list.items.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      return ready === pods;
    },
    300_000,
    agent,
    250,
  );
  const allReady = performance.now();
  process.stdout.write(
    `${JSON.stringify({
      nodes,
      pods,
      scheduler: Boolean(scheduler),
      nodesReadySeconds: +nodesReadySeconds.toFixed(2),
      createSeconds: +((created - started) / 1000).toFixed(2),
      allReadySeconds: +((allReady - started) / 1000).toFixed(2),
      readyAfterLastCreateSeconds: +((allReady - created) / 1000).toFixed(2),
      podsPerSecond: Math.round(pods / ((allReady - started) / 1000)),
    })}\n`,
  );
  api.close();
}

main().then(
  async () => {
    await cleanupAll();
    process.exit(0);
  },
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
