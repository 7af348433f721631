// Acknowledged writes survive crashes (issue 9): under a steady write load from several clients,
// kill -9 the API server, then Redis (appendfsync always), repeatedly; after each restart a
// fresh LIST holds every acknowledged write at its acknowledged resourceVersion, acknowledged
// deletes are gone, and no unacknowledged create exists twice. With appendfsync everysec the
// writes a crash loses are measured and their window printed.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call, watch } from '../support/http.js';
import { sleep, until } from '../support/wait.js';
import { pick } from './mode.js';
import { printFigures } from './figures.js';
import { hostCrashSimulator, listWritten, verifyAcknowledged, Writers, type AckedWrite, type Found } from './storage-crash-workload.js';

const ROUNDS = pick(2, 10);
const LOAD_MS = pick(1200, 3000);
const WRITERS = 6;

let redis: RedisProcess | undefined;
let api: ApiServerProcess | undefined;

afterEach(async () => {
  await api?.stop();
  await redis?.stop();
  api = redis = undefined;
});

async function createNamespace(base: string, name: string): Promise<void> {
  const r = await call(base, 'POST', '/api/v1/namespaces', { metadata: { name } });
  if (r.status !== 201) throw new Error(`namespace ${name}: ${r.status}`);
}

/** Waits until the API server answers a consistent LIST again (after a restart of it or of Redis). */
async function serving(base: string, namespace: string): Promise<number> {
  const started = Date.now();
  await until('the API server to serve a consistent list', async () => (await call(base, 'GET', `/api/v1/namespaces/${namespace}/configmaps?limit=1`)).status === 200, 30_000);
  return Date.now() - started;
}

test('acknowledged writes survive kill -9 of the API server and of Redis (appendfsync always)', async () => {
  redis = await startRedis({ appendfsync: 'always' });
  api = await startApiServer(redis.url);
  const server = api;
  const ns = 'robustness-crash';
  await createNamespace(server.url, ns);
  const writers = new Writers(() => server.url, ns, WRITERS);
  writers.start();

  const checks: { after: string; acknowledged: number; found: number }[] = [];
  const verify = async (after: string) => {
    await writers.pause();
    const verdict = verifyAcknowledged(writers, await listWritten(server.url, ns));
    writers.resume();
    checks.push({ after, acknowledged: verdict.acknowledged, found: verdict.found });
    expect({ after, missing: verdict.missing.slice(0, 10), duplicates: verdict.duplicateAttempts }).toEqual({ after, missing: [], duplicates: [] });
    expect(verdict.found).toBe(verdict.acknowledged);
  };

  let apiRecoveryMs = 0, redisRecoveryMs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(LOAD_MS);
    await server.restart();
    apiRecoveryMs = Math.max(apiRecoveryMs, await serving(server.url, ns));
    await verify(`api server kill -9 #${round + 1}`);

    await sleep(LOAD_MS);
    await redis.restart();
    redisRecoveryMs = Math.max(redisRecoveryMs, await serving(server.url, ns));
    await verify(`redis kill -9 #${round + 1}`);
  }
  await sleep(LOAD_MS);
  await writers.stop();
  await verify('end of load');

  const last = checks.at(-1)!;
  printFigures('storage-crash always', {
    rounds: ROUNDS,
    apiServerKills: ROUNDS,
    redisKills: ROUNDS,
    writers: WRITERS,
    acknowledgedWrites: writers.acked.length,
    unacknowledgedAttempts: writers.unackedWrites,
    checks: checks.length,
    acknowledgedStatesLastCheck: last.acknowledged,
    foundLastCheck: last.found,
    acknowledgedStatesAllChecks: checks.reduce((n, c) => n + c.acknowledged, 0),
    foundAllChecks: checks.reduce((n, c) => n + c.found, 0),
    maxRedisRecoveryMs: redisRecoveryMs,
  });
  expect(writers.acked.length).toBeGreaterThan(50);
  expect(server.output()).not.toMatch(/inconsistent with storage/);
}, pick(120_000, 900_000));

/** The writes acknowledged whose effect is not in `found` (a later state of its key survived, or not). */
function lostWrites(acked: AckedWrite[], found: Map<string, Found>, uncertain: Set<string>): AckedWrite[] {
  const last = new Map<string, AckedWrite>();
  for (const w of acked) last.set(w.key, w);
  const survived = (key: string): number => {
    const f = found.get(key);
    if (f) return f.rv;
    // Absent: right if the key's last acknowledged write was its delete (and that survived).
    return last.get(key)?.op === 'delete' ? Infinity : 0;
  };
  return acked.filter((w) => !uncertain.has(w.key) && w.rv > survived(w.key));
}

