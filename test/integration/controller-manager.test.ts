// The controllers against a real API server on real Redis: a Deployment gets a ReplicaSet
// and pods, scales down, namespaces get their defaults and are emptied on deletion, and
// owner references are garbage collected. No scheduler or node agent: pods stay Pending.
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/framework/run.js';
import { LeaderElector } from '../../controllers/framework/leader-election.js';
import { DeploymentController } from '../../controllers/deployment.js';
import { GarbageCollector } from '../../controllers/garbage-collector.js';
import { NamespaceController } from '../../controllers/namespace.js';
import { ReplicaSetController } from '../../controllers/replicaset.js';
import { RootCACertPublisher } from '../../controllers/root-ca-publisher.js';
import { ServiceAccountsController } from '../../controllers/serviceaccount.js';
import { logger } from '../../apimachinery/log.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';

const FAKE_CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
let redis: RedisProcess;
let api: ApiServerProcess;
let client: ApiClient;
const abort = new AbortController();
let running: Promise<void>;

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

const list = async (path: string, labelSelector?: string): Promise<any[]> =>
  (await client.list<any>(path, labelSelector ? { labelSelector } : undefined)).items;
const activePods = async (ns: string, sel: string): Promise<any[]> => (await list(`/api/v1/namespaces/${ns}/pods`, sel)).filter((p) => !p.metadata.deletionTimestamp);

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  client = new ApiClient(api.url);
  const controllers = [
    new NamespaceController(),
    new ServiceAccountsController(),
    new RootCACertPublisher(FAKE_CA),
    new GarbageCollector(),
    new ReplicaSetController(),
    new DeploymentController(),
  ];
  running = runControllers(client, controllers, 2, abort.signal, logger('test-controller-manager'));
}, 60_000);

afterAll(async () => {
  abort.abort();
  await running;
  await api?.stop();
  await redis?.stop();
});

test('every new namespace gets a default service account and kube-root-ca.crt', async () => {
  await client.create('/api/v1/namespaces', { metadata: { name: 'defaults' } });
  await eventually('default sa', () => client.get('/api/v1/namespaces/defaults/serviceaccounts/default'));
  const cm = await eventually('root ca', () => client.get<any>('/api/v1/namespaces/defaults/configmaps/kube-root-ca.crt'));
  expect(cm.data['ca.crt']).toBe(FAKE_CA);
  // A deleted default service account comes back.
  await client.delete('/api/v1/namespaces/defaults/serviceaccounts/default');
  await eventually('default sa again', () => client.get('/api/v1/namespaces/defaults/serviceaccounts/default'));
});

