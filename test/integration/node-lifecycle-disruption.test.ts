// The node lifecycle and disruption controllers against a real API server, without a node
// agent: a Node whose Lease is never renewed goes Unknown and tainted after a 2 s grace
// period and its pods are evicted as their tolerations allow; a PDB's status gates
// pods/eviction.
import { logger } from '../../apimachinery/log.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/manager.js';
import { NodeLifecycleController } from '../../controllers/node-lifecycle.js';
import { DisruptionController } from '../../controllers/disruption.js';
import { ServiceAccountsController } from '../../controllers/serviceaccount.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until, sleep } from '../support/wait.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const stop = new AbortController();
const core = '/api/v1/namespaces/default';
const MERGE = 'application/merge-patch+json';

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  const client = new ApiClient(api.url);
  const controllers = [new NodeLifecycleController({ gracePeriodMs: 2000, monitorPeriodMs: 300 }), new DisruptionController(), new ServiceAccountsController()];
  void runControllers(client, controllers, 2, stop.signal, logger('test'));
  // Pods need the default ServiceAccount (ServiceAccount admission).
  await until('default ServiceAccount', async () => (await call(api.url, 'GET', `${core}/serviceaccounts/default`)).status === 200);
});
afterAll(async () => {
  stop.abort();
  await api?.stop();
  await redis?.stop();
});



const readyConditions = (now: string): unknown[] => [
  { type: 'Initialized', status: 'True', lastTransitionTime: now },
  { type: 'Ready', status: 'True', lastTransitionTime: now },
  { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
  { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
];

async function readyPod(name: string, extra: { nodeName?: string; labels?: Record<string, string>; tolerations?: unknown[] } = {}): Promise<void> {
  const res = await call(api.url, 'POST', `${core}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: extra.labels },
    spec: { nodeName: extra.nodeName, tolerations: extra.tolerations, containers: [{ name: 'c', image: 'busybox' }] },
  });
  expect(res.status).toBe(201);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const st = await call(api.url, 'PATCH', `${core}/pods/${name}/status`, { status: { phase: 'Running', conditions: readyConditions(now) } }, MERGE);
  expect(st.status).toBe(200);
}

const gone = async (name: string): Promise<boolean> => {
  const res = await call(api.url, 'GET', `${core}/pods/${name}`);
  return res.status === 404 || !!res.body.metadata?.deletionTimestamp;
};

test('a node whose Lease is never renewed becomes Unknown, tainted, and its pods are evicted', async () => {
  const old = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  expect((await call(api.url, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'ghost' } })).status).toBe(201);
  const conds = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({
    type,
    status: type === 'Ready' ? 'True' : 'False',
    reason: 'Kubelet',
    lastHeartbeatTime: old,
    lastTransitionTime: old,
  }));
  expect((await call(api.url, 'PATCH', '/api/v1/nodes/ghost/status', { status: { conditions: conds } }, MERGE)).status).toBe(200);
  const lease = await call(api.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'ghost' },
    spec: { holderIdentity: 'ghost', leaseDurationSeconds: 40, renewTime: '2020-01-01T00:00:00.000000Z' },
  });
  expect(lease.status).toBe(201);
  const unreachable = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' };
  await readyPod('intolerant', { nodeName: 'ghost' });
  await readyPod('patient', { nodeName: 'ghost', tolerations: [{ ...unreachable, tolerationSeconds: 3 }] });
  await readyPod('forever', { nodeName: 'ghost', tolerations: [unreachable] });

  const node = await until('node Unknown and tainted', async () => {
    const n = (await call(api.url, 'GET', '/api/v1/nodes/ghost')).body;
    const tainted = (n.spec?.taints ?? []).filter((t: any) => t.key === 'node.kubernetes.io/unreachable');
    return n.status?.conditions?.every((c: any) => c.status === 'Unknown') && tainted.length === 2 ? n : undefined;
  });
  for (const c of node.status.conditions) {
    expect(c).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  }
  expect(node.spec.taints.find((t: any) => t.effect === 'NoExecute').timeAdded).toBeTruthy();
  expect(node.spec.taints.find((t: any) => t.effect === 'NoSchedule')).toBeTruthy();
  const taintedAt = Date.now();

  await until('intolerant pod evicted', () => gone('intolerant'), 5000);
  // Marking pods not ready and evicting are separate writes of the controller; under load the eviction can land first.
  const forever = await until('the tolerating pod marked not ready', async () => {
    const pod = (await call(api.url, 'GET', `${core}/pods/forever`)).body;
    return pod.status.conditions.find((c: any) => c.type === 'Ready').status === 'False' && pod;
  }, 5000);
  expect(forever.status.conditions.find((c: any) => c.type === 'ContainersReady').status).toBe('False');
  expect(await gone('patient')).toBe(false);
  await until('patient pod evicted after its tolerationSeconds', () => gone('patient'), 10_000);
  expect(Date.now() - taintedAt).toBeGreaterThan(1500);
  await sleep(1000);
  expect(await gone('forever')).toBe(false);
  const events = (await call(api.url, 'GET', `${core}/events`)).body.items;
  expect(events.some((e: any) => e.reason === 'TaintManagerEviction' && e.message === 'Marking for deletion Pod default/intolerant')).toBe(true);

  // The node reports Ready again: its taints go.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const back = conds.map((c) => ({ ...c, status: c.type === 'Ready' ? 'True' : 'False', lastHeartbeatTime: now, lastTransitionTime: now }));
  expect((await call(api.url, 'PATCH', '/api/v1/nodes/ghost/status', { status: { conditions: back } }, MERGE)).status).toBe(200);
  await until('taints removed', async () => {
    const n = (await call(api.url, 'GET', '/api/v1/nodes/ghost')).body;
    return (n.spec?.taints ?? []).length === 0;
  });
});

test('a PDB with minAvailable 2 over 2 ready pods allows no disruption and eviction returns 429', async () => {
  await readyPod('web-1', { labels: { app: 'web' } });
  await readyPod('web-2', { labels: { app: 'web' } });
  const created = await call(api.url, 'POST', `/apis/policy/v1/namespaces/default/poddisruptionbudgets`, {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web' },
    spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
  });
  expect(created.status).toBe(201);
  const pdb = await until('PDB status', async () => {
    const p = (await call(api.url, 'GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web')).body;
    return p.status?.observedGeneration === p.metadata.generation && p.status?.currentHealthy === 2 ? p : undefined;
  });
  expect(pdb.status).toMatchObject({ expectedPods: 2, currentHealthy: 2, desiredHealthy: 2, disruptionsAllowed: 0 });
  expect(pdb.status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
  const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'default' } };
  const refused = await call(api.url, 'POST', `${core}/pods/web-1/eviction`, eviction);
  expect(refused.status).toBe(429);

  // Relaxed to minAvailable 1: one disruption allowed, and the eviction goes through.
  expect((await call(api.url, 'PATCH', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web', { spec: { minAvailable: 1 } }, MERGE)).status).toBe(200);
  await until('disruptionsAllowed 1', async () => {
    const p = (await call(api.url, 'GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web')).body;
    return p.status?.disruptionsAllowed === 1 && p.status.conditions[0].reason === 'SufficientPods';
  });
  const allowed = await call(api.url, 'POST', `${core}/pods/web-1/eviction`, eviction);
  expect(allowed.status).toBe(201);
});
