// client-go's event correlator, dedup step: a repeat of the same event (same key) within the
// cache's memory bumps count and lastTimestamp on the Event already written instead of creating
// another; an Event that has gone (TTL, deletion) is created afresh. Shared by the controllers'
// recorder and the kubelet's, which write through different API clients.
import type { Event } from 'kubernetes-types/core/v1.js';

/** The two writes the correlator needs, in whichever API client the recorder has. */
export interface EventWrites {
  create(namespace: string, event: Event): Promise<unknown>;
  bump(namespace: string, name: string, count: number, lastTimestamp: string): Promise<unknown>;
}

/** Distinct events remembered for aggregation (client-go's maxLruCacheEntries). */
const CACHE_SIZE = 4096;

/** upstream's Event names: `<involved object>.<unix nanos in hex>`, unique across recorders. */
const eventName = (objectName: string | undefined): string =>
  `${objectName ?? ''}.${(BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)}`;

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class EventCorrelator {
  // The Map's insertion order is the LRU order: a repeat moves to the end.
  private readonly seen = new Map<string, { name: string; count: number }>();

  constructor(private readonly writes: EventWrites) {}

  /**
   * Writes the event `key` identifies. `build` makes a new Event (count 1) from its name and
   * timestamp; it is only called when no earlier one can be bumped.
   */
  async record(key: string, namespace: string, objectName: string | undefined, build: (name: string, timestamp: string) => Event): Promise<void> {
    const ts = now();
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      this.seen.delete(key);
      this.seen.set(key, prev);
      try {
        await this.writes.bump(namespace, prev.name, prev.count, ts);
        return;
      } catch {
        this.seen.delete(key);
      }
    }
    const name = eventName(objectName);
    await this.writes.create(namespace, build(name, ts));
    this.seen.set(key, { name, count: 1 });
    if (this.seen.size > CACHE_SIZE) this.seen.delete(this.seen.keys().next().value as string);
  }
}
