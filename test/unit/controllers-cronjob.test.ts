import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { ApiError } from '../../controllers/framework/client.js';
import { parseSchedule } from '../../controllers/cron.js';
import { cleanupFinishedJobs, syncCronJob, type CronJobSyncDeps } from '../../controllers/cronjob.js';
import { dueScheduleTime, jobFromTemplate, jobsBeyondHistory, mostRecentScheduleTime, nextScheduleDelay } from '../../controllers/cronjob-logic.js';

const T = (s: string): number => Date.parse(s);

function cronJob(spec: Partial<NonNullable<CronJob['spec']>> = {}, status: CronJob['status'] = {}, created = '2024-01-01T00:00:00Z'): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: created },
    spec: {
      schedule: '*/5 * * * *',
      timeZone: 'UTC',
      jobTemplate: { metadata: { labels: { app: 'x' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } } } },
      ...spec,
    },
    status,
  };
}

function job(name: string, uid: string, cond?: 'Complete' | 'Failed', extra: Partial<Job['status']> = {}): Job {
  return {
    metadata: { name, namespace: 'default', uid, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true }] },
    status: { ...(cond ? { conditions: [{ type: cond, status: 'True' }] } : {}), ...extra },
  };
}

function fakeDeps(now: string, existing: Record<string, Job> = {}): CronJobSyncDeps & { created: Job[]; deleted: string[]; events: string[] } {
  const created: Job[] = [];
  const deleted: string[] = [];
  const events: string[] = [];
  const notFound = (): ApiError => new ApiError(404, { reason: 'NotFound', message: 'not found' });
  return {
    now: T(now),
    created,
    deleted,
    events,
    recorder: { event: (_o, type, reason, message) => void events.push(`${type} ${reason} ${message}`) },
    client: {
      get: async <X>(path: string): Promise<X> => {
        const j = existing[path.split('/').pop()!];
        if (!j) throw notFound();
        return j as X;
      },
      create: async <X>(_path: string, body: unknown): Promise<X> => {
        const j = body as Job;
        if (existing[j.metadata!.name!]) throw new ApiError(409, { reason: 'AlreadyExists' });
        const made = { ...j, metadata: { ...j.metadata, uid: `uid-${j.metadata!.name}`, resourceVersion: '1' } };
        created.push(made);
        return made as X;
      },
      delete: async (path: string) => void deleted.push(path.split('/').pop()!),
    },
  };
}

describe('schedule bookkeeping', () => {
  const sched = parseSchedule('*/5 * * * *', 'UTC');

  test('nothing due before the first schedule time', () => {
    const cj = cronJob({}, {}, '2024-01-01T00:01:00Z');
    expect(dueScheduleTime(cj, T('2024-01-01T00:04:00Z'), sched).time).toBeUndefined();
    expect(nextScheduleDelay(cj, T('2024-01-01T00:04:00Z'), sched)).toBe(60_000 + 100);
  });

  test('the most recent missed time wins, and many misses are flagged', () => {
    const cj = cronJob({}, { lastScheduleTime: '2024-01-01T00:00:00Z' });
    const r = mostRecentScheduleTime(cj, T('2024-01-01T00:17:00Z'), sched, true);
    expect(new Date(r.mostRecent!).toISOString()).toBe('2024-01-01T00:15:00.000Z');
    expect(r.missed).toBe('few');
    const long = dueScheduleTime(cj, T('2024-01-03T00:02:00Z'), sched);
    expect(new Date(long.time!).toISOString()).toBe('2024-01-03T00:00:00.000Z');
    expect(long.tooManyMissed).toBe(true);
  });

  test('startingDeadlineSeconds limits how far back to look', () => {
    const cj = cronJob({ startingDeadlineSeconds: 60 }, { lastScheduleTime: '2024-01-01T00:00:00Z' });
    expect(dueScheduleTime(cj, T('2024-01-03T00:02:00Z'), sched)).toEqual({ tooManyMissed: false });
    expect(dueScheduleTime(cj, T('2024-01-03T00:00:30Z'), sched).time).toBe(T('2024-01-03T00:00:00Z'));
  });

  test('the Job for a scheduled time', () => {
    const j = jobFromTemplate(cronJob({ timeZone: 'Asia/Tokyo' }), T('2024-01-01T00:05:00Z'), 'Asia/Tokyo');
    expect(j.metadata?.name).toBe(`hello-${T('2024-01-01T00:05:00Z') / 60000}`);
    expect(j.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2024-01-01T09:05:00+09:00');
    expect(j.metadata?.labels).toEqual({ app: 'x' });
    expect(j.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true, blockOwnerDeletion: true });
  });

  test('history limits delete the oldest finished jobs', () => {
    const cj = cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 0 });
    const jobs = [
      job('a', '1', 'Complete', { startTime: '2024-01-01T00:00:00Z' }),
      job('b', '2', 'Complete', { startTime: '2024-01-01T00:05:00Z' }),
      job('c', '3', 'Failed', { startTime: '2024-01-01T00:10:00Z' }),
      job('d', '4'),
    ];
    expect(jobsBeyondHistory(cj, jobs).map((j) => j.metadata?.name)).toEqual(['a', 'c']);
  });
});

