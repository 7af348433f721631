// Keeps one WatchCache per resource type in step with Redis: an initial load, then one
// blocking tail of every type's stream. Provides consistent reads: wait until the cache has
// applied the revision Redis reports now. Notices when Redis restarted without its last writes
// (appendfsync everysec) and recovers without ever reusing a revision a client has seen.
import { MAX_TAIL_BLOCK_MS, RedisStorage, type StoredEvent } from './redis-storage.js';
import { WatchCache } from './watch-cache.js';
import { logger } from '../../apimachinery/log.js';
import { serviceUnavailable, timeout } from '../../apimachinery/errors.js';

const log = logger('cacher');

/** How long a consistent read waits for the cache to catch up with Redis (upstream waits 3 s too). */
const FRESH_WAIT_MS = 3000;

export class Cacher {
  readonly caches = new Map<string, WatchCache>();
  private running = false;
  private tailLoop?: Promise<void>;
  private batch?: { types: Set<string>; promise: Promise<Map<string, number>> };
  redisHealthy = false;
  /** The Redis process the caches were last checked against (INFO run_id). */
  private runId = '';
  private verifiedEpoch = -1;
  /** Consistent reads that saw Redis behind the cache wait here for the tail to check for lost writes. */
  private verifyWaiters: (() => void)[] = [];
  /** Each type's rollback counter as of its last load (see write.lua). */
  private readonly rollbacks = new Map<string, number>();

  constructor(readonly redis: RedisStorage, types: string[], capacity: number) {
    for (const t of types) this.caches.set(t, new WatchCache(t, capacity));
  }

  cache(type: string): WatchCache {
    const c = this.caches.get(type);
    if (!c) throw new Error(`no watch cache for ${type}`);
    return c;
  }

  async start(): Promise<void> {
    this.runId = await this.redis.runId();
    this.verifiedEpoch = this.redis.tailConnectionEpoch;
    await Promise.all([...this.caches.values()].map((c) => this.reload(c)));
    this.redisHealthy = true;
    this.running = true;
    this.tailLoop = this.tail();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.tailLoop?.catch(() => undefined);
    for (const w of this.verifyWaiters.splice(0)) w();
  }

  private async reload(cache: WatchCache): Promise<void> {
    const snap = await this.redis.load(cache.type);
    cache.reset(snap.rev, snap.objects);
    this.rollbacks.set(cache.type, snap.rollbacks);
    this.redis.observe(cache.type, snap.rev);
    log.v(2, 'cache loaded', { type: cache.type, rev: snap.rev, objects: snap.objects.size });
  }

  /**
   * Reloads a type whose cache no longer follows from Redis's events, raising the revision
   * counter past every revision this server has seen first, and ends its watches with 410.
   */
  private async reloadExpiring(cache: WatchCache, reason: string, lostWrites: boolean): Promise<void> {
    // After lost writes the snapshot takes a revision of its own, past every lost one, so a
    // client holding a lost revision can never resume from it.
    const floor = Math.max(cache.rev, this.redis.seenRevision(cache.type)) + (lostWrites ? 1 : 0);
    const snap = await this.redis.load(cache.type, floor);
    const watchers = cache.watcherCount;
    cache.resetExpiring(snap.rev, snap.objects, reason);
    this.rollbacks.set(cache.type, snap.rollbacks);
    this.redis.observe(cache.type, snap.rev);
    log.warn('watch cache reloaded; its watches end with 410 so clients relist', { type: cache.type, reason, rev: snap.rev, objects: snap.objects.size, watchers });
  }

