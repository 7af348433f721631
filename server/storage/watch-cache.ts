// The watch cache of one resource type (ARCHITECTURE.md § Watch cache): the current objects,
// a ring of recent events, and the watchers fed from them. Filled by one load and then by the
// Redis stream tail; lists, gets and watches are served from it.
import type { KubeObject } from '../registry/types.js';
import type { StoredEvent } from './redis-storage.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEntry {
  object: KubeObject;
  rev: number;
  /** The object serialized, made once on first use and shared by every reader. */
  json?: string;
}

export interface CacheEvent {
  type: EventType;
  rev: number;
  key: string;
  object: KubeObject;
  /** The state before this event (undefined for ADDED, or when it is not known). */
  prev?: KubeObject;
  /** Serialized forms of this event, keyed by format, shared by all watchers asking for that format. */
  encoded: Map<string, Buffer>;
  /** When this server applied it (ms since the epoch): the ring keeps recent history only. */
  appliedAt: number;
}

/**
 * How long the ring keeps an event, beyond the newest RING_MIN_EVENTS. Each event holds its
 * object, the state before and the encoded bytes, so a ring of the whole event window of every
 * type cost the soak's API server over 1 GB. Upstream's watch cache keeps minutes, not a count
 * of events; this matches etcd's 5-minute compaction as kube-apiserver runs it. A watch or a
 * continue token from before the ring still resumes from the Redis stream (watch) or gets 410.
 */
const RING_FRESH_MS = 5 * 60_000;
const RING_MIN_EVENTS = 100;

/** Called once per applied batch, so a watcher can write a batch of events in one write. */
export type Listener = (events: CacheEvent[]) => void;
/** Called when the cache was reloaded without the events between: the watcher must end with 410 so its client relists. */
export type ExpireListener = (reason: string) => void;

export function entryJson(entry: CacheEntry): string {
  return (entry.json ??= JSON.stringify(entry.object));
}

/** Parses a stored object and stamps it with the revision it was written at. */
export function materialize(json: string, rev: number): KubeObject {
  const obj = JSON.parse(json) as KubeObject;
  (obj.metadata ??= {}).resourceVersion = String(rev);
  return obj;
}

export class WatchCache {
  private readonly objects = new Map<string, CacheEntry>();
  private sortedKeys: string[] | null = null;
  /** Events from ringStart on; slots before it are cleared so dropped events can be collected. */
  private ring: (CacheEvent | undefined)[] = [];
  private ringStart = 0;
  /** The revision the cache reflects: every event up to it has been applied. */
  rev = 0;
  /** Events with a revision above this are in the ring; at or below it they are not. */
  private ringFloor = 0;
  /**
   * A watch from a revision below this gets 410 even if the Redis stream still reaches back:
   * the cache was reloaded across a hole (writes lost by a Redis crash, or a trimmed stream),
   * so a client's state at an older revision may hold changes no event will undo.
   */
  expiredBefore = 0;
  private readonly listeners = new Set<Listener>();
  private readonly expireListeners = new Set<ExpireListener>();
  private waiters: { rev: number; resolve: () => void }[] = [];

  constructor(readonly type: string, readonly capacity: number) {}

  /** Replaces the contents with a snapshot (initial load or a relist after a gap). */
  reset(rev: number, objects: Map<string, { rev: number; json: string }>): void {
    this.objects.clear();
    for (const [key, v] of objects) this.objects.set(key, { object: materialize(v.json, v.rev), rev: v.rev });
    this.sortedKeys = null;
    this.ring = [];
    this.ringStart = 0;
    this.rev = rev;
    this.ringFloor = rev;
    this.wake();
  }

  apply(events: StoredEvent[]): void {
    const applied: CacheEvent[] = [];
    const now = Date.now();
    for (const e of events) {
      if (e.rev <= this.rev) continue;
      const object = materialize(e.json, e.rev);
      const prev = this.objects.get(e.key)?.object;
      if (e.type === 'DELETED') {
        this.objects.delete(e.key);
        this.sortedKeys = null;
      } else {
        if (!prev) this.sortedKeys = null;
        this.objects.set(e.key, { object, rev: e.rev });
      }
      const ev: CacheEvent = { type: e.type, rev: e.rev, key: e.key, object, prev, encoded: new Map(), appliedAt: now };
      this.push(ev);
      this.rev = e.rev;
      applied.push(ev);
    }
    if (applied.length) for (const l of this.listeners) l(applied);
    this.wake();
  }

