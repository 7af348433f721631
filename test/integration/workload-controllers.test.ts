// StatefulSet, DaemonSet, Endpoints and EndpointSlice controllers against a real API server.
// No scheduler or node agent runs here: the test plays both, binding pinned pods, marking
// pods Running and Ready, and finishing graceful deletions, the way kubelet would.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { logger } from '../../apimachinery/log.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/manager.js';
import { StatefulSetController } from '../../controllers/statefulset.js';
import { DaemonSetController } from '../../controllers/daemonset.js';
import { EndpointsController } from '../../controllers/endpoints.js';
import { EndpointSliceController } from '../../controllers/endpointslice.js';
import { targetNodeName } from '../../controllers/daemonset-utils.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until, sleep } from '../support/wait.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const stop = new AbortController();
const ns = 'default';
const core = `/api/v1/namespaces/${ns}`;
const apps = `/apis/apps/v1/namespaces/${ns}`;
let nextIp = 2;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  // No service-account controller runs here, and pod admission needs the default account.
  await call(api.url, 'POST', `${core}/serviceaccounts`, { metadata: { name: 'default' } });
  const client = new ApiClient(api.url);
  const controllers = [new StatefulSetController(), new DaemonSetController(), new EndpointsController(), new EndpointSliceController()];
  void runControllers(client, controllers, 2, stop.signal, logger('test'));
});
afterAll(async () => {
  stop.abort();
  await api?.stop();
  await redis?.stop();
});

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

/** `kubectl rollout status` must agree that the rollout is complete. */
async function rolloutStatus(what: string): Promise<string> {
  if (!existsSync(KUBECTL)) return 'successfully rolled out';
  const { stdout } = await promisify(execFile)(KUBECTL, ['--server', api.url, '-n', ns, 'rollout', 'status', what, '--timeout=20s']);
  return stdout;
}


