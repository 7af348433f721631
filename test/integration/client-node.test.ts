// The official JavaScript client (@kubernetes/client-node 1.4.x) drives a real API server
// unchanged: typed create/read/list/patch/delete and an informer fed by list+watch.
import * as k8s from '@kubernetes/client-node';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';

let redis: RedisProcess;
let api: ApiServerProcess;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'podium', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'test' }],
    contexts: [{ name: 'podium', cluster: 'podium', user: 'test' }],
    currentContext: 'podium',
  });
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

test('typed CRUD through CoreV1Api and AppsV1Api', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: 'client-node' } } });
  const cm = await core.createNamespacedConfigMap({ namespace: 'client-node', body: { metadata: { name: 'c1', labels: { app: 'x' } }, data: { k: 'v' } } });
  expect(cm.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
  const read = await core.readNamespacedConfigMap({ namespace: 'client-node', name: 'c1' });
  expect(read.data).toEqual({ k: 'v' });
  const listed = await core.listNamespacedConfigMap({ namespace: 'client-node', labelSelector: 'app=x' });
  expect(listed.items.map((i) => i.metadata?.name)).toEqual(['c1']);
  await expect(core.readNamespacedConfigMap({ namespace: 'client-node', name: 'missing' })).rejects.toMatchObject({ code: 404 });

  const dep = await apps.createNamespacedDeployment({
    namespace: 'client-node',
    body: { metadata: { name: 'd1' }, spec: { selector: { matchLabels: { app: 'd1' } }, template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } },
  });
  expect(dep.spec?.replicas).toBe(1);
  expect(dep.spec?.strategy?.type).toBe('RollingUpdate');
  const patched = await apps.patchNamespacedDeployment(
    { namespace: 'client-node', name: 'd1', body: { spec: { replicas: 4 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  expect(patched.spec?.replicas).toBe(4);
  expect(patched.metadata?.generation).toBe(2);
  const scale = await apps.readNamespacedDeploymentScale({ namespace: 'client-node', name: 'd1' });
  expect(scale.spec?.replicas).toBe(4);
  await apps.deleteNamespacedDeployment({ namespace: 'client-node', name: 'd1' });
  await expect(apps.readNamespacedDeployment({ namespace: 'client-node', name: 'd1' })).rejects.toMatchObject({ code: 404 });
});

test('an informer sees adds, updates and deletes', async () => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'informer' } } });
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/informer/configmaps', () => core.listNamespacedConfigMap({ namespace: 'informer' }));
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
  informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${o.data?.n}`));
  informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
  await informer.start();
  await core.createNamespacedConfigMap({ namespace: 'informer', body: { metadata: { name: 'i1' }, data: { n: '1' } } });
  await core.replaceNamespacedConfigMap({ namespace: 'informer', name: 'i1', body: { metadata: { name: 'i1' }, data: { n: '2' } } });
  await core.deleteNamespacedConfigMap({ namespace: 'informer', name: 'i1' });
  const end = Date.now() + 10_000;
  while (seen.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  await informer.stop();
  expect(seen).toEqual(['add:i1', 'update:i1:2', 'delete:i1']);
});