  private push(ev: CacheEvent): void {
    this.ring.push(ev);
    const staleBefore = ev.appliedAt - RING_FRESH_MS;
    for (;;) {
      const held = this.ring.length - this.ringStart;
      const oldest = this.ring[this.ringStart]!;
      if (held <= this.capacity && (held <= RING_MIN_EVENTS || oldest.appliedAt >= staleBefore)) break;
      this.ringFloor = oldest.rev;
      this.ring[this.ringStart++] = undefined;
    }
    if (this.ringStart > 4096 && this.ringStart * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringStart);
      this.ringStart = 0;
    }
  }

  get(key: string): CacheEntry | undefined {
    return this.objects.get(key);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Keys in storage order (namespace, then name), as etcd lists them. */
  keys(): string[] {
    return (this.sortedKeys ??= [...this.objects.keys()].sort());
  }

  /** Entries under a key prefix ("ns/" for one namespace, "" for all), in key order. */
  *entries(prefix = ''): Generator<[string, CacheEntry]> {
    const keys = this.keys();
    let i = prefix ? lowerBound(keys, prefix) : 0;
    for (; i < keys.length; i++) {
      const k = keys[i];
      if (prefix && !k.startsWith(prefix)) break;
      yield [k, this.objects.get(k)!];
    }
  }

  /** Events after `rev`, or undefined when the ring no longer reaches back that far. */
  eventsSince(rev: number): CacheEvent[] | undefined {
    if (rev < this.ringFloor) return undefined;
    const out: CacheEvent[] = [];
    for (let i = this.ringStart; i < this.ring.length; i++) {
      const ev = this.ring[i]!;
      if (ev.rev > rev) out.push(ev);
    }
    return out;
  }

  /**
   * The objects as they were at `rev` (for continue tokens and resourceVersionMatch=Exact):
   * the current state with every later event undone. Undefined when `rev` is outside the ring.
   */
  snapshotAt(rev: number, prefix = ''): [string, KubeObject][] | undefined {
    if (rev > this.rev) return undefined;
    const later = this.eventsSince(rev);
    if (!later) return undefined;
    const before = new Map<string, KubeObject | undefined>();
    for (const ev of later) if (!before.has(ev.key)) before.set(ev.key, ev.type === 'ADDED' ? undefined : ev.prev);
    const keys = new Set<string>();
    for (const [k] of this.entries(prefix)) keys.add(k);
    for (const k of before.keys()) if (k.startsWith(prefix)) keys.add(k);
    const out: [string, KubeObject][] = [];
    for (const k of [...keys].sort()) {
      const obj = before.has(k) ? before.get(k) : this.objects.get(k)!.object;
      if (obj) out.push([k, obj]);
    }
    return out;
  }

  subscribe(l: Listener, onExpire?: ExpireListener): () => void {
    this.listeners.add(l);
    if (onExpire) this.expireListeners.add(onExpire);
    return () => {
      this.listeners.delete(l);
      if (onExpire) this.expireListeners.delete(onExpire);
    };
  }

  /**
   * Replaces the contents with a snapshot that does not follow from the events applied so far:
   * every open watch is ended (410) and watches from older revisions are refused, so clients relist.
   */
  resetExpiring(rev: number, objects: Map<string, { rev: number; json: string }>, reason: string): void {
    this.reset(rev, objects);
    this.expiredBefore = rev;
    for (const l of [...this.expireListeners]) l(reason);
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  /** Resolves once the cache has applied `rev`; false when `timeoutMs` passes first. */
  waitFor(rev: number, timeoutMs: number): Promise<boolean> {
    if (this.rev >= rev) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = { rev, resolve: () => { clearTimeout(timer); resolve(true); } };
      this.waiters.push(waiter);
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.rev <= this.rev);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.rev > this.rev);
    for (const w of ready) w.resolve();
  }
}

function lowerBound(keys: string[], prefix: string): number {
  let lo = 0, hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < prefix) lo = mid + 1; else hi = mid;
  }
  return lo;
}
