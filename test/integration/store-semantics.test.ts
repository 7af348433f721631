// Store semantics on a real Redis and a real API server process: optimistic concurrency,
// no-op writes, watch from a revision, 410 after the kept window, continue tokens.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call, watch } from '../support/http.js';

const WINDOW = 20;
let redis: RedisProcess;
let api: ApiServerProcess;
const ns = 'store-test';
const cms = `/api/v1/namespaces/${ns}/configmaps`;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url, ['--event-window', String(WINDOW)]);
  expect((await call(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

test('an update with a stale resourceVersion is a 409 Conflict', async () => {
  const created = await call(api.url, 'POST', cms, { metadata: { name: 'cas' }, data: { a: '1' } });
  expect(created.status).toBe(201);
  const stale = created.body;
  expect((await call(api.url, 'PUT', `${cms}/cas`, { ...stale, data: { a: '2' } })).status).toBe(200);
  const again = await call(api.url, 'PUT', `${cms}/cas`, { ...stale, data: { a: '3' } });
  expect(again.status).toBe(409);
  expect(again.body.reason).toBe('Conflict');
  expect(again.body.message).toContain('the object has been modified');
  expect((await call(api.url, 'GET', `${cms}/cas`)).body.data).toEqual({ a: '2' });
});

test('a no-op update keeps the resourceVersion', async () => {
  const created = (await call(api.url, 'POST', cms, { metadata: { name: 'noop' }, data: { a: '1' } })).body;
  const same = await call(api.url, 'PUT', `${cms}/noop`, created);
  expect(same.status).toBe(200);
  expect(same.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  const patched = await call(api.url, 'PATCH', `${cms}/noop`, { data: { a: '1' } }, 'application/merge-patch+json');
  expect(patched.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  const changed = await call(api.url, 'PATCH', `${cms}/noop`, { data: { a: '2' } }, 'application/merge-patch+json');
  expect(Number(changed.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
});

test('a watch from a revision replays the later changes in order', async () => {
  const created = (await call(api.url, 'POST', cms, { metadata: { name: 'replay' }, data: { n: '0' } })).body;
  for (let i = 1; i <= 3; i++) await call(api.url, 'PATCH', `${cms}/replay`, { data: { n: String(i) } }, 'application/merge-patch+json');
  await call(api.url, 'DELETE', `${cms}/replay`);
  const w = watch(api.url, `${cms}?watch=1&resourceVersion=${created.metadata.resourceVersion}&fieldSelector=metadata.name%3Dreplay`);
  const events = await w.waitFor(4);
  w.stop();
  expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED']);
  expect(events.slice(0, 3).map((e) => e.object.data.n)).toEqual(['1', '2', '3']);
  const revs = events.map((e) => Number(e.object.metadata.resourceVersion));
  expect([...revs].sort((a, b) => a - b)).toEqual(revs);
});

test('a watch from before the kept window gets 410 Gone', async () => {
  const first = (await call(api.url, 'POST', cms, { metadata: { name: 'churn' }, data: { n: '0' } })).body;
  // Redis trims streams in whole nodes, so write well past the window.
  for (let i = 1; i <= 400; i++) await call(api.url, 'PATCH', `${cms}/churn`, { data: { n: String(i) } }, 'application/merge-patch+json');
  const w = watch(api.url, `${cms}?watch=1&resourceVersion=${first.metadata.resourceVersion}`);
  const events = await w.waitFor(1);
  w.stop();
  expect(events[0].type).toBe('ERROR');
  expect(events[0].object.code).toBe(410);
  expect(events[0].object.reason).toBe('Expired');
});

test('continue tokens page through a consistent snapshot and expire with the window', async () => {
  const pns = 'paging';
  await call(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: pns } });
  for (let i = 0; i < 10; i++) await call(api.url, 'POST', `/api/v1/namespaces/${pns}/configmaps`, { metadata: { name: `p${i}` } });
  const page1 = (await call(api.url, 'GET', `/api/v1/namespaces/${pns}/configmaps?limit=4`)).body;
  expect(page1.items).toHaveLength(4);
  expect(page1.metadata.continue).toBeTruthy();
  // A change after the first page is not seen by the rest of the paged list.
  await call(api.url, 'POST', `/api/v1/namespaces/${pns}/configmaps`, { metadata: { name: 'p99' } });
  const names: string[] = page1.items.map((i: any) => i.metadata.name);
  let token = page1.metadata.continue;
  while (token) {
    const page = (await call(api.url, 'GET', `/api/v1/namespaces/${pns}/configmaps?limit=4&continue=${encodeURIComponent(token)}`)).body;
    names.push(...page.items.map((i: any) => i.metadata.name));
    token = page.metadata.continue;
  }
  expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
  const old = (await call(api.url, 'GET', `/api/v1/namespaces/${pns}/configmaps?limit=2`)).body.metadata.continue;
  for (let i = 0; i < WINDOW + 5; i++) await call(api.url, 'PATCH', `/api/v1/namespaces/${pns}/configmaps/p0`, { data: { n: String(i) } }, 'application/merge-patch+json');
  const expired = await call(api.url, 'GET', `/api/v1/namespaces/${pns}/configmaps?limit=2&continue=${encodeURIComponent(old)}`);
  expect(expired.status).toBe(410);
  expect(expired.body.reason).toBe('Expired');
});

test('a watch from a revision the server has not reached ends with a Timeout error event', async () => {
  const list = (await call(api.url, 'GET', cms)).body;
  const future = Number(list.metadata.resourceVersion) + 1000;
  const w = watch(api.url, `${cms}?watch=1&resourceVersion=${future}`);
  const events = await w.waitFor(1, 8000);
  w.stop();
  expect(events[0].type).toBe('ERROR');
  expect(events[0].object).toMatchObject({ code: 504, reason: 'Timeout' });
});

test('a list with resourceVersionMatch=Exact returns the objects as they were', async () => {
  const created = (await call(api.url, 'POST', cms, { metadata: { name: 'exact' }, data: { v: 'old' } })).body;
  await call(api.url, 'PATCH', `${cms}/exact`, { data: { v: 'new' } }, 'application/merge-patch+json');
  const then = await call(api.url, 'GET', `${cms}?resourceVersion=${created.metadata.resourceVersion}&resourceVersionMatch=Exact&fieldSelector=metadata.name%3Dexact`);
  expect(then.body.items.map((i: any) => i.data.v)).toEqual(['old']);
  expect(then.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  const now = await call(api.url, 'GET', `${cms}?fieldSelector=metadata.name%3Dexact`);
  expect(now.body.items.map((i: any) => i.data.v)).toEqual(['new']);
});
