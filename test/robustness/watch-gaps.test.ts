// Watches are gap-free (issue 9): clients watching configmaps through kill -9 restarts of the
// API server and of Redis (appendfsync always) either continue with every event exactly once
// and in order, or get 410 and relist; never a silent gap or duplicate. A last round crashes
// Redis so that it comes back without its last second of writes (a host crash under everysec,
// simulated): events the watchers saw are gone from storage, so each must end with 410 and
// relist. Each watcher re-watches from its last resourceVersion when its stream ends and
// relists on 410. A checker replays each watcher's log (relist snapshots + events) against the
// storage's own event history and the final LIST.
import * as k8s from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';
import { sleep, until } from '../support/wait.js';
import { pick } from './mode.js';
import { printFigures } from './figures.js';
import { hostCrashSimulator, LABEL, Writers } from './storage-crash-workload.js';

const ROUNDS = pick(2, 10);
const LOAD_MS = pick(1200, 3000);
const NS = 'robustness-watch';
const SELECTOR = `${LABEL}%3Dtrue`;

interface WatchedEvent { type: string; name: string; rv: number }
interface Segment { listRv: number; snapshot: Map<string, number>; events: WatchedEvent[]; expired?: boolean }

interface RawEvent { type: string; object: { code?: number; metadata?: { name?: string; resourceVersion?: string } } }

/** A client that lists, watches from the list's resourceVersion, re-watches from its last one, and relists on 410. */
abstract class Watcher {
  readonly segments: Segment[] = [];
  relists = 0;
  rewatches = 0;
  lastRv = 0;
  protected running = true;
  private loop?: Promise<void>;

  constructor(readonly name: string, protected readonly base: string) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort();
    await this.loop;
  }

  private async list(): Promise<boolean> {
    const r = await call(this.base, 'GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=${SELECTOR}`).catch(() => undefined);
    if (r?.status !== 200) return false;
    const body = r.body as { metadata: { resourceVersion: string }; items: { metadata: { name: string; resourceVersion: string } }[] };
    const listRv = Number(body.metadata.resourceVersion);
    this.segments.push({ listRv, snapshot: new Map(body.items.map((i) => [i.metadata.name, Number(i.metadata.resourceVersion)])), events: [] });
    this.lastRv = listRv;
    return true;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      if (needList) {
        if (!(await this.list())) { await sleep(100); continue; }
        needList = false;
      }
      const outcome = await this.watchOnce();
      if (!this.running) return;
      if (outcome === 'expired') {
        this.relists++;
        this.segments.at(-1)!.expired = true;
        needList = true;
      } else {
        this.rewatches++;
        await sleep(50);
      }
    }
  }

  /** Returns an ERROR event's outcome: 410 means relist, anything else means watch again. */
  protected handle(ev: RawEvent): 'expired' | 'retry' | undefined {
    if (ev.type === 'ERROR') return ev.object.code === 410 ? 'expired' : 'retry';
    if (ev.type === 'BOOKMARK') return undefined;
    const rv = Number(ev.object.metadata!.resourceVersion);
    this.segments.at(-1)!.events.push({ type: ev.type, name: ev.object.metadata!.name!, rv });
    this.lastRv = rv;
    return undefined;
  }

  protected abstract watchOnce(): Promise<'expired' | 'ended'>;
  protected abstract abort(): void;
}

/** A raw chunked HTTP watch, read line by line. */
class RawWatcher extends Watcher {
  private ctrl?: AbortController;

  protected async watchOnce(): Promise<'expired' | 'ended'> {
    this.ctrl = new AbortController();
    try {
      const res = await fetch(`${this.base}/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${this.lastRv}&labelSelector=${SELECTOR}`, { signal: this.ctrl.signal });
      if (res.status === 410) return 'expired';
      if (res.status !== 200) { await res.body?.cancel(); return 'ended'; }
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return 'ended';
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          const outcome = this.handle(JSON.parse(line) as RawEvent);
          if (outcome) {
            this.ctrl.abort();
            return outcome === 'expired' ? 'expired' : 'ended';
          }
        }
      }
    } catch {
      return 'ended';
    }
  }

  protected abort(): void {
    this.ctrl?.abort();
  }
}

/** The same client logic through @kubernetes/client-node's Watch. */
class ClientNodeWatcher extends Watcher {
  private ctrl?: AbortController;
  private readonly watch: k8s.Watch;

