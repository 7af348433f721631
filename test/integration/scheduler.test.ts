// The scheduler in-process against a real API server on real Redis: binding and spreading,
// FailedScheduling reports with upstream's wording, and reactions to node changes (labels,
// cordon, taints) the way kubectl users make them.
import { ApiClient } from '../../controllers/framework/client.js';
import { Scheduler } from '../../controllers/scheduler/scheduler.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';

let redis: RedisProcess;
let api: ApiServerProcess;
let scheduler: Scheduler;
const NS = 'sched';
const pods = `/api/v1/namespaces/${NS}/pods`;

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined | false;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function ok(method: string, path: string, body?: unknown, type?: string): Promise<Record<string, any>> {
  const r = await call(api.url, method, path, body, type);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const merge = (path: string, body: unknown) => ok('PATCH', path, body, 'application/merge-patch+json');

async function createNode(name: string): Promise<void> {
  await ok('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
  await merge(`/api/v1/nodes/${name}/status`, {
    status: {
      capacity: { cpu: '8', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') }],
    },
  });
}

function podBody(name: string, spec: Record<string, unknown> = {}, requests?: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'], ...(requests ? { resources: { requests } } : {}) }], ...spec },
  };
}

const getPod = (name: string) => ok('GET', `${pods}/${name}`);
const boundNode = (name: string) => getPod(name).then((p) => p.spec.nodeName as string | undefined);
const scheduledCondition = (p: Record<string, any>) => (p.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  await ok('POST', '/api/v1/namespaces', { metadata: { name: NS } });
  await ok('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { metadata: { name: 'default' } });
  await createNode('n1');
  await createNode('n2');
  scheduler = new Scheduler(new ApiClient(api.url));
  await scheduler.start();
}, 60_000);

afterAll(async () => {
  await scheduler?.stop();
  await api?.stop();
  await redis?.stop();
});

test('pods are bound, spread over the nodes, with PodScheduled=True and a Scheduled event', async () => {
  const names = ['a1', 'a2', 'a3', 'a4'];
  for (const n of names) await ok('POST', pods, podBody(n, {}, { cpu: '1' }));
  const nodes = await eventually('all bound', async () => {
    const ns = await Promise.all(names.map(boundNode));
    return ns.every(Boolean) ? ns : undefined;
  });
  expect(nodes.filter((n) => n === 'n1')).toHaveLength(2);
  expect(nodes.filter((n) => n === 'n2')).toHaveLength(2);
  const p = await getPod('a1');
  expect(scheduledCondition(p)?.status).toBe('True');
  const ev = await eventually('Scheduled event', async () => {
    const list = await ok('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=a1`);
    return list.items.find((e: any) => e.reason === 'Scheduled');
  });
  expect(ev.message).toBe(`Successfully assigned ${NS}/a1 to ${p.spec.nodeName}`);
  expect(ev.type).toBe('Normal');
  expect(ev.source.component).toBe('default-scheduler');
});

test('an unmatched nodeSelector is reported, and labelling a node lets the pod schedule', async () => {
  await ok('POST', pods, podBody('picky', { nodeSelector: { disktype: 'ssd' } }));
  const cond = await eventually('PodScheduled=False', async () => {
    const c = scheduledCondition(await getPod('picky'));
    return c?.status === 'False' ? c : undefined;
  });
  expect(cond.reason).toBe('Unschedulable');
  expect(cond.message).toBe(
    "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
  );
  const ev = await eventually('FailedScheduling event', async () => {
    const list = await ok('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=picky`);
    return list.items.find((e: any) => e.reason === 'FailedScheduling');
  });
  expect(ev.type).toBe('Warning');
  expect(ev.message).toBe(cond.message);
  expect(ev.reportingComponent).toBe('default-scheduler');

  await merge('/api/v1/nodes/n2', { metadata: { labels: { disktype: 'ssd' } } });
  expect(await eventually('picky bound', () => boundNode('picky'))).toBe('n2');
  await merge('/api/v1/nodes/n2', { metadata: { labels: { disktype: null } } });
});

test('a pod requesting more cpu than any node has gets "Insufficient cpu"', async () => {
  await ok('POST', pods, podBody('huge', {}, { cpu: '5000' }));
  const cond = await eventually('PodScheduled=False', async () => {
    const c = scheduledCondition(await getPod('huge'));
    return c?.status === 'False' ? c : undefined;
  });
  expect(cond.message).toBe('0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..');
  expect(await boundNode('huge')).toBeUndefined();
});

test('a cordoned node gets no new pods', async () => {
  await merge('/api/v1/nodes/n1', { spec: { unschedulable: true } });
  await eventually('cache sees the cordon', async () => scheduler.cache.nodes.get('n1')?.node?.spec?.unschedulable === true);
  const names = ['c1', 'c2', 'c3'];
  for (const n of names) await ok('POST', pods, podBody(n));
  for (const n of names) expect(await eventually(`${n} bound`, () => boundNode(n))).toBe('n2');
  await merge('/api/v1/nodes/n1', { spec: { unschedulable: null } });
});

test('a NoSchedule taint is respected unless tolerated', async () => {
  await merge('/api/v1/nodes/n2', { spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } });
  await eventually('cache sees the taint and uncordon', async () =>
    scheduler.cache.nodes.get('n2')?.node?.spec?.taints?.length === 1 && !scheduler.cache.nodes.get('n1')?.node?.spec?.unschedulable,
  );
  for (const n of ['t1', 't2', 't3']) await ok('POST', pods, podBody(n));
  for (const n of ['t1', 't2', 't3']) expect(await eventually(`${n} bound`, () => boundNode(n))).toBe('n1');

  // With n1 cordoned too, only a tolerating pod fits.
  await merge('/api/v1/nodes/n1', { spec: { unschedulable: true } });
  await eventually('cache sees the cordon', async () => scheduler.cache.nodes.get('n1')?.node?.spec?.unschedulable === true);
  await ok('POST', pods, podBody('intolerant'));
  await ok('POST', pods, podBody('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
  expect(await eventually('tolerant bound', () => boundNode('tolerant'))).toBe('n2');
  const cond = await eventually('intolerant unschedulable', async () => {
    const c = scheduledCondition(await getPod('intolerant'));
    return c?.status === 'False' ? c : undefined;
  });
  expect(cond.message).toBe(
    '0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..',
  );
  await merge('/api/v1/nodes/n2', { spec: { taints: null } });
  expect(await eventually('intolerant bound after the taint is removed', () => boundNode('intolerant'))).toBe('n2');
  await merge('/api/v1/nodes/n1', { spec: { unschedulable: null } });
});

test('deleting pods frees their resources for a waiting pod', async () => {
  // Each node has 8 cpu; a1..a4 hold 1 each. A 7-cpu pod fits once a node is down to 1 used.
  await ok('POST', pods, podBody('seven', {}, { cpu: '7' }));
  const cond = await eventually('seven unschedulable', async () => {
    const c = scheduledCondition(await getPod('seven'));
    return c?.status === 'False' ? c : undefined;
  });
  expect(cond.message).toContain('2 Insufficient cpu');
  expect(cond.message).toContain('No preemption victims found for incoming pod');
  const onN1 = [];
  for (const n of ['a1', 'a2', 'a3', 'a4']) if ((await boundNode(n)) === 'n1') onN1.push(n);
  await ok('DELETE', `${pods}/${onN1[0]}?gracePeriodSeconds=0`);
  expect(await eventually('seven bound', () => boundNode('seven'))).toBe('n1');
});

test('a pod with scheduling gates waits with SchedulingGated until they are removed', async () => {
  await ok('POST', pods, podBody('gated', { schedulingGates: [{ name: 'example.com/wait' }] }));
  const cond = await eventually('SchedulingGated', async () => {
    const c = scheduledCondition(await getPod('gated'));
    return c?.reason === 'SchedulingGated' ? c : undefined;
  });
  expect(cond).toMatchObject({ status: 'False', message: 'Scheduling is blocked due to non-empty scheduling gates' });
  const list = await ok('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name=gated`);
  expect(list.items).toHaveLength(0);
  await ok('PATCH', `${pods}/gated`, [{ op: 'remove', path: '/spec/schedulingGates' }], 'application/json-patch+json');
  expect(await eventually('gated bound', () => boundNode('gated'))).toBeTruthy();
});
