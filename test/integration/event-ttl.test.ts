// Events expire --event-ttl after their last write, as upstream's etcd lease does: a watcher
// sees DELETED, and an Event written again in the meantime lives on.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call, watch } from '../support/http.js';
import { sleep, until } from '../support/wait.js';

const TTL_SECONDS = 3;
let redis: RedisProcess;
let api: ApiServerProcess;
const ns = 'event-ttl';
const events = `/api/v1/namespaces/${ns}/events`;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url, ['--event-ttl', `${TTL_SECONDS}s`]);
  expect((await call(api.url, 'POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

const event = (name: string) => ({
  metadata: { name },
  involvedObject: { kind: 'Pod', namespace: ns, name: 'p' },
  reason: 'Tested', message: name, type: 'Normal', count: 1,
  firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(),
});

test('an Event is deleted once its TTL has passed since its last write, and one written again lives on', async () => {
  const created = await call(api.url, 'POST', events, event('old'));
  expect(created.status).toBe(201);
  expect((await call(api.url, 'POST', events, event('refreshed'))).status).toBe(201);
  const w = watch(api.url, `${events}?watch=true&resourceVersion=${created.body.metadata.resourceVersion}`);
  try {
    const started = Date.now();
    // Refresh one Event as a recorder does for a repeated event (count and lastTimestamp).
    for (let count = 2; Date.now() - started < (TTL_SECONDS + 2) * 1000; count++) {
      const patched = await call(api.url, 'PATCH', `${events}/refreshed`, { count, lastTimestamp: new Date().toISOString() }, 'application/merge-patch+json');
      expect(patched.status).toBe(200);
      await sleep(500);
    }
    const deleted = await until('the expired Event is deleted', async () => w.events.find((e) => e.type === 'DELETED'), 10_000);
    expect(deleted.object.metadata.name).toBe('old');
    expect(Date.now() - started).toBeGreaterThanOrEqual(TTL_SECONDS * 1000 - 500);
    expect((await call(api.url, 'GET', `${events}/old`)).status).toBe(404);
    expect((await call(api.url, 'GET', `${events}/refreshed`)).status).toBe(200);
    expect(w.events.filter((e) => e.type === 'DELETED').map((e) => e.object.metadata.name)).toEqual(['old']);
  } finally {
    w.stop();
  }
});