  constructor(name: string, base: string) {
    super(name, base);
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'p', server: base, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'p', cluster: 'p', user: 'u' }], currentContext: 'p' });
    this.watch = new k8s.Watch(kc);
  }

  protected watchOnce(): Promise<'expired' | 'ended'> {
    return new Promise((resolve) => {
      let outcome: 'expired' | 'ended' = 'ended';
      const finish = () => resolve(outcome);
      this.watch.watch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: String(this.lastRv), labelSelector: `${LABEL}=true` }, (type, obj) => {
        if (outcome === 'expired') return;
        const o = this.handle({ type, object: obj as RawEvent['object'] });
        if (o === 'expired') outcome = 'expired';
        if (o) this.ctrl?.abort();
      }, () => finish()).then((c) => (this.ctrl = c), () => finish());
    });
  }

  protected abort(): void {
    this.ctrl?.abort();
  }
}

interface StoredChange { type: string; name: string; rv: number }

/** The storage's own event history of the namespace's configmaps (the Redis stream; nothing is trimmed in this test). */
async function history(redisUrl: string): Promise<StoredChange[]> {
  const c = new Redis(redisUrl);
  try {
    const [, keys] = await c.scan('0', 'MATCH', '*configmaps}:events', 'COUNT', 10000);
    expect(keys).toHaveLength(1);
    const entries = (await c.xrange(keys[0], '-', '+')) as [string, string[]][];
    const out: StoredChange[] = [];
    for (const [id, fields] of entries) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      if (!f.k.startsWith(`${NS}/`)) continue;
      out.push({ type: f.t, name: f.k.slice(NS.length + 1), rv: Number(id.split('-')[0]) });
    }
    return out;
  } finally {
    c.disconnect();
  }
}

interface Check { delivered: number; expected: number; lostThen410: number; problems: string[] }

/**
 * Replays one watcher's log: within a segment revisions strictly increase past the list's
 * revision, and the events are exactly the stored changes in (listRv, last event] (the final
 * segment: up to the end of history); the final state equals the final LIST.
 */
function replay(w: Watcher, changes: StoredChange[], finalList: Map<string, number>): Check {
  const problems: string[] = [];
  let delivered = 0, expected = 0, lostThen410 = 0;
  const endRv = changes.at(-1)?.rv ?? 0;
  w.segments.forEach((s, i) => {
    let prev = s.listRv;
    for (const e of s.events) {
      if (e.rv <= prev) problems.push(`${w.name} segment ${i}: rv ${e.rv} after ${prev} (duplicate or out of order)`);
      prev = e.rv;
    }
    const last = i === w.segments.length - 1 ? endRv : (s.events.at(-1)?.rv ?? s.listRv);
    const want = changes.filter((c) => c.rv > s.listRv && c.rv <= last);
    const stored = new Set(changes.map((c) => c.rv));
    let got = s.events.map((e) => `${e.type} ${e.name}@${e.rv}`);
    // Events of writes Redis then lost are allowed only as the tail of a segment that ended with 410.
    if (s.expired) {
      let keep = s.events.length;
      while (keep > 0 && !stored.has(s.events[keep - 1].rv)) keep--;
      lostThen410 += s.events.length - keep;
      got = got.slice(0, keep);
    }
    delivered += got.length;
    expected += want.length;
    const wanted = want.map((c) => `${c.type} ${c.name}@${c.rv}`);
    if (got.join() !== wanted.join()) {
      const gotSet = new Set(got), wantSet = new Set(wanted);
      problems.push(`${w.name} segment ${i} (${s.listRv}..${last}): missing ${wanted.filter((x) => !gotSet.has(x)).slice(0, 5).join(', ')}; unexpected ${got.filter((x) => !wantSet.has(x)).slice(0, 5).join(', ')}`);
    }
  });
  const finalSeg = w.segments.at(-1)!;
  const state = new Map(finalSeg.snapshot);
  for (const e of finalSeg.events) {
    if (e.type === 'DELETED') state.delete(e.name);
    else state.set(e.name, e.rv);
  }
  const diff = [...new Set([...state.keys(), ...finalList.keys()])].filter((k) => state.get(k) !== finalList.get(k));
  if (diff.length) problems.push(`${w.name}: replayed state differs from the final LIST at ${diff.slice(0, 5).join(', ')}`);
  return { delivered, expected, lostThen410, problems };
}

