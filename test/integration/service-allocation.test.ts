// Cluster IPs and node ports are unique under concurrent creates, survive an API server restart,
// and are released when the service is deleted.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const svcs = '/api/v1/namespaces/default/services';
const svc = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } });

beforeAll(async () => {
  redis = await startRedis();
  // A /29 leaves five dynamic addresses, so exhaustion and reuse are quick to reach.
  api = await startApiServer(redis.url, ['--service-cluster-ip-range', '10.200.0.0/29']);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

test('the kubernetes service holds the first address of the range', async () => {
  const k = await call(api.url, 'GET', `${svcs}/kubernetes`);
  expect(k.body.spec.clusterIP).toBe('10.200.0.1');
  expect(k.body.spec.clusterIPs).toEqual(['10.200.0.1']);
});

test('concurrent creates get unique addresses until the range is full; delete releases', async () => {
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => call(api.url, 'POST', svcs, svc(`s${i}`))));
  const ok = results.filter((r) => r.status === 201);
  expect(ok).toHaveLength(5);
  const ips = ok.map((r) => r.body.spec.clusterIP);
  expect(new Set(ips).size).toBe(5);
  for (const ip of ips) expect(ip).toMatch(/^10\.200\.0\.[2-6]$/);
  const full = results.find((r) => r.status !== 201)!;
  expect(full.status).toBe(422);
  expect(full.body.message).toContain('failed to allocate a serviceIP: range is full');

  await api.stop();
  api = await startApiServer(redis.url, ['--service-cluster-ip-range', '10.200.0.0/29'], api.port);
  const again = await call(api.url, 'POST', svcs, svc('after-restart'));
  expect(again.status).toBe(422);

  const victim = ok[0].body.metadata.name;
  expect((await call(api.url, 'DELETE', `${svcs}/${victim}`)).status).toBe(200);
  const reuse = await call(api.url, 'POST', svcs, svc('reuse'));
  expect(reuse.status).toBe(201);
  expect(reuse.body.spec.clusterIP).toBe(ok[0].body.spec.clusterIP);
});

test('a requested address that is taken is refused; headless and ExternalName get none', async () => {
  const taken = (await call(api.url, 'GET', `${svcs}/reuse`)).body.spec.clusterIP;
  const clash = await call(api.url, 'POST', svcs, svc('clash', { clusterIP: taken }));
  expect(clash.status).toBe(422);
  expect(clash.body.message).toContain('provided IP is already allocated');
  const headless = await call(api.url, 'POST', svcs, svc('headless', { clusterIP: 'None' }));
  expect(headless.body.spec.clusterIPs).toEqual(['None']);
  const ext = await call(api.url, 'POST', svcs, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
  expect(ext.status).toBe(201);
  expect(ext.body.spec.clusterIP).toBeUndefined();
});

test('node ports are unique, in range, and a requested one that is taken is refused', async () => {
  for (const name of ['reuse', 's1', 's2', 's3', 's4', 's5']) await call(api.url, 'DELETE', `${svcs}/${name}`);
  const a = await call(api.url, 'POST', svcs, svc('np-a', { type: 'NodePort', ports: [{ port: 80 }, { port: 81, name: 'b' }].map((p, i) => ({ ...p, name: `p${i}` })) }));
  expect(a.status).toBe(201);
  const ports = a.body.spec.ports.map((p: { nodePort: number }) => p.nodePort);
  expect(new Set(ports).size).toBe(2);
  for (const p of ports) expect(p >= 30000 && p <= 32767).toBe(true);
  const clash = await call(api.url, 'POST', svcs, svc('np-b', { type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] }));
  expect(clash.status).toBe(422);
  expect(clash.body.message).toContain('provided port is already allocated');
});
