// client-go's work-queue metrics (workqueue_* series, labelled by queue name) in the controller
// manager's registry. Counters and histograms are fed as keys move through a queue; depth,
// unfinished work and the longest running processor are read from the queues at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** client-go's buckets: 10 ns to 1000 s, by powers of ten. */
const BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

/** What a queue reports about itself when scraped. */
export interface QueueState {
  readonly name: string;
  len(): number;
  /** When each key being processed was handed out (hrtime ns). */
  processingSince(): Iterable<bigint>;
}

export const controllerManagerRegistry = new Registry();
let defaultsCollected = false;

/** Process metrics too, once, when something is going to serve the registry. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: controllerManagerRegistry });
}

const queues = new Set<QueueState>();

const seconds = (ns: bigint): number => Number(ns) / 1e9;

new Gauge({
  name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'] as const, registers: [controllerManagerRegistry],
  collect() {
    this.reset();
    for (const q of queues) this.set({ name: q.name }, q.len());
  },
});

new Gauge({
  name: 'workqueue_unfinished_work_seconds',
  help: 'How many seconds of work has done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
  labelNames: ['name'] as const, registers: [controllerManagerRegistry],
  collect() {
    this.reset();
    const now = process.hrtime.bigint();
    for (const q of queues) {
      let total = 0;
      for (const since of q.processingSince()) total += seconds(now - since);
      this.set({ name: q.name }, total);
    }
  },
});

new Gauge({
  name: 'workqueue_longest_running_processor_seconds',
  help: 'How many seconds has the longest running processor for workqueue been running.',
  labelNames: ['name'] as const, registers: [controllerManagerRegistry],
  collect() {
    this.reset();
    const now = process.hrtime.bigint();
    for (const q of queues) {
      let longest = 0;
      for (const since of q.processingSince()) longest = Math.max(longest, seconds(now - since));
      this.set({ name: q.name }, longest);
    }
  },
});

const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'] as const, registers: [controllerManagerRegistry] });
const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'] as const, registers: [controllerManagerRegistry] });
const queueDuration = new Histogram({
  name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.',
  labelNames: ['name'] as const, buckets: BUCKETS, registers: [controllerManagerRegistry],
});
const workDuration = new Histogram({
  name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.',
  labelNames: ['name'] as const, buckets: BUCKETS, registers: [controllerManagerRegistry],
});

/** One queue's feed into the series; a queue without a name yet keeps its counts until it gets one. */
export class QueueMetrics {
  private pendingAdds = 0;
  private pendingRetries = 0;
  private name = '';

  constructor(private readonly state: Omit<QueueState, 'name'>) {}

  get named(): boolean {
    return this.name !== '';
  }

  /** Names the queue (client-go's NewNamed...); the first name sticks. */
  setName(name: string): void {
    if (this.name || !name) return;
    this.name = name;
    const state = this.state;
    queues.add({ name, len: () => state.len(), processingSince: () => state.processingSince() });
    if (this.pendingAdds) adds.inc({ name }, this.pendingAdds);
    if (this.pendingRetries) retries.inc({ name }, this.pendingRetries);
    adds.inc({ name }, 0);
    retries.inc({ name }, 0);
    this.pendingAdds = this.pendingRetries = 0;
  }

  add(): void {
    if (this.name) adds.inc({ name: this.name });
    else this.pendingAdds++;
  }

  retry(): void {
    if (this.name) retries.inc({ name: this.name });
    else this.pendingRetries++;
  }

  /** A key handed to a worker after waiting since `queuedAt`. */
  got(queuedAt: bigint | undefined, now: bigint): void {
    if (this.name && queuedAt !== undefined) queueDuration.observe({ name: this.name }, seconds(now - queuedAt));
  }

  done(startedAt: bigint | undefined, now: bigint): void {
    if (this.name && startedAt !== undefined) workDuration.observe({ name: this.name }, seconds(now - startedAt));
  }
}

/** Names already given, so a second queue of one controller gets "<controller>-2". */
const taken = new Map<string, number>();

export function uniqueQueueName(base: string): string {
  const n = (taken.get(base) ?? 0) + 1;
  taken.set(base, n);
  return n === 1 ? base : `${base}-${n}`;
}