let redis: RedisProcess | undefined;
let api: ApiServerProcess | undefined;
afterEach(async () => {
  await api?.stop();
  await redis?.stop();
  api = redis = undefined;
});

test('watchers through kill -9 of the API server and of Redis see every event once, in order, or relist', async () => {
  redis = await startRedis({ appendfsync: 'always' });
  api = await startApiServer(redis.url, ['--event-window', '1000000']);
  const server = api;
  expect((await call(server.url, 'POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  const writers = new Writers(() => server.url, NS, 4, ['configmaps']);
  const watchers: Watcher[] = [new RawWatcher('raw-1', server.url), new RawWatcher('raw-2', server.url), new RawWatcher('raw-3', server.url), new ClientNodeWatcher('client-node', server.url)];
  for (const w of watchers) w.start();
  await until('watchers to list', async () => watchers.every((w) => w.segments.length > 0), 10_000);
  writers.start();

  const serving = () => until('the API server to serve', async () => (await call(server.url, 'GET', `/api/v1/namespaces/${NS}/configmaps?limit=1`)).status === 200, 30_000);
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(LOAD_MS);
    await server.restart();
    await serving();
    await sleep(LOAD_MS);
    await redis.restart();
    await serving();
  }
  const simulator = hostCrashSimulator(redis.dir);
  await sleep(LOAD_MS + 1000);
  const { cutAt } = await simulator.crash(() => redis!.kill());
  await redis.restart();
  await serving();
  await sleep(LOAD_MS);
  await writers.stop();

  const changes = await history(redis.url);
  const endRv = changes.at(-1)!.rv;
  await until('watchers to catch up', async () => watchers.every((w) => w.lastRv >= endRv), 20_000);
  for (const w of watchers) await w.stop();
  const list = await call(server.url, 'GET', `/api/v1/namespaces/${NS}/configmaps?labelSelector=${SELECTOR}`);
  const finalList = new Map((list.body as { items: { metadata: { name: string; resourceVersion: string } }[] }).items.map((i) => [i.metadata.name, Number(i.metadata.resourceVersion)]));

  // Every acknowledged write is in the storage's history (so checking against it checks against them).
  const stored = new Set(changes.map((c) => `${c.name}@${c.rv}`));
  const notStored = writers.acked.filter((a) => Number.isFinite(a.rv) && a.op !== 'delete' && !stored.has(`${a.key.slice('configmaps/'.length)}@${a.rv}`));
  // Only writes acknowledged after the point the AOF was cut back to may be missing.
  const ackedMissing = notStored.filter((a) => a.at < cutAt);

  const checks = watchers.map((w) => replay(w, changes, finalList));
  printFigures('watch-gaps', {
    watchers: watchers.length,
    apiServerKills: ROUNDS,
    redisKills: ROUNDS,
    redisHostCrashesLosingLastSecond: 1,
    acknowledgedWrites: writers.acked.length,
    storedChanges: changes.length,
    eventsDelivered: checks.reduce((n, c) => n + c.delivered, 0),
    eventsExpected: checks.reduce((n, c) => n + c.expected, 0),
    relists: watchers.reduce((n, w) => n + w.relists, 0),
    watchersRelisted: watchers.filter((w) => w.relists > 0).length,
    lostWritesAcknowledged: notStored.length,
    lostEventsDeliveredThen410: checks.reduce((n, c) => n + c.lostThen410, 0),
    rewatches: watchers.reduce((n, w) => n + w.rewatches, 0),
    problems: checks.reduce((n, c) => n + c.problems.length, 0),
  });
  expect(ackedMissing.map((a) => `${a.key}@${a.rv}`)).toEqual([]);
  expect(checks.flatMap((c) => c.problems)).toEqual([]);
  for (const c of checks) expect(c.delivered).toBe(c.expected);
  // Redis came back without its last second: every watcher was told (410) and relisted.
  if (notStored.length > 0) expect(watchers.filter((w) => w.relists > 0).length).toBe(watchers.length);
  expect(changes.length).toBeGreaterThan(50);
  expect(server.output()).not.toMatch(/inconsistent with storage/);
}, pick(120_000, 900_000));
