// One Job sync, as upstream's syncJob with finalizer-based tracking: count newly finished
// pods (first as uncountedTerminatedPods, then in succeeded/failed once their
// batch.kubernetes.io/job-tracking finalizer is gone, so no pod is counted twice or lost),
// decide failure or success (interim FailureTarget / SuccessCriteriaMet, then the terminal
// Failed / Complete once no pod is left running), and otherwise create or delete pods.
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNotFound, type ApiClient } from './framework/client.js';
import type { EventRecorder } from './framework/events.js';
import { isPodReady, slowStartBatch } from './controller-utils.js';
import {
  activeDeadline,
  activePodsForRemoval,
  backoffRemaining,
  completionIndex,
  ensureCondition,
  findCondition,
  firstPendingIndexes,
  formatIndexes,
  hasTrackingFinalizer,
  isActive,
  isIndexed,
  isoTime,
  isTerminating,
  jobFinished,
  JOB_TRACKING_FINALIZER,
  MAX_PODS_PER_SYNC,
  newCondition,
  parseIndexes,
  pastBackoffLimitOnFailure,
  podForJob,
  updateBackoff,
  wantActive,
  type BackoffRecord,
} from './job-logic.js';

export interface JobSyncDeps {
  client: Pick<ApiClient, 'create' | 'delete' | 'patch' | 'update'>;
  recorder: Pick<EventRecorder, 'event'>;
  now: number;
  backoff: BackoffRecord;
  /** Expectations are met: the cache has seen every create and delete we asked for. */
  satisfied: boolean;
  expectCreations(n: number): void;
  creationsFailed(n: number): void;
  expectDeletions(pods: Pod[]): void;
  deletionFailed(pod: Pod): void;
  /** Pods whose finalizer we removed but whose update the cache may not show yet. */
  finalizerRemoved: Set<string>;
}

export interface JobSyncResult {
  backoff: BackoffRecord;
  requeueAfterMs?: number;
}

export const REASON_BACKOFF = 'BackoffLimitExceeded';
export const MESSAGE_BACKOFF = 'Job has reached the specified backoff limit';
export const REASON_DEADLINE = 'DeadlineExceeded';
export const MESSAGE_DEADLINE = 'Job was active longer than specified deadline';
export const REASON_COMPLETIONS = 'CompletionsReached';
export const MESSAGE_COMPLETIONS = 'Reached expected number of succeeded pods';

const podsPath = (obj: { metadata?: { namespace?: string } }): string => `/api/v1/namespaces/${obj.metadata?.namespace}/pods`;
const statusPath = (job: Job): string => `/apis/batch/v1/namespaces/${job.metadata?.namespace}/jobs/${job.metadata?.name}/status`;

export async function removeTrackingFinalizer(deps: Pick<JobSyncDeps, 'client' | 'finalizerRemoved'>, pod: Pod): Promise<void> {
  try {
    await deps.client.patch(`${podsPath(pod)}/${pod.metadata?.name}`, { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } }, 'strategic');
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  deps.finalizerRemoved.add(pod.metadata!.uid!);
}

async function deletePods(deps: JobSyncDeps, job: Job, pods: Pod[], expect: boolean): Promise<{ deleted: number; error?: Error }> {
  if (expect) deps.expectDeletions(pods);
  let deleted = 0;
  let error: Error | undefined;
  await Promise.all(
    pods.map(async (p) => {
      try {
        await deps.client.delete(`${podsPath(job)}/${p.metadata?.name}`);
        deps.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
        deleted++;
      } catch (e) {
        if (isNotFound(e)) {
          deleted++;
          return;
        }
        if (expect) deps.deletionFailed(p);
        deps.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
        error ??= e as Error;
      }
    }),
  );
  return { deleted, error };
}

