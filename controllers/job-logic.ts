// The Job controller's pure decisions, after upstream pkg/controller/job: completion indexes
// and their interval strings, how many pods to run, which to delete, the pod failure
// back-off, conditions, and the pod a Job creates.
import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { compareForDeletion, podFromTemplate, podsToDelete } from './controller-utils.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff in upstream's job_controller.go. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** setTimeout cannot wait past 2^31 ms (about 24.8 days); waking daily and recomputing is cheap. */
export const MAX_REQUEUE_MS = 24 * 3600_000;
/** MaxPodCreateDeletePerSync. */
export const MAX_PODS_PER_SYNC = 500;

export const isIndexed = (job: Job): boolean => job.spec?.completionMode === 'Indexed';
export const isTerminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
export const hasTrackingFinalizer = (p: Pod): boolean => (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
/** Not terminal and not being deleted. */
export const isActive = (p: Pod): boolean => !isTerminal(p) && !p.metadata?.deletionTimestamp;
export const isTerminating = (p: Pod): boolean => !isTerminal(p) && Boolean(p.metadata?.deletionTimestamp);

/** The pod's completion index, or undefined when missing or malformed. */
export function completionIndex(p: Pod): number | undefined {
  const v = p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^[0-9]+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** parseIndexesFromString: "1,3-5" -> {1,3,4,5}, ignoring anything at or past `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    const end = Math.min(b ?? a, completions - 1);
    if (!Number.isInteger(a)) continue;
    for (let i = a; i <= end; i++) out.add(i);
  }
  return out;
}

/** The interval string upstream stores in completedIndexes, e.g. "0-2,5". */
export function formatIndexes(set: Iterable<number>): string {
  const sorted = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** How many pods should be running (manageJob's wantActive). */
export function wantActive(job: Job, succeeded: number, active: number): number {
  const parallelism = job.spec?.parallelism ?? 1;
  const completions = job.spec?.completions;
  if (completions === undefined || completions === null) return succeeded > 0 ? active : parallelism;
  return Math.max(0, Math.min(parallelism, completions - succeeded));
}

/** The lowest `count` indexes neither succeeded nor running (firstPendingIndexes). */
export function firstPendingIndexes(succeeded: Set<number>, active: Pod[], count: number, completions: number): number[] {
  const running = new Set(active.map(completionIndex).filter((i): i is number => i !== undefined));
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!succeeded.has(i) && !running.has(i)) out.push(i);
  return out;
}

/**
 * activePodsForRemoval: at least `count` pods; for Indexed Jobs pods with a bad, out of range
 * or duplicated index go first (the duplicate kept is the one that ranks best).
 */
export function activePodsForRemoval(job: Job, active: Pod[], count: number): Pod[] {
  let rm: Pod[] = [];
  let left = active;
  if (isIndexed(job)) {
    const completions = job.spec?.completions ?? 0;
    left = [];
    const byIndex = new Map<number, Pod[]>();
    for (const p of active) {
      const ix = completionIndex(p);
      if (ix === undefined || ix >= completions) rm.push(p);
      else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
    }
    for (const pods of byIndex.values()) {
      const ranked = [...pods].sort((a, b) => compareForDeletion(a, b));
      left.push(ranked[ranked.length - 1]);
      rm.push(...ranked.slice(0, -1));
    }
  }
  if (rm.length < count) rm = [...rm, ...podsToDelete(left, left, count - rm.length)];
  return rm;
}

/** When a pod stopped: its containers' latest finishedAt, else `now`. */
export function finishTime(p: Pod, now: number): number {
  let latest: number | undefined;
  for (const c of [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])]) {
    const t = c.state?.terminated?.finishedAt;
    if (t) latest = Math.max(latest ?? 0, Date.parse(t));
  }
  return latest ?? now;
}

/** The back-off state of a Job: failures since the last success, and when the last was. */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** newBackoffRecord: folds newly finished pods into the record, in finishing order. */
export function updateBackoff(rec: BackoffRecord, succeeded: Pod[], failed: Pod[], now: number): BackoffRecord {
  const events = [...succeeded.map((p) => ({ ok: true, t: finishTime(p, now) })), ...failed.map((p) => ({ ok: false, t: finishTime(p, now) }))].sort((a, b) => a.t - b.t);
  const next = { ...rec };
  for (const e of events) {
    if (e.ok) {
      next.failuresAfterLastSuccess = 0;
      next.lastFailureTime = undefined;
    } else {
      next.failuresAfterLastSuccess++;
      next.lastFailureTime = Math.max(next.lastFailureTime ?? 0, e.t);
    }
  }
  return next;
}

/** How long before the next pod may be created: 10 s doubling per failure, capped. */
export function backoffRemaining(rec: BackoffRecord | undefined, now: number): number {
  if (!rec || rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  const delay = Math.min(POD_FAILURE_BACKOFF_MS * 2 ** (rec.failuresAfterLastSuccess - 1), MAX_POD_FAILURE_BACKOFF_MS);
  return Math.max(0, rec.lastFailureTime + delay - now);
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
export function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** pastActiveDeadline, and otherwise how long until it passes (undefined when none applies). */
export function activeDeadline(job: Job, now: number): { past: boolean; remainingMs?: number } {
  const ads = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (ads === undefined || ads === null || !start || job.spec?.suspend) return { past: false };
  const remaining = Date.parse(start) + ads * 1000 - now;
  return remaining <= 0 ? { past: true } : { past: false, remainingMs: remaining };
}

export const isoTime = (t: number): string => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');

export function newCondition(type: string, status: string, reason: string, message: string, now: number): Mutable<JobCondition> {
  const t = isoTime(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

export function findCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/**
 * ensureJobConditionStatus: sets a condition's status, reason and message, adding it only
 * when it is True (a False condition is never added where none was). Returns whether it changed.
 */
export function ensureCondition(conds: Mutable<JobCondition>[], type: string, status: string, reason: string, message: string, now: number): boolean {
  const c = conds.find((x) => x.type === type);
  if (!c) {
    if (status !== 'True') return false;
    conds.push(newCondition(type, status, reason, message, now));
    return true;
  }
  if (c.status === status && c.reason === reason && c.message === message) return false;
  if (c.status !== status) c.lastTransitionTime = isoTime(now);
  c.status = status;
  c.reason = reason;
  c.message = message;
  c.lastProbeTime = isoTime(now);
  return true;
}

/** The finished (Complete or Failed, True) condition, if any. */
export function jobFinished(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The pod the Job creates: tracking finalizer, and for Indexed Jobs index, hostname and env. */
export function podForJob(job: Job, index?: number): Mutable<Pod> {
  const name = job.metadata?.name ?? '';
  const pod = podFromTemplate(job.spec?.template, { ...job, apiVersion: 'batch/v1', kind: 'Job' }, index === undefined ? `${name}-` : `${name}-${index}-`);
  const meta = pod.metadata!;
  meta.finalizers = [...(meta.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER), JOB_TRACKING_FINALIZER];
  if (index !== undefined) {
    meta.annotations = { ...(meta.annotations ?? {}), [COMPLETION_INDEX_ANNOTATION]: String(index) };
    meta.labels = { ...(meta.labels ?? {}), [COMPLETION_INDEX_ANNOTATION]: String(index) };
    const spec = (pod.spec ??= { containers: [] });
    if (!spec.hostname) spec.hostname = `${name}-${index}`;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      if ((c.env ?? []).some((e) => e.name === JOB_INDEX_ENV)) continue;
      c.env = [...(c.env ?? []), { name: JOB_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } }];
    }
  }
  return pod;
}
