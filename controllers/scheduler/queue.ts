// The scheduling queue (upstream's PriorityQueue): activeQ ordered by priority then age,
// a backoff stage (1 s doubling to 10 s per failed attempt), and a parking lot for
// unschedulable pods that cluster events (or a periodic flush) move back. Entries are pod
// keys; the caller reads the current pod from its informer when it pops one.
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 10_000;
const BACKOFF_FLUSH_MS = 1000;

type Stage = 'active' | 'backoff' | 'unschedulable' | 'inflight';

interface Entry {
  key: string;
  priority: number;
  stage: Stage;
  attempts: number;
  /** Heap tiebreak: order of (re)entry into activeQ. */
  seq: number;
  readyAt: number;
  parkedAt: number;
  /** Set while in flight when a move request or a pod update arrives, so a failure retries soon. */
  retrySoon: boolean;
  /** The plugins that rejected the pod last time: only events they care about move it. */
  rejectedBy: ReadonlySet<string>;
}

export interface QueueOptions {
  /** How long a pod stays parked as unschedulable before a retry without any event. */
  unschedulableFlushMs?: number;
  now?: () => number;
}

export function backoffFor(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

export class SchedulingQueue {
  private readonly entries = new Map<string, Entry>();
  private heap: Entry[] = [];
  private seq = 0;
  private waiter?: () => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly now: () => number;
  private readonly flushMs: number;
  private closed = false;

  constructor(opts: QueueOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.flushMs = opts.unschedulableFlushMs ?? 30_000;
  }

  /** Starts the periodic flushes; tests may drive flush() by hand instead. */
  run(): void {
    this.timers.push(setInterval(() => this.flushBackoff(), BACKOFF_FLUSH_MS));
    this.timers.push(setInterval(() => this.flushUnschedulable(), Math.max(1000, Math.floor(this.flushMs / 3))));
    for (const t of this.timers) t.unref();
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.waiter?.();
  }

  get size(): number {
    return this.entries.size;
  }

  stageOf(key: string): Stage | undefined {
    return this.entries.get(key)?.stage;
  }

  /** A pod that needs scheduling was added or changed. */
  add(key: string, priority = 0): void {
    const e = this.entries.get(key);
    if (!e) {
      const fresh: Entry = { key, priority, stage: 'active', attempts: 0, seq: 0, readyAt: 0, parkedAt: 0, retrySoon: false, rejectedBy: new Set() };
      this.entries.set(key, fresh);
      this.activate(fresh);
      return;
    }
    e.priority = priority;
    // An update may have fixed what made the pod unschedulable: retry it (after its backoff).
    if (e.stage === 'unschedulable') this.requeue(e);
    else if (e.stage === 'inflight') e.retrySoon = true;
  }

  /** The pod is gone, bound, or no longer ours. */
  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    e.stage = 'inflight'; // stale heap copies are skipped by pop()
  }

  /** Waits for the next pod; undefined once closed. */
  async pop(): Promise<string | undefined> {
    for (;;) {
      if (this.closed) return undefined;
      const e = this.popHeap();
      if (e) {
        e.stage = 'inflight';
        e.attempts++;
        e.retrySoon = false;
        return e.key;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  /** Scheduling (or binding) failed: park the pod, or back it off if the world changed meanwhile. */
  failed(key: string, rejectedBy: ReadonlySet<string> = new Set()): void {
    const e = this.entries.get(key);
    if (!e || e.stage !== 'inflight') return;
    e.rejectedBy = rejectedBy;
    e.readyAt = this.now() + backoffFor(e.attempts);
    if (e.retrySoon) {
      e.retrySoon = false;
      e.stage = 'backoff';
    } else {
      e.stage = 'unschedulable';
      e.parkedAt = this.now();
    }
  }

  /** For errors that are not the pod's fault (API errors): always back off and retry. */
  retry(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    e.stage = 'backoff';
    e.readyAt = this.now() + backoffFor(e.attempts);
  }

  /**
   * Something in the cluster changed that may make parked pods schedulable. With `plugins`,
   * only pods some of those plugins rejected move (upstream's queueing hints, coarsely); a pod
   * rejected for no plugin's reason (no nodes at all) moves on any event.
   */
  moveAll(plugins?: readonly string[]): void {
    for (const e of this.entries.values()) {
      if (e.stage === 'unschedulable') {
        if (!plugins || e.rejectedBy.size === 0 || plugins.some((p) => e.rejectedBy.has(p))) this.requeue(e);
      }
      else if (e.stage === 'inflight') e.retrySoon = true;
    }
  }

  flushBackoff(): void {
    const now = this.now();
    for (const e of this.entries.values()) if (e.stage === 'backoff' && e.readyAt <= now) this.activate(e);
  }

  flushUnschedulable(): void {
    const now = this.now();
    for (const e of this.entries.values()) if (e.stage === 'unschedulable' && now - e.parkedAt >= this.flushMs) this.requeue(e);
  }

  private requeue(e: Entry): void {
    if (e.readyAt > this.now()) e.stage = 'backoff';
    else this.activate(e);
  }

  private activate(e: Entry): void {
    e.stage = 'active';
    e.seq = ++this.seq;
    this.pushHeap(e);
    this.waiter?.();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
  }

  private pushHeap(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private popHeap(): Entry | undefined {
    const h = this.heap;
    while (h.length) {
      const top = h[0];
      const last = h.pop()!;
      if (h.length) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && this.less(h[l], h[m])) m = l;
          if (r < h.length && this.less(h[r], h[m])) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m], h[i]];
          i = m;
        }
      }
      // Skip entries deleted (or deleted and re-added) while they waited in the heap.
      if (top.stage === 'active' && this.entries.get(top.key) === top) return top;
    }
    return undefined;
  }
}
