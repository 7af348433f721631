// The simulated node agent against a real API server on real Redis: node registration and
// heartbeats, and pods bound directly to its nodes going through their whole life cycle.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Agent } from '../../node-agent/agent.js';
import { ApiClient, isNotFound } from '../../node-agent/api.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';

let redis: RedisProcess;
let server: ApiServerProcess;
let api: ApiClient;
let agent: Agent;
const NS = 'sim-test';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

function pod(name: string, node: string, restartPolicy: string, annotations: Record<string, string> = {}, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, annotations },
    spec: { nodeName: node, restartPolicy, containers: [{ name: 'main', image: 'busybox:1.36' }], ...spec },
  };
}

const getPod = (name: string): Promise<Pod> => api.get<Pod>(`/api/v1/namespaces/${NS}/pods/${name}`);

beforeAll(async () => {
  redis = await startRedis();
  server = await startApiServer(redis.url);
  api = ApiClient.fromBaseUrl(server.url);
  agent = new Agent({ api, runtime: 'simulated', nodes: 2, heartbeat: { renewIntervalMs: 300, statusReportIntervalMs: 1000 } });
  await agent.start();
  await api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await api.create(`/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
});

afterAll(async () => {
  await agent?.stop();
  api?.close();
  await server?.stop();
  await redis?.stop();
});

test('registers every node Ready with capacity, addresses and node info', async () => {
  for (const name of ['sim-0', 'sim-1']) {
    const node = await api.get<Node>(`/api/v1/nodes/${name}`);
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' });
    expect(node.status?.capacity).toMatchObject({ cpu: '8', memory: '32Gi', pods: '110' });
    expect(node.status?.allocatable).toMatchObject({ cpu: '8', memory: '32Gi', pods: '110' });
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(node.status?.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    expect(node.status?.addresses?.map((a) => a.type)).toEqual(['InternalIP', 'Hostname']);
    expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: 'v1.32.0-podium', containerRuntimeVersion: 'simulated://1.0', operatingSystem: 'linux' });
    expect(node.spec?.podCIDR).toMatch(/^10\.\d+\.\d+\.0\/24$/);
  }
});

test('renews each node Lease', async () => {
  const path = (n: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n}`;
  const first = await api.get<Lease>(path('sim-1'));
  expect(first.spec).toMatchObject({ holderIdentity: 'sim-1', leaseDurationSeconds: 40 });
  expect(first.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'sim-1' });
  await eventually('a renewed lease', async () => {
    const now = await api.get<Lease>(path('sim-1'));
    return now.spec?.renewTime !== first.spec?.renewTime ? now : undefined;
  });
});

test('a long-running pod becomes Running and Ready with a pod IP', async () => {
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('web', 'sim-0', 'Always'));
  const p = await eventually('web Running', async () => {
    const p = await getPod('web');
    return p.status?.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
  });
  expect(p.status?.podIP).toMatch(/^10\.128\.0\.\d+$/);
  expect(p.status?.podIPs).toEqual([{ ip: p.status?.podIP }]);
  expect(p.status?.hostIP).toBe('198.18.0.1');
  expect(p.status?.startTime).toBeTruthy();
  expect(p.status?.qosClass).toBe('BestEffort');
  const types = p.status?.conditions?.map((c) => c.type).sort();
  expect(types).toEqual(['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'PodScheduled', 'Ready']);
  const cs = p.status?.containerStatuses?.[0];
  expect(cs).toMatchObject({ name: 'main', ready: true, started: true, restartCount: 0, image: 'busybox:1.36' });
  expect(cs?.state?.running?.startedAt).toBeTruthy();
  expect(cs?.containerID).toMatch(/^simulated:\/\//);

  // Simulated nodes advertise no agent endpoint, so logs and exec are refused without dialing their never-routed address.
  const node = (await call(server.url, 'GET', '/api/v1/nodes/sim-0')).body;
  expect(node.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 0 } });
  const logs = await call(server.url, 'GET', `/api/v1/namespaces/${NS}/pods/web/log`);
  expect(logs.status).toBe(503);
  expect(logs.body.message).toBe('node sim-0 reports no address and port for its agent');
  const exec = await call(server.url, 'POST', `/api/v1/namespaces/${NS}/pods/web/exec?command=ls`);
  expect(exec.status).toBe(400);
  expect(exec.body.message).toBe('Upgrade request required');
});