describe('syncCronJob', () => {
  test('creates the due Job and records it', async () => {
    const deps = fakeDeps('2024-01-01T00:05:10Z');
    const r = await syncCronJob(deps, cronJob(), []);
    expect(deps.created.map((j) => j.metadata?.name)).toEqual([`hello-${T('2024-01-01T00:05:00Z') / 60000}`]);
    expect(r.updateStatus).toBe(true);
    expect(r.cronJob.status?.lastScheduleTime).toBe('2024-01-01T00:05:00Z');
    expect(r.cronJob.status?.active?.[0]).toMatchObject({ kind: 'Job', name: deps.created[0].metadata?.name });
    expect(r.requeueAfterMs).toBe(T('2024-01-01T00:10:00Z') - T('2024-01-01T00:05:10Z') + 100);
    expect(deps.events).toContain(`Normal SuccessfulCreate Created job ${deps.created[0].metadata?.name}`);
  });

  test('does not run the same time twice', async () => {
    const deps = fakeDeps('2024-01-01T00:05:10Z');
    await syncCronJob(deps, cronJob({}, { lastScheduleTime: '2024-01-01T00:05:00Z' }), []);
    expect(deps.created).toEqual([]);
  });

  test('Forbid skips while a Job is active', async () => {
    const active = job('hello-1', 'j1');
    const deps = fakeDeps('2024-01-01T00:05:10Z', { 'hello-1': active });
    const cj = cronJob({ concurrencyPolicy: 'Forbid' }, { active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'j1' }] });
    await syncCronJob(deps, cj, [active]);
    expect(deps.created).toEqual([]);
    expect(deps.events).toContain('Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid');
  });

  test('Replace deletes the running Job first', async () => {
    const active = job('hello-1', 'j1');
    const deps = fakeDeps('2024-01-01T00:05:10Z', { 'hello-1': active });
    const cj = cronJob({ concurrencyPolicy: 'Replace' }, { active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'j1' }] });
    const r = await syncCronJob(deps, cj, [active]);
    expect(deps.deleted).toEqual(['hello-1']);
    expect(deps.created).toHaveLength(1);
    expect(r.cronJob.status?.active?.map((a) => a.name)).toEqual([deps.created[0].metadata?.name]);
  });

  test('a finished Job leaves the active list and sets lastSuccessfulTime', async () => {
    const done = job('hello-1', 'j1', 'Complete', { completionTime: '2024-01-01T00:03:00Z' });
    const deps = fakeDeps('2024-01-01T00:04:00Z', { 'hello-1': done });
    const cj = cronJob({}, { lastScheduleTime: '2024-01-01T00:00:00Z', active: [{ kind: 'Job', name: 'hello-1', namespace: 'default', uid: 'j1' }] });
    const r = await syncCronJob(deps, cj, [done]);
    expect(r.cronJob.status?.active).toEqual([]);
    expect(r.cronJob.status?.lastSuccessfulTime).toBe('2024-01-01T00:03:00Z');
    expect(deps.events).toContain('Normal SawCompletedJob Saw completed job: hello-1, condition: Complete');
  });

  test('a missing active Job is dropped', async () => {
    const deps = fakeDeps('2024-01-01T00:04:00Z');
    const cj = cronJob({}, { lastScheduleTime: '2024-01-01T00:00:00Z', active: [{ kind: 'Job', name: 'gone', namespace: 'default', uid: 'g' }] });
    const r = await syncCronJob(deps, cj, []);
    expect(r.cronJob.status?.active).toEqual([]);
    expect(deps.events).toContain('Normal MissingJob Active job went missing: gone');
  });

  test('suspend and missed deadlines start nothing', async () => {
    const deps = fakeDeps('2024-01-01T00:05:10Z');
    await syncCronJob(deps, cronJob({ suspend: true }), []);
    await syncCronJob(deps, cronJob({ startingDeadlineSeconds: 5 }), []);
    expect(deps.created).toEqual([]);
    // The deadline already hides the missed time from the search, as upstream: no event.
    expect(deps.events).toEqual([]);
  });

  test('too many missed start times warns but still runs the latest', async () => {
    const deps = fakeDeps('2024-01-05T00:00:30Z');
    await syncCronJob(deps, cronJob(), []);
    expect(deps.events).toContain('Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    expect(deps.created[0].metadata?.name).toBe(`hello-${T('2024-01-05T00:00:00Z') / 60000}`);
  });

  test('cleanup deletes past the history limit', async () => {
    const deps = fakeDeps('2024-01-01T00:04:00Z');
    const cj = cronJob({ successfulJobsHistoryLimit: 0 });
    const changed = await cleanupFinishedJobs(deps, { ...cj, status: {} } as never, [job('old', 'o', 'Complete')]);
    expect(changed).toBe(true);
    expect(deps.deleted).toEqual(['old']);
    expect(deps.events).toContain('Normal SuccessfulDelete Deleted job old');
  });
});
