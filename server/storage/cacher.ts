// Keeps one WatchCache per resource type in step with Redis: an initial load, then one
// blocking tail of every type's stream. Provides consistent reads: wait until the cache has
// applied the revision Redis reports now.
import { RedisStorage } from './redis-storage.js';
import { WatchCache } from './watch-cache.js';
import { logger } from '../../apimachinery/log.js';
import { serviceUnavailable, timeout } from '../../apimachinery/errors.js';

const log = logger('cacher');

export class Cacher {
  readonly caches = new Map<string, WatchCache>();
  private running = false;
  private tailLoop?: Promise<void>;
  private batch?: { types: Set<string>; promise: Promise<Map<string, number>> };
  redisHealthy = false;

  constructor(readonly redis: RedisStorage, types: string[], capacity: number) {
    for (const t of types) this.caches.set(t, new WatchCache(t, capacity));
  }

  cache(type: string): WatchCache {
    const c = this.caches.get(type);
    if (!c) throw new Error(`no watch cache for ${type}`);
    return c;
  }

  async start(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => this.reload(c)));
    this.redisHealthy = true;
    this.running = true;
    this.tailLoop = this.tail();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.tailLoop?.catch(() => undefined);
  }

  private async reload(cache: WatchCache): Promise<void> {
    const snap = await this.redis.load(cache.type);
    cache.reset(snap.rev, snap.objects);
    log.v(2, 'cache loaded', { type: cache.type, rev: snap.rev, objects: snap.objects.size });
  }

  private async tail(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const positions = new Map([...this.caches].map(([t, c]) => [t, c.rev]));
        const got = await this.redis.tail(positions, 1000);
        for (const [type, events] of got) {
          const cache = this.cache(type);
          // Revisions of a type are contiguous; a hole means the stream was trimmed past us.
          if (events.length && events[0].rev > cache.rev + 1) {
            log.warn('watch cache fell behind the event window; reloading', { type, at: cache.rev, next: events[0].rev });
            await this.reload(cache);
            continue;
          }
          cache.apply(events);
        }
        this.redisHealthy = true;
        backoff = 100;
      } catch (err) {
        if (!this.running) return;
        this.redisHealthy = false;
        log.v(1, 'stream tail failed; retrying', { err: (err as Error).message, backoffMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
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
    let rev: number;
    try {
      rev = await this.currentRevision(type);
    } catch (err) {
      throw serviceUnavailable(`storage is unavailable: ${(err as Error).message}`);
    }
    if (!(await cache.waitFor(rev, 10_000))) throw timeout(`Timeout: Too large resource version: ${rev}, current: ${cache.rev}`);
    return cache;
  }
}