test('a deployment gets a ReplicaSet and pods; scaling down deletes pods', async () => {
  await client.create('/api/v1/namespaces', { metadata: { name: 'apps' } });
  await client.create('/apis/apps/v1/namespaces/apps/deployments', {
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
    },
  });
  const rs = await eventually('replicaset', async () => (await list('/apis/apps/v1/namespaces/apps/replicasets'))[0]);
  expect(rs.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  expect(rs.metadata.labels['pod-template-hash']).toBe(rs.metadata.name.slice(4));
  expect(rs.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
  expect(rs.metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true, blockOwnerDeletion: true });
  const pods = await eventually('3 pods', async () => {
    const p = await activePods('apps', 'app=web');
    return p.length === 3 ? p : undefined;
  });
  for (const p of pods) expect(p.metadata.ownerReferences[0]).toMatchObject({ kind: 'ReplicaSet', name: rs.metadata.name, controller: true });
  await eventually('rs status', async () => (await client.get<any>(`/apis/apps/v1/namespaces/apps/replicasets/${rs.metadata.name}`)).status?.replicas === 3);
  await eventually('deployment status', async () => {
    const d = await client.get<any>('/apis/apps/v1/namespaces/apps/deployments/web');
    return d.status?.replicas === 3 && d.status?.updatedReplicas === 3 && d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1';
  });
  const events = await list('/api/v1/namespaces/apps/events');
  expect(events.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set ${rs.metadata.name} from 0 to 3`)).toBe(true);
  await eventually('SuccessfulCreate', async () => (await list('/api/v1/namespaces/apps/events')).some((e) => e.reason === 'SuccessfulCreate'));

  await client.patch('/apis/apps/v1/namespaces/apps/deployments/web', { spec: { replicas: 1 } }, 'merge');
  await eventually('1 pod', async () => (await activePods('apps', 'app=web')).length === 1);
  await new Promise((r) => setTimeout(r, 500));
  expect(await activePods('apps', 'app=web')).toHaveLength(1);

  // A new template makes a second ReplicaSet with revision 2.
  await client.patch('/apis/apps/v1/namespaces/apps/deployments/web', { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } } }, 'strategic');
  const rs2 = await eventually('second rs', async () =>
    (await list('/apis/apps/v1/namespaces/apps/replicasets')).find((r) => r.metadata.annotations['deployment.kubernetes.io/revision'] === '2'),
  );
  expect(rs2.spec.template.spec.containers[0].image).toBe('busybox:1.37');
});

test('orphaned and owned dependents: garbage collection', async () => {
  await client.create('/api/v1/namespaces', { metadata: { name: 'gc' } });
  const owner = await client.create<any>('/api/v1/namespaces/gc/configmaps', { metadata: { name: 'owner' } });
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid };
  await client.create('/api/v1/namespaces/gc/configmaps', { metadata: { name: 'dep', ownerReferences: [ref] } });
  await client.create('/api/v1/namespaces/gc/secrets', { metadata: { name: 'dep2', ownerReferences: [ref] } });
  await client.delete('/api/v1/namespaces/gc/configmaps/owner');
  await eventually('dependents collected', async () => {
    const cms = (await list('/api/v1/namespaces/gc/configmaps')).map((c) => c.metadata.name);
    const secrets = (await list('/api/v1/namespaces/gc/secrets')).map((c) => c.metadata.name);
    return !cms.includes('dep') && !secrets.includes('dep2');
  });

  const owner2 = await client.create<any>('/api/v1/namespaces/gc/configmaps', { metadata: { name: 'owner2' } });
  await client.create('/api/v1/namespaces/gc/configmaps', {
    metadata: { name: 'kept', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner2', uid: owner2.metadata.uid }] },
  });
  await client.delete('/api/v1/namespaces/gc/configmaps/owner2', { propagationPolicy: 'Orphan' });
  const kept = await eventually('orphaned', async () => {
    const names = (await list('/api/v1/namespaces/gc/configmaps')).map((c) => c.metadata.name);
    if (names.includes('owner2')) return undefined;
    return client.get<any>('/api/v1/namespaces/gc/configmaps/kept');
  });
  expect(kept.metadata.ownerReferences ?? []).toEqual([]);

  const owner3 = await client.create<any>('/api/v1/namespaces/gc/configmaps', { metadata: { name: 'owner3' } });
  await client.create('/api/v1/namespaces/gc/configmaps', {
    metadata: { name: 'blocker', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner3', uid: owner3.metadata.uid, blockOwnerDeletion: true }] },
  });
  await client.delete('/api/v1/namespaces/gc/configmaps/owner3', { propagationPolicy: 'Foreground' });
  await eventually('foreground deletion', async () => {
    const names = (await list('/api/v1/namespaces/gc/configmaps')).map((c) => c.metadata.name);
    return !names.includes('owner3') && !names.includes('blocker');
  });
});

test('deleting a namespace empties it and removes it', async () => {
  await eventually('apps pods exist', async () => (await activePods('apps', 'app=web')).length > 0);
  await client.delete('/api/v1/namespaces/apps');
  await eventually(
    'namespace gone',
    async () => {
      try {
        await client.get('/api/v1/namespaces/apps');
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    },
    30_000,
  ).catch(async (e) => {
    const ns = await client.get<any>('/api/v1/namespaces/apps').catch(() => undefined);
    throw new Error(`${(e as Error).message}; namespace: ${JSON.stringify(ns)}`);
  });
  expect(await list('/api/v1/namespaces/apps/pods')).toHaveLength(0);
  expect(await list('/apis/apps/v1/namespaces/apps/deployments')).toHaveLength(0);
});

test('leader election: one holder at a time', async () => {
  const cfg = { namespace: 'kube-system', name: 'test-lease', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
  const a = new LeaderElector(client, { ...cfg, identity: 'a' }, logger('test'));
  const b = new LeaderElector(client, { ...cfg, identity: 'b' }, logger('test'));
  expect(await a.tryAcquireOrRenew()).toBe(true);
  expect(await b.tryAcquireOrRenew()).toBe(false);
  expect(await a.tryAcquireOrRenew()).toBe(true);
  await a.release();
  await new Promise((r) => setTimeout(r, 1100));
  expect(await b.tryAcquireOrRenew()).toBe(true);
});