test('restartPolicy Never pods succeed or fail with the simulated exit code', async () => {
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('ok', 'sim-1', 'Never', { 'podium.io/simulate-duration': '0.3' }));
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('bad', 'sim-1', 'Never', { 'podium.io/simulate-duration': '0.3', 'podium.io/simulate-exit-code': '1' }));
  const ok = await eventually('ok Succeeded', async () => ((await getPod('ok')).status?.phase === 'Succeeded' ? getPod('ok') : undefined));
  expect(ok.status?.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  expect(ok.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  const bad = await eventually('bad Failed', async () => ((await getPod('bad')).status?.phase === 'Failed' ? getPod('bad') : undefined));
  expect(bad.status?.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
  expect(bad.status?.containerStatuses?.[0].restartCount).toBe(0);
});

test('OnFailure restarts a failing container', async () => {
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('retry', 'sim-0', 'OnFailure', { 'podium.io/simulate-duration': '0.2', 'podium.io/simulate-exit-code': '2' }));
  const p = await eventually('retry restarted', async () => {
    const p = await getPod('retry');
    return (p.status?.containerStatuses?.[0].restartCount ?? 0) >= 1 ? p : undefined;
  });
  expect(p.status?.phase).toBe('Running');
});

test('init containers run to completion before the regular containers start', async () => {
  const initContainers = [{ name: 'setup', image: 'busybox:1.36' }];
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('init', 'sim-0', 'Always', { 'podium.io/simulate-duration': '0.5' }, { initContainers }));
  const pending = await eventually('init Pending', async () => ((await getPod('init')).status?.initContainerStatuses ? getPod('init') : undefined));
  expect(pending.status?.phase).toBe('Pending');
  expect(pending.status?.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
  expect(pending.status?.containerStatuses?.[0].state?.waiting?.reason).toBe('PodInitializing');
  const p = await eventually('init Running', async () => ((await getPod('init')).status?.phase === 'Running' ? getPod('init') : undefined));
  expect(p.status?.initContainerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  expect(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');
});

test('a readiness gate holds Ready until its condition is set', async () => {
  await api.create(`/api/v1/namespaces/${NS}/pods`, pod('gated', 'sim-1', 'Always', {}, { readinessGates: [{ conditionType: 'example.com/lb' }] }));
  const p = await eventually('gated Running', async () => ((await getPod('gated')).status?.phase === 'Running' ? getPod('gated') : undefined));
  expect(p.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
  await api.strategicPatch(`/api/v1/namespaces/${NS}/pods/gated/status`, { status: { conditions: [{ type: 'example.com/lb', status: 'True' }] } });
  await eventually('gated Ready', async () => ((await getPod('gated')).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? true : undefined));
});

test('deleting a pod keeps it terminating while its containers stop, then removes it', async () => {
  const before = await getPod('web');
  const phases: string[] = [];
  const watching = new AbortController();
  const watch = api.watch<Pod>(`/api/v1/namespaces/${NS}/pods?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${before.metadata?.resourceVersion}`, (e) => {
    phases.push(`${e.type}:${e.object.status?.phase}`);
  }, watching.signal);
  const started = Date.now();
  await api.delete(`/api/v1/namespaces/${NS}/pods/web`);
  // Simulated containers take podium.io/simulate-termination-seconds (default 5) to stop.
  const terminating = await getPod('web');
  expect(terminating.metadata?.deletionTimestamp).toBeDefined();
  await eventually('web gone', async () => {
    try {
      await getPod('web');
      return undefined;
    } catch (err) {
      return isNotFound(err) ? true : undefined;
    }
  }, 10000);
  expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
  expect(Date.now() - started).toBeLessThan(10000);
  await eventually('the DELETED event', async () => (phases.some((p) => p.startsWith('DELETED')) ? true : undefined), 2000);
  watching.abort();
  await watch;
  // Killed containers and a terminal phase are reported before the pod goes, as the kubelet does.
  expect(phases).toContain('MODIFIED:Failed');
});