async function createPods(deps: JobSyncDeps, job: Job, count: number, indexes?: number[]): Promise<{ created: number; error?: Error }> {
  deps.expectCreations(count);
  let next = 0;
  const { successes, error } = await slowStartBatch(count, 1, async () => {
    const index = indexes?.[next++];
    try {
      const created = await deps.client.create<Pod>(podsPath(job), podForJob(job, index));
      deps.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (e) {
      deps.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  });
  if (count - successes > 0) deps.creationsFailed(count - successes);
  return { created: successes, error };
}

/**
 * A pod the Job counts as failed: phase Failed, or being deleted and surely stopped, i.e.
 * never scheduled (pod GC would mark it Failed) or already confirmed by its node with a
 * zero-grace delete (kubelet marks it Failed first upstream; the node agent here does not).
 */
const podFailed = (p: Pod): boolean =>
  p.status?.phase === 'Failed' || (isTerminating(p) && (!p.spec?.nodeName || p.metadata?.deletionGracePeriodSeconds === 0));

/** JSON with sorted keys, so that field order never makes two equal statuses differ. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x,
  );
}

export async function syncJob(deps: JobSyncDeps, cached: Job, pods: Pod[]): Promise<JobSyncResult> {
  const { now, recorder } = deps;
  let job = { ...structuredClone(cached), apiVersion: 'batch/v1', kind: 'Job' } as Mutable<Job>;
  const result: JobSyncResult = { backoff: deps.backoff };
  const tracked = pods.filter((p) => hasTrackingFinalizer(p) && !deps.finalizerRemoved.has(p.metadata!.uid!));
  if (jobFinished(job) || job.metadata?.deletionTimestamp) {
    // Nothing more to count; just let the remaining pods go.
    for (const p of tracked) await removeTrackingFinalizer(deps, p);
    return result;
  }
  const status = (job.status ??= {}) as Mutable<JobStatus>;
  const before = canonical(status);
  const conditions = (status.conditions ??= []);
  const uncounted = (status.uncountedTerminatedPods ??= {});
  const uncSucc = new Set(uncounted.succeeded ?? []);
  const uncFail = new Set(uncounted.failed ?? []);
  const indexed = isIndexed(job);
  const completions = job.spec?.completions ?? undefined;
  const succeededIndexes = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
  const suspended = Boolean(job.spec?.suspend);
  if (!status.startTime && !suspended) status.startTime = isoTime(now);

  // Pods that stopped since the last sync.
  const newSucc: Pod[] = [];
  const newFail: Pod[] = [];
  const release: Pod[] = [];
  const inRange = (ix: number | undefined): boolean => !indexed || (ix !== undefined && ix < (completions ?? 0));
  for (const p of tracked) {
    const uid = p.metadata!.uid!;
    if (uncSucc.has(uid) || uncFail.has(uid)) release.push(p);
    else if (p.status?.phase === 'Succeeded') {
      const ix = completionIndex(p);
      if (!indexed) newSucc.push(p);
      else if (inRange(ix) && !succeededIndexes.has(ix!)) {
        succeededIndexes.add(ix!);
        newSucc.push(p);
      } else release.push(p);
    } else if (podFailed(p)) (inRange(completionIndex(p)) ? newFail : release).push(p);
  }
  result.backoff = updateBackoff(deps.backoff, newSucc, newFail, now);
  const failed = (status.failed ?? 0) + uncFail.size + newFail.length;
  const succeeded = indexed ? succeededIndexes.size : (status.succeeded ?? 0) + uncSucc.size + newSucc.length;
  let active = pods.filter(isActive);
  let terminating = pods.filter(isTerminating).length;
  let manageError: Error | undefined;

  // An interim condition from an earlier sync already decided the outcome.
  type Outcome = { type: 'Complete' | 'Failed'; interim: 'SuccessCriteriaMet' | 'FailureTarget'; reason: string; message: string };
  let outcome: Outcome | undefined;
  const met = findCondition(job, 'SuccessCriteriaMet');
  const target = findCondition(job, 'FailureTarget');
  if (met?.status === 'True') outcome = { type: 'Complete', interim: 'SuccessCriteriaMet', reason: met.reason ?? REASON_COMPLETIONS, message: met.message ?? MESSAGE_COMPLETIONS };
  else if (target?.status === 'True') outcome = { type: 'Failed', interim: 'FailureTarget', reason: target.reason ?? '', message: target.message ?? '' };
  else if (failed > (job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
    outcome = { type: 'Failed', interim: 'FailureTarget', reason: REASON_BACKOFF, message: MESSAGE_BACKOFF };
  } else {
    const deadline = activeDeadline(job, now);
    if (deadline.past) outcome = { type: 'Failed', interim: 'FailureTarget', reason: REASON_DEADLINE, message: MESSAGE_DEADLINE };
    else if (deadline.remainingMs !== undefined) result.requeueAfterMs = deadline.remainingMs;
  }

  let activeCount = active.length;
  if (outcome) {
    // Running pods are stopped and, like every pod not yet stopped, counted as failed.
    const { deleted, error } = await deletePods(deps, job, active, false);
    manageError = error;
    terminating += deleted;
    activeCount = 0;
    active = [];
    for (const p of tracked) if (!newSucc.includes(p) && !newFail.includes(p) && !release.includes(p) && p.status?.phase !== 'Succeeded') newFail.push(p);
  } else {
    let manageCalled = false;
    if (deps.satisfied) {
      manageCalled = true;
      if (suspended) {
        const { deleted, error } = await deletePods(deps, job, active, true);
        manageError = error;
        terminating += deleted;
        activeCount -= deleted;
        if (!error) active = [];
      } else {
        const want = wantActive(job, succeeded, active.length);
        const excess = Math.min(active.length - want, MAX_PODS_PER_SYNC);
        if (excess > 0) {
          const victims = activePodsForRemoval(job, active, excess);
          const { deleted, error } = await deletePods(deps, job, victims, true);
          manageError = error;
          terminating += deleted;
          activeCount -= deleted;
          active = active.filter((p) => !victims.includes(p));
        }
        const occupying = activeCount + (job.spec?.podReplacementPolicy === 'Failed' ? terminating : 0);
        if (!manageError && occupying < want) {
          const wait = backoffRemaining(result.backoff, now);
          if (wait > 0) result.requeueAfterMs = Math.min(result.requeueAfterMs ?? Infinity, wait);
          else {
            const count = Math.min(want - occupying, MAX_PODS_PER_SYNC);
            const indexes = indexed ? firstPendingIndexes(succeededIndexes, active, count, completions ?? 0) : undefined;
            const { created, error } = await createPods(deps, job, indexes?.length ?? count, indexes);
            manageError = error;
            // Counted as active at once, as upstream does; the cache catches up.
            activeCount += created;
          }
        }
      }
    }
    const complete = completions === undefined ? succeeded > 0 && activeCount === 0 : succeeded >= completions && activeCount === 0;
    if (complete) outcome = { type: 'Complete', interim: 'SuccessCriteriaMet', reason: REASON_COMPLETIONS, message: MESSAGE_COMPLETIONS };
    else if (manageCalled) {
      if (suspended) {
        if (ensureCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      } else if (ensureCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
        recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
        // The deadline counts continuous activity: it restarts with the Job.
        status.startTime = isoTime(now);
      }
    }
  }
  if (outcome && !findCondition(job, outcome.interim)) conditions.push(newCondition(outcome.interim, 'True', outcome.reason, outcome.message, now));
  status.active = activeCount;
  status.ready = active.filter(isPodReady).length;
  status.terminating = terminating;
  if (indexed) status.completedIndexes = formatIndexes(succeededIndexes);

  // Record who stopped before letting their pods go, so a crash between the steps loses nothing.
  for (const p of newSucc) uncSucc.add(p.metadata!.uid!);
  for (const p of newFail) uncFail.add(p.metadata!.uid!);
  status.uncountedTerminatedPods = {
    ...(uncSucc.size ? { succeeded: [...uncSucc] } : {}),
    ...(uncFail.size ? { failed: [...uncFail] } : {}),
  };
  if (newSucc.length || newFail.length) job = await deps.client.update<Mutable<Job>>(statusPath(job), job);
  const toRelease = [...release, ...newSucc, ...newFail.filter((p) => hasTrackingFinalizer(p))];
  await Promise.all(toRelease.map((p) => removeTrackingFinalizer(deps, p)));
  // Every uncounted pod has now lost its finalizer (or is gone): count it.
  const st = (job.status ??= {}) as Mutable<JobStatus>;
  st.succeeded = (st.succeeded ?? 0) + uncSucc.size;
  st.failed = (st.failed ?? 0) + uncFail.size;
  uncSucc.clear();
  uncFail.clear();
  st.uncountedTerminatedPods = {};
  let finishedNow = false;
  // Finish only when no pod can still be running or unseen: the terminal condition is final.
  if (outcome && terminating === 0 && !manageError && deps.satisfied) {
    const conds = (st.conditions ??= []) as Mutable<NonNullable<JobStatus['conditions']>>;
    finishedNow = ensureCondition(conds, outcome.type, 'True', outcome.reason, outcome.message, now);
    if (outcome.type === 'Complete') st.completionTime ??= isoTime(now);
  }
  if (!st.conditions?.length) delete st.conditions;
  // Upstream's omitempty counters: zero is absent.
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!st[k]) delete st[k];
  if (canonical(st) !== before) await deps.client.update(statusPath(job), job);
  if (finishedNow) {
    if (outcome!.type === 'Complete') recorder.event(job, 'Normal', 'Completed', 'Job completed');
    else recorder.event(job, 'Warning', outcome!.reason, outcome!.message);
  }
  if (manageError) throw manageError;
  return result;
}
