// The CronJob controller's pure decisions, after upstream pkg/controller/cronjob/utils.go:
// which scheduled time is due (and how many were missed), when to look again, the Job for a
// scheduled time, and which finished Jobs fall out of the history limits.
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import type { CronSchedule } from './cron.js';
import { formatRFC3339 } from './cron.js';
import { newControllerRef } from './controller-utils.js';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Requeue a little after the schedule time so the clock has surely passed it. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
const MANY_MISSED = 100;

export type Missed = 'none' | 'few' | 'many';

const ms = (s: string | undefined): number | undefined => (s ? Date.parse(s) : undefined);

export interface MostRecent {
  earliest: number;
  mostRecent?: number;
  missed: Missed;
  error?: string;
}

/**
 * mostRecentScheduleTime: the latest schedule time in (earliest, now], where earliest is the
 * last schedule time (or creation), raised to now - startingDeadlineSeconds when asked.
 */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: CronSchedule, includeDeadline: boolean): MostRecent {
  let earliest = ms(cj.status?.lastScheduleTime) ?? ms(cj.metadata?.creationTimestamp) ?? now;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (includeDeadline && deadline !== undefined && deadline !== null) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = sched.next(earliest);
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  const t2 = sched.next(t1);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  // Count the misses by the first interval rather than walking them all: after a long outage
  // (or a wrong clock) there could be years of them.
  const missedCount = Math.floor(Math.floor((now - t1) / 1000) / between) + 1;
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = sched.next(potentialEarliest); t !== undefined && t <= now; t = sched.next(t)) mostRecent = t;
  const missed: Missed = missedCount > MANY_MISSED ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** The schedule time to act on now, if any (nextScheduleTime). */
export function dueScheduleTime(cj: CronJob, now: number, sched: CronSchedule): { time?: number; tooManyMissed: boolean; error?: string } {
  const r = mostRecentScheduleTime(cj, now, sched, true);
  if (r.mostRecent === undefined || r.mostRecent > now) return { tooManyMissed: false, error: r.error };
  return { time: r.mostRecent, tooManyMissed: r.missed === 'many', error: r.error };
}

/** How long until the next schedule time (nextScheduleTimeDuration), in ms. */
export function nextScheduleDelay(cj: CronJob, now: number, sched: CronSchedule): number | undefined {
  const r = mostRecentScheduleTime(cj, now, sched, false);
  const from = r.error ? now : (r.mostRecent ?? r.earliest);
  const next = sched.next(from);
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** Job names are the scheduled minute, so a restarted controller cannot start a run twice. */
export function jobNameFor(cj: CronJob, scheduled: number): string {
  return `${cj.metadata?.name}-${Math.floor(scheduled / 60_000)}`;
}

/** getJobFromTemplate2. */
export function jobFromTemplate(cj: CronJob, scheduled: number, zone: string): Mutable<Job> {
  const tmpl = structuredClone((cj.spec?.jobTemplate ?? {}) as Mutable<NonNullable<CronJob['spec']>['jobTemplate']>);
  const annotations = { ...(tmpl.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatRFC3339(scheduled, zone) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      namespace: cj.metadata?.namespace,
      ...(tmpl.metadata?.labels ? { labels: { ...tmpl.metadata.labels } } : {}),
      annotations,
      ownerReferences: [newControllerRef({ ...cj, apiVersion: 'batch/v1', kind: 'CronJob' })],
    },
    spec: tmpl.spec,
  };
}

export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export const isJobFinished = (job: Job): boolean => finishedCondition(job) !== undefined;
export const isJobSucceeded = (job: Job): boolean => finishedCondition(job)?.type === 'Complete';

export function jobRef(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata?.name,
    namespace: job.metadata?.namespace,
    uid: job.metadata?.uid,
    resourceVersion: job.metadata?.resourceVersion,
  };
}

/** byJobStartTime: started before not started, then oldest first, then by name. */
function byStartTime(a: Job, b: Job): number {
  const sa = ms(a.status?.startTime);
  const sb = ms(b.status?.startTime);
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  return sa! - sb!;
}

/** The finished Jobs past successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
export function jobsBeyondHistory(cj: CronJob, jobs: Job[]): Job[] {
  const { successfulJobsHistoryLimit: okLimit, failedJobsHistoryLimit: failLimit } = cj.spec ?? {};
  const out: Job[] = [];
  const over = (list: Job[], limit: number | undefined): void => {
    if (limit === undefined || limit === null || list.length <= limit) return;
    out.push(...[...list].sort(byStartTime).slice(0, list.length - limit));
  };
  over(jobs.filter((j) => finishedCondition(j)?.type === 'Complete'), okLimit);
  over(jobs.filter((j) => finishedCondition(j)?.type === 'Failed'), failLimit);
  return out;
}

/** time.RFC1123Z, as the MissSchedule event prints the time. */
export function formatRFC1123Z(t: number): string {
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
