// The Job controller (upstream pkg/controller/job): run pods until enough succeed or the
// Job fails, tracking finished pods with the batch.kubernetes.io/job-tracking finalizer.
// The decisions are in job-sync.ts and job-logic.ts; this file wires informers, work queue
// and expectations.
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { UIDTrackingExpectations } from './framework/expectations.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { claimObjects } from './controller-ref-manager.js';
import { controllerRef } from './controller-utils.js';
import { hasTrackingFinalizer, MAX_REQUEUE_MS, type BackoffRecord } from './job-logic.js';
import { removeTrackingFinalizer, syncJob } from './job-sync.js';

export class JobController implements Controller {
  readonly name = 'job';
  readonly expectations = new UIDTrackingExpectations();
  private readonly queue = new WorkQueue();
  private readonly backoffs = new Map<string, BackoffRecord>();
  private readonly finalizersRemoved = new Map<string, Set<string>>();
  private jobInformer!: Informer<Job>;
  private podInformer!: Informer<Pod>;

  constructor(private readonly clock: () => number = Date.now) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.jobInformer = ctx.informers.for<Job>('/apis/batch/v1/jobs');
    this.podInformer = ctx.informers.for<Pod>('/api/v1/pods');
    const enqueue = (job: Job): void => this.queue.add(keyOf(job));
    this.jobInformer.on('add', enqueue);
    this.jobInformer.on('update', enqueue);
    this.jobInformer.on('delete', (job) => {
      this.expectations.deleteExpectations(keyOf(job));
      this.backoffs.delete(keyOf(job));
      enqueue(job);
    });
    this.podInformer.on('add', (pod) => {
      const key = this.jobKey(pod);
      if (!key) return this.enqueueMatching(pod);
      if (!pod.metadata?.deletionTimestamp) this.expectations.creationObserved(key);
      this.queue.add(key);
    });
    this.podInformer.on('update', (pod, old) => {
      const key = this.jobKey(pod);
      if (key && pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp) this.expectations.deletionObservedFor(key, keyOf(pod));
      if (key && !hasTrackingFinalizer(pod)) this.finalizersRemoved.get(key)?.delete(pod.metadata!.uid!);
      const oldKey = old ? this.jobKey(old) : undefined;
      if (oldKey && oldKey !== key) this.queue.add(oldKey);
      if (key) this.queue.add(key);
      else this.enqueueMatching(pod);
    });
    this.podInformer.on('delete', (pod) => {
      const key = this.jobKey(pod);
      if (!key) return;
      this.expectations.deletionObservedFor(key, keyOf(pod));
      this.finalizersRemoved.get(key)?.delete(pod.metadata!.uid!);
      this.queue.add(key);
    });
    await Promise.all([this.jobInformer.start(ctx.signal), this.podInformer.start(ctx.signal)]);
    const recorder = ctx.recorder('job-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key, recorder), ctx.signal, ctx.log);
  }

  /** An orphan pod may be adopted by any Job whose selector matches it. */
  private enqueueMatching(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return;
    for (const job of this.jobInformer.list(pod.metadata?.namespace)) {
      const sel = fromLabelSelector(job.spec?.selector);
      if (sel.length > 0 && matchesLabels(sel, pod.metadata?.labels)) this.queue.add(keyOf(job));
    }
  }

  /** The key of the Job a pod names as controller (whether or not that Job still exists). */
  private jobKey(pod: Pod): string | undefined {
    const ref = controllerRef(pod.metadata);
    return ref?.kind === 'Job' ? `${pod.metadata?.namespace}/${ref.name}` : undefined;
  }

  async sync(ctx: ControllerContext, key: string, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.get(key);
    const removed = this.finalizersRemoved.get(key) ?? new Set<string>();
    this.finalizersRemoved.set(key, removed);
    // Pods of a deleted (or replaced) Job keep no finalizer of ours: they would never go.
    const orphans = this.podInformer
      .list(namespace)
      .filter((p) => hasTrackingFinalizer(p) && controllerRef(p.metadata)?.kind === 'Job' && controllerRef(p.metadata)?.name === name && controllerRef(p.metadata)?.uid !== cached?.metadata?.uid);
    for (const p of orphans) await removeTrackingFinalizer({ client: ctx.client, finalizerRemoved: removed }, p);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      this.backoffs.delete(key);
      this.finalizersRemoved.delete(key);
      return;
    }
    // spec.managedBy hands the Job to another controller (e.g. MultiKueue); leave it alone.
    const managedBy = (cached.spec as { managedBy?: string } | undefined)?.managedBy;
    if (managedBy && managedBy !== 'kubernetes.io/job-controller') return;
    const job: Job = { ...cached, apiVersion: 'batch/v1', kind: 'Job' };
    const satisfied = this.expectations.satisfiedExpectations(key);
    const podsPath = `/api/v1/namespaces/${namespace}/pods`;
    const pods = await claimObjects(job, fromLabelSelector(job.spec?.selector), this.podInformer.list(namespace), {
      client: ctx.client,
      path: podsPath,
      canAdopt: async () => {
        const fresh = await ctx.client.get<Job>(`/apis/batch/v1/namespaces/${namespace}/jobs/${name}`).catch(() => undefined);
        return fresh?.metadata?.uid === job.metadata?.uid && !fresh?.metadata?.deletionTimestamp;
      },
    });
    const result = await syncJob(
      {
        client: ctx.client,
        recorder,
        now: this.clock(),
        backoff: this.backoffs.get(key) ?? { failuresAfterLastSuccess: 0 },
        satisfied,
        expectCreations: (n) => this.expectations.expectCreations(key, n),
        creationsFailed: (n) => this.expectations.lower(key, n, 0),
        expectDeletions: (ps) => this.expectations.expectDeletionsFor(key, ps.map(keyOf)),
        deletionFailed: (p) => this.expectations.deletionObservedFor(key, keyOf(p)),
        finalizerRemoved: removed,
      },
      job,
      pods,
    );
    this.backoffs.set(key, result.backoff);
    // Timers cannot wait past 2^31 ms; a long deadline is simply looked at again daily.
    if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, Math.min(result.requeueAfterMs, MAX_REQUEUE_MS));
  }
}
