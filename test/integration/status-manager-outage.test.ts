// The node agent's status manager and pod sources while the API server is away, against a
// real API server that is killed and started again on the same port: a status set during the
// outage neither fails its caller nor gets lost (it is written by itself once the API server is
// back), and the config maps a pod mounts keep being served from the last copy read.
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1.js';
import { ApiClient } from '../../node-agent/api.js';
import { PodSourceResolver } from '../../node-agent/pod-sources.js';
import { StatusManager } from '../../node-agent/status-manager.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';

const NS = 'status-outage';
let redis: RedisProcess;
let api: ApiServerProcess;
let client: ApiClient;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  client = ApiClient.fromBaseUrl(api.url);
  expect((await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status).toBe(201);
  // No controller manager runs: the ServiceAccount admission wants the namespace's `default`.
  expect((await call(api.url, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  client?.close();
  await api?.stop();
  await redis?.stop();
});

test('a status set while the API server is down is kept and written when it returns; mounted config is served from the last copy', async () => {
  const created = await call<Pod>(api.url, 'POST', `/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'outage' },
    spec: { nodeName: 'n1', automountServiceAccountToken: false, containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }] },
  });
  expect(created.status).toBe(201);
  expect((await call<ConfigMap>(api.url, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { k: 'v1' } })).status).toBe(201);
  const pod = created.body;
  const uid = pod.metadata!.uid!;

  const status = new StatusManager(client);
  const sources = new PodSourceResolver(client);
  try {
    expect(await status.setStatus(pod, { phase: 'Pending', hostIP: '10.0.0.1' })).toBe(true);
    expect((await sources.volumes(pod)).get('cfg')?.k?.toString()).toBe('v1');

    await api.kill();
    // Neither call fails while nothing answers: the status waits, the config map comes from the last read.
    expect(await status.setStatus(pod, { phase: 'Running', hostIP: '10.0.0.1' })).toBe(false);
    expect(status.written(uid)).toBe(false);
    // The agent's own view already has it (the next sync computes from it, not from the stale copy).
    expect(status.knownStatus(pod)?.phase).toBe('Running');
    // Past the refresh interval the resolver asks again, fails, and still serves the copy it has.
    const realNow = Date.now;
    Date.now = () => realNow() + 60_000;
    try {
      expect((await sources.volumes(pod)).get('cfg')?.k?.toString()).toBe('v1');
    } finally {
      Date.now = realNow;
    }

    api = await startApiServer(redis.url, [], api.port);
    await until('the kept status written', async () => status.written(uid), 20_000);
    const now = await call<Pod>(api.url, 'GET', `/api/v1/namespaces/${NS}/pods/outage`);
    expect(now.body.status?.phase).toBe('Running');
  } finally {
    status.close();
  }
}, 60_000);
