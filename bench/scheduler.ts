// `node dist/bench/scheduler.js [--nodes 100] [--pods 3000]`: scheduling throughput.
//
// Starts a throwaway redis-server, the API server (plain HTTP) and `podium scheduler` as
// separate processes, registers Ready nodes, creates pods of one ReplicaSet-like owner, and
// reports how long until every pod is bound and how evenly they spread. It reports figures;
// it exits non-zero only when the bench itself failed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiClient } from '../controllers/framework/client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, startRedis, waitUntil } from './lib/processes.js';

const NS = 'bench';
const CREATE_CONCURRENCY = 32;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string' }, pods: { type: 'string' } } });
  const nodes = Number(values.nodes ?? 100);
  const pods = Number(values.pods ?? 3000);
  cleanupOnSignals();
  const dir = await makeTempDir('podium-bench-sched-');
  const redis = await startRedis(dir, 'none');
  const port = await freePort();
  const podium = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const api = new Child('apiserver', process.execPath, [podium, 'apiserver', '--redis-url', redis.url, '--port', String(port)]);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil('api server', async () => (await fetch(`${url}/readyz`)).ok, 30_000, api);
  const client = new ApiClient(url);
  await client.create('/api/v1/namespaces', { metadata: { name: NS } });
  await client.create(`/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'default' } });
  await Promise.all(
    Array.from({ length: nodes }, async (_, i) => {
      await client.create('/api/v1/nodes', { metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } } });
      await client.patch(`/api/v1/nodes/node-${i}/status`, { status: { allocatable: { cpu: '32', memory: '128Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge');
    }),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${url}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`);
  const scheduler = new Child('scheduler', process.execPath, [podium, 'scheduler', '--kubeconfig', kubeconfig]);

  const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'bench-rs', controller: true }];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATE_CONCURRENCY }, async () => {
      for (let i = next++; i < pods; i = next++) {
        await client.create(`/api/v1/namespaces/${NS}/pods`, {
          metadata: { name: `p-${i}`, labels: { app: 'bench' }, ownerReferences: owner },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
        });
      }
    }),
  );
  const created = performance.now();
  let perNode = new Map<string, number>();
  await waitUntil(
    'every pod bound',
    async () => {
      const list = await client.list<{ spec?: { nodeName?: string } }>(`/api/v1/namespaces/${NS}/pods`);
      perNode = new Map();
      for (const p of list.items) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
      return [...perNode.values()].reduce((a, b) => a + b, 0) === pods;
    },
    300_000,
    scheduler,
    250,
  );
  const bound = performance.now();
  const counts = [...perNode.values()];
  process.stdout.write(
    `${JSON.stringify({
      nodes,
      pods,
      createSeconds: +((created - started) / 1000).toFixed(2),
      allBoundSeconds: +((bound - started) / 1000).toFixed(2),
      podsPerSecond: Math.round(pods / ((bound - started) / 1000)),
      perNodeMin: Math.min(...counts),
      perNodeMax: Math.max(...counts),
    })}\n`,
  );
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