  private async tail(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        if (this.verifiedEpoch !== this.redis.tailConnectionEpoch || this.verifyWaiters.length) {
          await this.verify();
          // Redis answers and the caches follow from it again: serve watches without waiting for the next block.
          this.redisHealthy = true;
        }
        const positions = new Map([...this.caches].map(([t, c]) => [t, c.rev]));
        const got = await this.redis.tail(positions, MAX_TAIL_BLOCK_MS);
        for (const [type, events] of got) {
          const cache = this.cache(type);
          // Revisions of a type are contiguous; a hole means the stream was trimmed past us, or
          // Redis lost writes in a crash and the next write skipped past the revisions handed out.
          const hole = firstHole(cache.rev, events);
          if (hole) {
            await this.reloadExpiring(cache, `events ${hole.after + 1}..${hole.next - 1} are missing from the stream`, false);
            continue;
          }
          cache.apply(events);
          this.redis.observe(type, cache.rev);
        }
        this.redisHealthy = true;
        backoff = 100;
      } catch (err) {
        if (!this.running) return;
        this.redisHealthy = false;
        log.v(1, 'stream tail failed; retrying', { err: (err as Error).message, backoffMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }

  /**
   * After the tail's connection dropped: if Redis is a new process, find the types that lost
   * writes: the revision counter is behind a revision this server has seen, or the rollback
   * counter moved (a write or another server already skipped the counter past lost revisions).
   * Those are recovered with reloadExpiring; the others carry on, their watches undisturbed.
   */
  private async verify(): Promise<void> {
    const epoch = this.redis.tailConnectionEpoch;
    const runId = await this.redis.runId();
    if (runId !== this.runId) {
      log.warn('redis restarted; checking for lost writes', { previous: this.runId, now: runId });
      const caches = [...this.caches.values()];
      const counters = await this.redis.counters(caches.map((c) => c.type));
      for (const [i, cache] of caches.entries()) {
        const seen = Math.max(cache.rev, this.redis.seenRevision(cache.type));
        const { rev, rollbacks } = counters[i];
        if (rev >= seen && rollbacks === (this.rollbacks.get(cache.type) ?? 0)) continue;
        await this.reloadExpiring(cache, `redis restarted without writes this server saw (revision ${rev}, seen ${seen})`, true);
      }
      this.runId = runId;
    }
    this.verifiedEpoch = epoch;
    for (const w of this.verifyWaiters.splice(0)) w();
  }

  /**
   * The revision Redis holds now for `type`. Concurrent callers share one MGET, but only one
   * that is sent after they asked, so a caller never gets a revision older than its request.
   */
  currentRevision(type: string): Promise<number> {
    if (!this.batch) {
      const types = new Set<string>();
      const promise = new Promise<Map<string, number>>((resolve, reject) => {
        setImmediate(() => {
          this.batch = undefined;
          const list = [...types];
          this.redis.currentRevisions(list).then((revs) => resolve(new Map(list.map((t, i) => [t, revs[i]]))), reject);
        });
      });
      this.batch = { types, promise };
    }
    this.batch.types.add(type);
    return this.batch.promise.then((m) => m.get(type)!);
  }

  /** Waits until the cache of `type` reflects every write acknowledged before this call. */
  async fresh(type: string): Promise<WatchCache> {
    const cache = this.cache(type);
    let rev = await this.revisionOrUnavailable(type);
    if (rev < cache.rev) {
      // Redis is behind the cache: it restarted without its last writes. Let the tail recover
      // the cache before answering from it, then ask again.
      await this.verifyRequested();
      rev = await this.revisionOrUnavailable(type);
    }
    if (!(await cache.waitFor(rev, FRESH_WAIT_MS))) throw timeout(`Timeout: Too large resource version: ${rev}, current: ${cache.rev}`);
    return cache;
  }

  private async revisionOrUnavailable(type: string): Promise<number> {
    try {
      return await this.currentRevision(type);
    } catch (err) {
      throw serviceUnavailable(`storage is unavailable: ${(err as Error).message}`);
    }
  }

  private verifyRequested(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.verifyWaiters = this.verifyWaiters.filter((w) => w !== done);
        resolve();
      }, FRESH_WAIT_MS);
      const done = () => { clearTimeout(timer); resolve(); };
      this.verifyWaiters.push(done);
    });
  }
}

/** The first place where `events` do not follow on from `rev` one by one. */
function firstHole(rev: number, events: StoredEvent[]): { after: number; next: number } | undefined {
  let last = rev;
  for (const e of events) {
    if (e.rev <= last) continue;
    if (e.rev !== last + 1) return { after: last, next: e.rev };
    last = e.rev;
  }
  return undefined;
}
