// Concurrent writers never lose an update: 20 clients x 50 read-modify-write increments of one
// object, retrying on 409, end at exactly 1000; a watch from a list's resourceVersion sees
// every change exactly once, in order.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call, watch } from '../support/http.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const path = '/api/v1/namespaces/default/configmaps';

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

test('20 clients x 50 increments with retry on conflict give exactly 1000', async () => {
  expect((await call(api.url, 'POST', path, { metadata: { name: 'counter' }, data: { n: '0' } })).status).toBe(201);
  const list = (await call(api.url, 'GET', `${path}?fieldSelector=metadata.name%3Dcounter`)).body;
  const w = watch(api.url, `${path}?watch=1&resourceVersion=${list.metadata.resourceVersion}&fieldSelector=metadata.name%3Dcounter`);
  let conflicts = 0;
  const client = async () => {
    for (let i = 0; i < 50; i++) {
      for (;;) {
        const cur = (await call(api.url, 'GET', `${path}/counter`)).body;
        cur.data.n = String(Number(cur.data.n) + 1);
        const put = await call(api.url, 'PUT', `${path}/counter`, cur);
        if (put.status === 200) break;
        expect(put.status).toBe(409);
        conflicts++;
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, client));
  const final = (await call(api.url, 'GET', `${path}/counter`)).body;
  expect(final.data.n).toBe('1000');
  expect(conflicts).toBeGreaterThan(0);
  const events = await w.waitFor(1000, 20_000);
  w.stop();
  expect(events).toHaveLength(1000);
  expect(events.every((e) => e.type === 'MODIFIED')).toBe(true);
  expect(events.map((e) => Number(e.object.data.n))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  const revs = events.map((e) => Number(e.object.metadata.resourceVersion));
  expect(new Set(revs).size).toBe(1000);
  expect(revs.every((r, i) => i === 0 || r > revs[i - 1])).toBe(true);
});
