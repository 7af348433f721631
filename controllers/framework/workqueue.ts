// A work queue with client-go's semantics: a key is queued at most once ("dirty"), a key
// being processed is never handed to a second worker; if it is re-added meanwhile it is
// queued again when done() is called. Failures back off per key, 5 ms doubling to 1000 s,
// as client-go's ItemExponentialFailureRateLimiter. Each queue feeds client-go's workqueue_*
// metrics under its name (given here, or by runWorkers after the controller that runs it).
import { QueueMetrics } from './workqueue-metrics.js';

const BASE_DELAY_MS = 5;
const MAX_DELAY_MS = 1000_000;

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  /** When each queued key was added, and when each key being processed was handed out (hrtime ns). */
  private readonly queuedAt = new Map<string, bigint>();
  private readonly startedAt = new Map<string, bigint>();
  readonly metrics = new QueueMetrics({ len: () => this.len(), processingSince: () => this.startedAt.values() });

  constructor(name?: string) {
    if (name) this.metrics.setName(name);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.add();
    this.dirty.add(key);
    if (!this.queuedAt.has(key)) this.queuedAt.set(key, process.hrtime.bigint());
    if (this.processing.has(key)) return;
    this.hand(key);
  }

  /** To a waiting worker, or to the back of the queue. */
  private hand(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.start(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  private start(key: string): void {
    const now = process.hrtime.bigint();
    this.metrics.got(this.queuedAt.get(key), now);
    this.queuedAt.delete(key);
    this.startedAt.set(key, now);
    this.processing.add(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    // Like client-go's delaying queue, the earliest pending deadline wins.
    const existing = this.timers.get(key) as (NodeJS.Timeout & { due?: number }) | undefined;
    const due = Date.now() + ms;
    if (existing && existing.due !== undefined && existing.due <= due) return;
    if (existing) clearTimeout(existing);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms) as NodeJS.Timeout & { due?: number };
    t.unref?.();
    t.due = due;
    this.timers.set(key, t);
  }

  addRateLimited(key: string): void {
    this.metrics.retry();
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(BASE_DELAY_MS * 2 ** n, MAX_DELAY_MS));
  }

  /** How many times the key has failed since it was last forgotten. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  get(): Promise<string | undefined> {
    if (this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.dirty.delete(key);
      this.start(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.metrics.done(this.startedAt.get(key), process.hrtime.bigint());
    this.startedAt.delete(key);
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      // Re-added while it was processed (and counted as an add then): queued now, still dirty.
      if (this.shuttingDown) this.dirty.delete(key);
      else this.hand(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }

  shuttingDownNow(): boolean {
    return this.shuttingDown;
  }

  len(): number {
    return this.queue.length;
  }
}
