// Events expire: upstream stores every Event under an etcd lease of --event-ttl (1 h by default),
// renewed by each write, so a cluster's event history stays bounded however long it runs. Redis
// has no per-field expiry, so a sweep deletes Events whose last write is older than the TTL.
// The delete is the same compare-and-swap write a client's delete is, so an Event updated
// meanwhile survives, and watchers see DELETED as they do when etcd's lease expires.
import type { Event } from 'kubernetes-types/core/v1.js';
import type { Cacher } from '../storage/cacher.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import { entryJson } from '../storage/watch-cache.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('event-ttl');
export const EVENTS_STORAGE_TYPE = 'core/events';
/** Sweeps often enough that an Event outlives its TTL by at most a tenth of it (and a minute). */
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** The last time an Event was written: the newest of its timestamps and its managed fields' times. */
export function lastWritten(event: Partial<Event>): number {
  const times = [
    event.metadata?.creationTimestamp, event.lastTimestamp, event.eventTime, event.series?.lastObservedTime,
    ...(event.metadata?.managedFields ?? []).map((f) => f.time),
  ];
  let newest = 0;
  for (const t of times) {
    const ms = t ? Date.parse(t) : NaN;
    if (ms > newest) newest = ms;
  }
  return newest;
}

export class EventTtl {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<number>;

  constructor(private readonly cacher: Cacher, private readonly redis: RedisStorage, private readonly ttlMs: number) {}

  start(): void {
    const every = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(1000, this.ttlMs / 10));
    this.timer = setInterval(() => { this.sweeping ??= this.sweep().finally(() => (this.sweeping = undefined)); }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Deletes every expired Event; returns how many went. */
  async sweep(now = Date.now()): Promise<number> {
    const cache = this.cacher.cache(EVENTS_STORAGE_TYPE);
    const expired = [...cache.entries()].filter(([, e]) => now - lastWritten(e.object as Partial<Event>) > this.ttlMs);
    let deleted = 0;
    for (const [key, entry] of expired) {
      try {
        const result = await this.redis.write(EVENTS_STORAGE_TYPE, 'delete', key, entry.rev, entryJson(entry));
        if (result.status === 'ok') deleted++;
      } catch (err) {
        // Redis is down: the next sweep tries again.
        log.v(1, 'event expiry failed', { key, err: (err as Error).message });
        break;
      }
    }
    if (deleted) log.v(2, 'expired events', { deleted, ttlMs: this.ttlMs });
    return deleted;
  }
}