/** One kubelet-and-scheduler step over the pods matching `selector`. */
async function kubelet(selector: string, opts: { ready?: boolean } = {}): Promise<void> {
  const pods = (await call(api.url, 'GET', `${core}/pods?labelSelector=${encodeURIComponent(selector)}`)).body.items ?? [];
  for (const p of pods) {
    const name = p.metadata.name;
    if (p.metadata.deletionTimestamp) {
      await call(api.url, 'DELETE', `${core}/pods/${name}`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
      continue;
    }
    const target = targetNodeName(p);
    if (!p.spec.nodeName && target) {
      await call(api.url, 'POST', `${core}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: target } });
    }
    const ready = p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    if (opts.ready !== false && !ready) {
      await call(api.url, 'PATCH', `${core}/pods/${name}/status`, {
        status: { phase: 'Running', podIP: `10.244.0.${nextIp++}`, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
      }, 'application/merge-patch+json');
    }
  }
}


const podNames = async (selector: string): Promise<string[]> =>
  ((await call(api.url, 'GET', `${core}/pods?labelSelector=${encodeURIComponent(selector)}`)).body.items ?? [])
    .filter((p: any) => !p.metadata.deletionTimestamp)
    .map((p: any) => p.metadata.name)
    .sort();

test('StatefulSet: ordered creation, claims, rolling update and scale down', async () => {
  await call(api.url, 'POST', `${core}/services`, { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'sql', port: 5432 }] } });
  const sts = {
    metadata: { name: 'db' },
    spec: {
      replicas: 3,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
  expect((await call(api.url, 'POST', `${apps}/statefulsets`, sts)).status).toBe(201);
  await until('db-0', async () => (await podNames('app=db')).includes('db-0'));
  expect((await call(api.url, 'GET', `${core}/persistentvolumeclaims/data-db-0`)).status).toBe(200);
  const pod0 = (await call(api.url, 'GET', `${core}/pods/db-0`)).body;
  expect(pod0.spec.hostname).toBe('db-0');
  expect(pod0.spec.subdomain).toBe('db');
  expect(pod0.metadata.labels['statefulset.kubernetes.io/pod-name']).toBe('db-0');
  expect(pod0.spec.volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } });
  // OrderedReady: nothing more while db-0 is not ready.
  await sleep(700);
  expect(await podNames('app=db')).toEqual(['db-0']);

  const done = async (): Promise<any> => {
    const s = (await call(api.url, 'GET', `${apps}/statefulsets/db`)).body;
    const st = s.status ?? {};
    return st.observedGeneration === s.metadata.generation && st.readyReplicas === s.spec.replicas && st.currentRevision === st.updateRevision && st.updatedReplicas === s.spec.replicas && s;
  };
  const first = await until('statefulset ready', done, 30_000, () => kubelet('app=db'));
  expect(await podNames('app=db')).toEqual(['db-0', 'db-1', 'db-2']);
  const revs = (await call(api.url, 'GET', `${apps}/controllerrevisions`)).body.items.filter((r: any) => r.metadata.ownerReferences?.[0]?.name === 'db');
  expect(revs.map((r: any) => r.metadata.name)).toEqual([first.status.currentRevision]);

  const ep = await until('endpoints', async () => {
    const e = (await call(api.url, 'GET', `${core}/endpoints/db`)).body;
    return e.subsets?.[0]?.addresses?.length === 3 && e;
  });
  expect(ep.subsets[0].addresses.map((a: any) => a.hostname).sort()).toEqual(['db-0', 'db-1', 'db-2']);
  expect(ep.metadata.labels['service.kubernetes.io/headless']).toBe('');

  // Rolling update: every pod ends up at the new revision.
  await call(api.url, 'PATCH', `${apps}/statefulsets/db`, { spec: { template: { metadata: { annotations: { v: '2' } } } } }, 'application/merge-patch+json');
  const second = await until('rollout', async () => {
    const s = await done();
    return s && s.status.currentRevision !== first.status.currentRevision && s;
  }, 30_000, () => kubelet('app=db'));
  expect(await rolloutStatus('sts/db')).toContain('roll out complete: 3 new pods have been updated');
  for (const n of ['db-0', 'db-1', 'db-2']) {
    expect((await call(api.url, 'GET', `${core}/pods/${n}`)).body.metadata.labels['controller-revision-hash']).toBe(second.status.updateRevision);
  }

  await call(api.url, 'PATCH', `${apps}/statefulsets/db`, { spec: { replicas: 1 } }, 'application/merge-patch+json');
  await until('scale down', async () => (await podNames('app=db')).join() === 'db-0' && (await done()), 30_000, () => kubelet('app=db'));
  // Retain is the default: the claims stay.
  expect((await call(api.url, 'GET', `${core}/persistentvolumeclaims/data-db-2`)).status).toBe(200);

  // kubectl finds the revisions by selector and owner; undo brings revision 1 back as revision 3.
  if (existsSync(KUBECTL)) {
    const kubectl = (...args: string[]) => promisify(execFile)(KUBECTL, ['--server', api.url, '-n', ns, ...args]);
    expect((await kubectl('rollout', 'history', 'sts/db')).stdout).toMatch(/1\s+<none>\s+2\s+<none>/);
    await kubectl('rollout', 'undo', 'sts/db');
    const undone = await until('undo', async () => {
      const s = await done();
      return s && s.status.updateRevision === first.status.currentRevision && s;
    }, 30_000, () => kubelet('app=db'));
    const rev = (await call(api.url, 'GET', `${apps}/controllerrevisions/${undone.status.updateRevision}`)).body;
    expect(rev.revision).toBe(3);
  }
  const events = (await call(api.url, 'GET', `${core}/events`)).body.items.map((e: any) => e.message);
  expect(events).toContain('create Pod db-0 in StatefulSet db successful');
});

test('DaemonSet: one pod per eligible node, rolled within maxUnavailable', async () => {
  for (const [name, taints] of [['n1', []], ['n2', []], ['n3', [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]]] as const) {
    await call(api.url, 'POST', '/api/v1/nodes', { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: { taints } });
  }
  const ds = {
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  expect((await call(api.url, 'POST', `${apps}/daemonsets`, ds)).status).toBe(201);
  const complete = async (): Promise<any> => {
    const d = (await call(api.url, 'GET', `${apps}/daemonsets/agent`)).body;
    const s = d.status ?? {};
    return s.observedGeneration === d.metadata.generation && s.desiredNumberScheduled === 2 && s.updatedNumberScheduled === 2 && s.numberAvailable === 2 && s.numberReady === 2 && d;
  };
  await until('daemonset ready', complete, 30_000, () => kubelet('app=agent'));
  const pods = (await call(api.url, 'GET', `${core}/pods?labelSelector=app%3Dagent`)).body.items;
  expect(pods.map((p: any) => p.spec.nodeName).sort()).toEqual(['n1', 'n2']);
  expect(pods[0].spec.tolerations.map((t: any) => t.key)).toContain('node.kubernetes.io/unschedulable');

  await call(api.url, 'PATCH', `${apps}/daemonsets/agent`, { spec: { template: { metadata: { annotations: { v: '2' } } } } }, 'application/merge-patch+json');
  const hash = await until('new revision', async () => {
    const revs = (await call(api.url, 'GET', `${apps}/controllerrevisions`)).body.items.filter((r: any) => r.metadata.ownerReferences?.[0]?.name === 'agent');
    return revs.length === 2 && revs.sort((a: any, b: any) => b.revision - a.revision)[0].metadata.labels['controller-revision-hash'];
  });
  await until('daemonset rolled', async () => {
    const d = await complete();
    if (!d) return false;
    const live = (await call(api.url, 'GET', `${core}/pods?labelSelector=app%3Dagent`)).body.items;
    return live.length === 2 && live.every((p: any) => p.metadata.labels['controller-revision-hash'] === hash);
  }, 30_000, () => kubelet('app=agent'));
  expect(await rolloutStatus('ds/agent')).toContain('successfully rolled out');
});

test('Endpoints and EndpointSlices: named ports, readiness, selectorless services left alone', async () => {
  await call(api.url, 'POST', `${core}/services`, { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  await call(api.url, 'POST', `${core}/endpoints`, { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.1' }], ports: [{ port: 80 }] }] });
  await call(api.url, 'POST', `${core}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  const mk = (name: string) => ({ metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] } });
  for (const n of ['w1', 'w2', 'w3']) await call(api.url, 'POST', `${core}/pods`, mk(n));
  const status = (ip: string | undefined, ready: boolean) => ({ status: { phase: ip ? 'Running' : 'Pending', ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
  await call(api.url, 'PATCH', `${core}/pods/w1/status`, status('10.1.0.1', true), 'application/merge-patch+json');
  await call(api.url, 'PATCH', `${core}/pods/w2/status`, status('10.1.0.2', false), 'application/merge-patch+json');
  const ep = await until('web endpoints', async () => {
    const e = (await call(api.url, 'GET', `${core}/endpoints/web`)).body;
    return e.subsets?.[0]?.notReadyAddresses?.length === 1 && e;
  });
  expect(ep.subsets).toEqual([
    expect.objectContaining({
      addresses: [expect.objectContaining({ ip: '10.1.0.1', targetRef: expect.objectContaining({ name: 'w1' }) })],
      notReadyAddresses: [expect.objectContaining({ ip: '10.1.0.2' })],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }),
  ]);
  const slices = await until('web slices', async () => {
    const items = (await call(api.url, 'GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb')).body.items;
    return items?.length === 1 && items[0].endpoints?.length === 2 && items;
  });
  expect(slices[0].metadata.name).toMatch(/^web-/);
  expect(slices[0].metadata.labels['endpointslice.kubernetes.io/managed-by']).toBe('endpointslice-controller.k8s.io');
  expect(slices[0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const conds = Object.fromEntries(slices[0].endpoints.map((e: any) => [e.addresses[0], e.conditions]));
  expect(conds['10.1.0.1']).toEqual({ ready: true, serving: true, terminating: false });
  expect(conds['10.1.0.2']).toEqual({ ready: false, serving: false, terminating: false });

  // Settled objects are not rewritten: no update loop against server defaults.
  const rvs = async () => [
    (await call(api.url, 'GET', `${core}/endpoints/web`)).body.metadata.resourceVersion,
    (await call(api.url, 'GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/${slices[0].metadata.name}`)).body.metadata.resourceVersion,
    (await call(api.url, 'GET', `${apps}/statefulsets/db`)).body.metadata.resourceVersion,
    (await call(api.url, 'GET', `${apps}/daemonsets/agent`)).body.metadata.resourceVersion,
  ];
  const before = await rvs();
  await sleep(1500);
  expect(await rvs()).toEqual(before);

  const manual = (await call(api.url, 'GET', `${core}/endpoints/manual`)).body;
  expect(manual.subsets[0].addresses).toEqual([{ ip: '192.0.2.1' }]);
});
