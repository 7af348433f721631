// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): delete a
// finished Job ttlSecondsAfterFinished after it finished, re-reading it first so a TTL that
// was just raised (or a Job just recreated under the same name) is respected.
import type { Job } from 'kubernetes-types/batch/v1.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { jobFinished, MAX_REQUEUE_MS } from './job-logic.js';

/** When the Job may be deleted (ms since epoch), or undefined when it never expires (yet). */
export function ttlExpiry(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp) return undefined;
  const cond = jobFinished(job);
  if (!cond) return undefined;
  const finishedAt = job.status?.completionTime ?? cond.lastTransitionTime;
  if (!finishedAt) return undefined;
  return Date.parse(finishedAt) + ttl * 1000;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  private readonly queue = new WorkQueue();
  private informer!: Informer<Job>;

  constructor(private readonly clock: () => number = Date.now) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.informer = ctx.informers.for<Job>('/apis/batch/v1/jobs');
    const enqueue = (job: Job): void => {
      if (ttlExpiry(job) !== undefined) this.queue.add(keyOf(job));
    };
    this.informer.on('add', enqueue);
    this.informer.on('update', enqueue);
    await this.informer.start(ctx.signal);
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key), ctx.signal, ctx.log);
  }

  private async sync(ctx: ControllerContext, key: string): Promise<void> {
    const cached = this.informer.get(key);
    if (!cached) return;
    const expiry = ttlExpiry(cached);
    if (expiry === undefined) return;
    if (expiry > this.clock()) return this.queue.addAfter(key, Math.min(expiry - this.clock(), MAX_REQUEUE_MS));
    const { namespace, name } = splitKey(key);
    const path = `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`;
    let fresh: Job;
    try {
      fresh = await ctx.client.get<Job>(path);
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const freshExpiry = ttlExpiry(fresh);
    if (freshExpiry === undefined) return;
    if (freshExpiry > this.clock()) return this.queue.addAfter(key, Math.min(freshExpiry - this.clock(), MAX_REQUEUE_MS));
    try {
      // Foreground, as upstream: the Job stays visible until its pods are gone.
      await ctx.client.delete(path, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
