// The watch-cache consistency checker (issue 9): on in tests, it compares each type's cache with
// Redis at one revision every interval. It stays quiet under normal load, and a change made
// behind the API server's back (no event in the stream, so the tail cannot see it) is reported
// loudly: an error naming the type, revision, digests and differing key, and, in the mode tests
// run in, the process exits non-zero.
import { Redis } from 'ioredis';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';
import { sleep, until } from '../support/wait.js';
import { pick } from './mode.js';
import { printFigures } from './figures.js';

const NS = 'robustness-consistency';
let redis: RedisProcess | undefined;
let api: ApiServerProcess | undefined;
afterEach(async () => {
  await api?.stop();
  await redis?.stop();
  api = redis = undefined;
});

const checker = (action: 'exit' | 'log') => ['--watch-cache-consistency-check-interval', '300ms', '--watch-cache-consistency-check-action', action, '--v', '2'];

/** The Redis hash holding the configmaps (found by pattern, as the tail never would). */
async function objectsKey(c: Redis): Promise<string> {
  const [, keys] = await c.scan('0', 'MATCH', '*configmaps}:objects', 'COUNT', 10000);
  expect(keys).toHaveLength(1);
  return keys[0];
}

const rounds = (out: string) => [...out.matchAll(/"msg":"consistency check round"/g)].length;

test('quiet under load, then a write behind the server\'s back makes it report and exit', async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url, checker('exit'));
  const base = api.url;
  expect((await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);

  // Normal operation: creates, updates and deletes while the checker runs.
  const loadMs = pick(3000, 15_000);
  const end = Date.now() + loadMs;
  let writes = 0;
  for (let i = 0; Date.now() < end; i++) {
    const r = await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: `c${i}` }, data: { i: String(i) } });
    expect(r.status).toBe(201);
    if (i % 3 === 1) expect((await call(base, 'PUT', `/api/v1/namespaces/${NS}/configmaps/c${i}`, { metadata: { name: `c${i}` }, data: { i: 'x' } })).status).toBe(200);
    if (i % 3 === 2) expect((await call(base, 'DELETE', `/api/v1/namespaces/${NS}/configmaps/c${i - 1}`)).status).toBe(200);
    writes++;
  }
  await sleep(700);
  const quietRounds = rounds(api.output());
  expect(quietRounds).toBeGreaterThanOrEqual(3);
  expect(api.output()).not.toMatch(/inconsistent with storage/);
  expect((await call(base, 'GET', '/readyz')).status).toBe(200);

  // Behind its back: c0's stored revision changes in the objects hash, with no event.
  const c = new Redis(redis.url);
  const key = await objectsKey(c);
  const stored = (await c.hget(key, `${NS}/c0`))!;
  const cachedRv = stored.slice(0, stored.indexOf(' '));
  const tampered = Number(cachedRv) + 100_000;
  const tamperedAt = Date.now();
  await c.hset(key, `${NS}/c0`, `${tampered} ${stored.slice(stored.indexOf(' ') + 1)}`);
  c.disconnect();

  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([api.exited(), new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 10_000)))]);
  clearTimeout(timer);
  const detectMs = Date.now() - tamperedAt;
  printFigures('watch-cache-consistency', { writes, quietRounds, detectMs, exitCode: String(code) });
  expect(code).toBe(3);
  const out = api.output();
  expect(out).toMatch(/watch cache is inconsistent with storage/);
  expect(out).toContain(`${NS}/c0 redis=${tampered} cache=${cachedRv}`);
  expect(out).toMatch(/"type":"core\/configmaps"/);
  expect(out).toMatch(/"redisDigest":"[0-9a-f]+","cacheDigest":"[0-9a-f]+"/);
}, pick(60_000, 120_000));

test('in log mode a divergence (an object removed behind its back) is logged and the server keeps serving', async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url, checker('log'));
  const base = api.url;
  expect((await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  expect((await call(base, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'gone' } })).status).toBe(201);
  const c = new Redis(redis.url);
  await c.hdel(await objectsKey(c), `${NS}/gone`);
  c.disconnect();
  const server = api;
  await until('the divergence to be logged', async () => /inconsistent with storage/.test(server.output()), 10_000);
  expect(server.output()).toMatch(new RegExp(`${NS}/gone redis=absent cache=\\d+`));
  expect((await call(base, 'GET', '/readyz')).status).toBe(200);
}, 60_000);