test('appendfsync everysec: the writes a crash loses are measured and span at most the documented window', async () => {
  redis = await startRedis({ appendfsync: 'everysec' });
  api = await startApiServer(redis.url);
  const server = api;
  const ns = 'robustness-everysec';
  await createNamespace(server.url, ns);

  // 1. kill -9 of the Redis process. What Redis wrote to the AOF stays in the page cache, so a
  //    process crash (unlike a host crash) should lose nothing even without an fsync.
  let writers = new Writers(() => server.url, ns, WRITERS, undefined, 'p');
  writers.start();
  await sleep(LOAD_MS);
  let killedAt = Date.now();
  await redis.kill();
  await sleep(300);
  await redis.restart();
  await serving(server.url, ns);
  await writers.stop();
  let lost = lostWrites(writers.acked, await listWritten(server.url, ns), writers.uncertain);
  const processCrash = { acknowledged: writers.acked.length, lost: lost.length, windowMs: lost.length ? killedAt - Math.min(...lost.map((w) => w.at)) : 0 };

  // 2. A host crash, simulated: Redis killed and its AOF cut back to what it held a second
  //    before (the most an everysec fsync can leave unsynced). Acknowledged writes in that
  //    second are lost; every write acknowledged before it must survive, no revision may be
  //    handed out twice, and the API server must recover its caches by itself.
  writers = new Writers(() => server.url, ns, WRITERS, undefined, 'h');
  writers.start();
  // A watch open across the crash: its cache is reloaded across lost writes, so it must end with 410.
  const listRv = (await call(server.url, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).body.metadata.resourceVersion as string;
  const watcher = watch(server.url, `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=${listRv}`);
  const simulator = hostCrashSimulator(redis.dir);
  await sleep(LOAD_MS + 1000);
  const crashed = await simulator.crash(() => redis!.kill());
  killedAt = crashed.killedAt;
  const cut = { at: crashed.cutAt };
  await redis.restart();
  const recoveryMs = await serving(server.url, ns);
  await sleep(500);
  await writers.stop();
  const found = await listWritten(server.url, ns);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([watcher.ended, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  watcher.stop();
  const watchEnd = watcher.events.at(-1);
  lost = lostWrites(writers.acked, found, writers.uncertain);
  const hostCrash = { acknowledged: writers.acked.length, lost: lost.length, windowMs: lost.length ? killedAt - Math.min(...lost.map((w) => w.at)) : 0 };
  // Everything acknowledged before the cut was in the file we kept.
  const lostBeforeCut = lost.filter((w) => w.at < cut.at);

  // No revision is reused: a write now gets a revision past every one acknowledged before the crash.
  const maxAcked = Math.max(...writers.acked.filter((w) => w.resource === 'configmaps' && w.at < killedAt && Number.isFinite(w.rv)).map((w) => w.rv));
  const after = await call(server.url, 'POST', `/api/v1/namespaces/${ns}/configmaps`, { metadata: { name: 'after-crash' } });
  expect(after.status).toBe(201);
  const afterRv = Number((after.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
  // And the cache is consistent with Redis again: the checker (on in tests) would have ended the server.
  await sleep(2500);
  expect((await call(server.url, 'GET', '/readyz')).status).toBe(200);

  printFigures('storage-crash everysec', {
    processCrashAcknowledged: processCrash.acknowledged,
    processCrashLost: processCrash.lost,
    processCrashLostWindowMs: processCrash.windowMs,
    hostCrashAcknowledged: hostCrash.acknowledged,
    hostCrashLost: hostCrash.lost,
    hostCrashLostWindowMs: hostCrash.windowMs,
    hostCrashLostBeforeCut: lostBeforeCut.length,
    recoveryMs,
    maxAckedRvBeforeCrash: maxAcked,
    firstRvAfterCrash: afterRv,
    watchEndedWith: watchEnd ? `${watchEnd.type}:${watchEnd.object.code ?? ''}` : 'nothing',
  });
  // The documented window is 1 s (one fsync per second). 1.5 s allows for the 50 ms AOF
  // sampling, the writers' own clocks and event-loop delays on a loaded 2-core CI machine.
  expect(processCrash.windowMs).toBeLessThanOrEqual(1500);
  expect(hostCrash.windowMs).toBeLessThanOrEqual(1500);
  expect(lostBeforeCut.map((w) => `${w.key}@${w.rv}`)).toEqual([]);
  expect(afterRv).toBeGreaterThan(maxAcked);
  if (hostCrash.lost > 0) expect({ type: watchEnd?.type, code: watchEnd?.object.code }).toEqual({ type: 'ERROR', code: 410 });
  expect(server.output()).not.toMatch(/inconsistent with storage/);
}, pick(90_000, 300_000));
