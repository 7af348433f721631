import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  activePodsForRemoval,
  backoffRemaining,
  firstPendingIndexes,
  formatIndexes,
  parseIndexes,
  podForJob,
  updateBackoff,
  wantActive,
  JOB_TRACKING_FINALIZER,
} from '../../controllers/job-logic.js';
import { syncJob, type JobSyncDeps } from '../../controllers/job-sync.js';
import { ttlExpiry } from '../../controllers/job-ttl.js';

const NOW = Date.parse('2024-01-01T00:10:00Z');
const LABELS = { 'batch.kubernetes.io/controller-uid': 'job-uid', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'job-uid', 'job-name': 'pi' };

function mkJob(spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = undefined): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid: 'job-uid', resourceVersion: '5' },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } },
      template: { metadata: { labels: LABELS }, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

let seq = 0;
function mkPod(phase: string, extra: { index?: number; finalizer?: boolean; deleting?: boolean; ready?: boolean; finishedAt?: string } = {}): Pod {
  const n = ++seq;
  return {
    metadata: {
      name: `pi-${n}`,
      namespace: 'default',
      uid: `pod-${n}`,
      labels: LABELS,
      annotations: extra.index === undefined ? {} : { 'batch.kubernetes.io/job-completion-index': String(extra.index) },
      finalizers: extra.finalizer === false ? [] : [JOB_TRACKING_FINALIZER],
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
      creationTimestamp: '2024-01-01T00:00:00Z',
      ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:09:00Z' } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'node-1' },
    status: {
      phase,
      ...(extra.ready ? { conditions: [{ type: 'Ready', status: 'True' }] } : {}),
      ...(extra.finishedAt ? { containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: extra.finishedAt } } }] } : {}),
    },
  };
}

interface Fake extends JobSyncDeps {
  created: Pod[];
  deleted: string[];
  unfinalized: string[];
  statuses: Job[];
  events: string[];
}

function fake(overrides: Partial<JobSyncDeps> = {}): Fake {
  const f: Fake = {
    created: [],
    deleted: [],
    unfinalized: [],
    statuses: [],
    events: [],
    now: NOW,
    backoff: { failuresAfterLastSuccess: 0 },
    satisfied: true,
    finalizerRemoved: new Set(),
    expectCreations: () => undefined,
    creationsFailed: () => undefined,
    expectDeletions: () => undefined,
    deletionFailed: () => undefined,
    recorder: { event: (_o, type, reason, message) => void f.events.push(`${type} ${reason} ${message}`) },
    client: {
      create: async <T>(_p: string, body: unknown): Promise<T> => {
        const pod = structuredClone(body) as Pod & { metadata: { name?: string } };
        pod.metadata.name = `${pod.metadata.generateName}${f.created.length}`;
        f.created.push(pod);
        return pod as T;
      },
      delete: async (p: string) => void f.deleted.push(p.split('/').pop()!),
      patch: async <T>(p: string): Promise<T> => {
        f.unfinalized.push(p.split('/').pop()!);
        return {} as T;
      },
      update: async <T>(_p: string, body: unknown): Promise<T> => {
        f.statuses.push(structuredClone(body) as Job);
        return structuredClone(body) as T;
      },
    },
    ...overrides,
  };
  return f;
}

const last = (f: Fake): NonNullable<Job['status']> => f.statuses[f.statuses.length - 1].status!;
const condTypes = (s: NonNullable<Job['status']>): string[] => (s.conditions ?? []).filter((c) => c.status === 'True').map((c) => c.type);

describe('job logic', () => {
  test('completed index strings', () => {
    expect(formatIndexes([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8');
    expect([...parseIndexes('0-2,5,7-8', 8)].sort()).toEqual([0, 1, 2, 5, 7]);
    expect(formatIndexes([])).toBe('');
  });

  test('how many pods to run', () => {
    expect(wantActive(mkJob({ parallelism: 3, completions: 5 }), 0, 0)).toBe(3);
    expect(wantActive(mkJob({ parallelism: 3, completions: 5 }), 4, 1)).toBe(1);
    expect(wantActive(mkJob({ parallelism: 3, completions: undefined }), 0, 0)).toBe(3);
    expect(wantActive(mkJob({ parallelism: 3, completions: undefined }), 1, 2)).toBe(2);
  });

  test('pending indexes skip succeeded and running ones', () => {
    expect(firstPendingIndexes(new Set([0, 2]), [mkPod('Running', { index: 1 })], 2, 5)).toEqual([3, 4]);
  });

  test('duplicated and out-of-range indexes are removed first', () => {
    const job = mkJob({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
    const a = mkPod('Running', { index: 0 });
    const b = mkPod('Pending', { index: 0 });
    const c = mkPod('Running', { index: 7 });
    const d = mkPod('Running', { index: 1 });
    expect(activePodsForRemoval(job, [a, b, c, d], 0).map((p) => p.metadata?.name).sort()).toEqual([b, c].map((p) => p.metadata?.name).sort());
  });

  test('back-off doubles from 10 s and is capped at 10 min', () => {
    const t0 = NOW - 1000;
    let rec = updateBackoff({ failuresAfterLastSuccess: 0 }, [], [mkPod('Failed', { finishedAt: new Date(t0).toISOString() })], NOW);
    expect(backoffRemaining(rec, NOW)).toBe(9000);
    rec = updateBackoff(rec, [], [mkPod('Failed', { finishedAt: new Date(t0).toISOString() })], NOW);
    expect(backoffRemaining(rec, NOW)).toBe(19000);
    expect(backoffRemaining({ failuresAfterLastSuccess: 20, lastFailureTime: NOW }, NOW)).toBe(600_000);
    rec = updateBackoff(rec, [mkPod('Succeeded', { finishedAt: new Date(NOW).toISOString() })], [], NOW);
    expect(backoffRemaining(rec, NOW)).toBe(0);
  });

  test('indexed pods carry index, hostname and env', () => {
    const pod = podForJob(mkJob({ completionMode: 'Indexed', completions: 3 }), 2);
    expect(pod.metadata?.generateName).toBe('pi-2-');
    expect(pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(pod.metadata?.labels?.['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(pod.spec?.hostname).toBe('pi-2');
    expect(pod.spec?.containers[0].env).toEqual([
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    ]);
    expect(pod.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
  });

  test('ttl expiry counts from completion', () => {
    const job = mkJob({ ttlSecondsAfterFinished: 30 }, { completionTime: '2024-01-01T00:00:00Z', conditions: [{ type: 'Complete', status: 'True' }] });
    expect(ttlExpiry(job)).toBe(Date.parse('2024-01-01T00:00:30Z'));
    expect(ttlExpiry(mkJob({ ttlSecondsAfterFinished: 30 }))).toBeUndefined();
  });
});

describe('syncJob', () => {
  test('a new Job creates pods from its template', async () => {
    const f = fake();
    await syncJob(f, mkJob({ parallelism: 2, completions: 3 }), []);
    expect(f.created).toHaveLength(2);
    const p = f.created[0];
    expect(p.metadata?.generateName).toBe('pi-');
    expect(p.metadata?.labels).toEqual(LABELS);
    expect(p.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(p.metadata?.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true, blockOwnerDeletion: true }]);
    expect(last(f)).toMatchObject({ active: 2, ready: 0, terminating: 0, startTime: '2024-01-01T00:10:00Z', uncountedTerminatedPods: {} });
    expect(f.events).toContain('Normal SuccessfulCreate Created pod: pi-0');
  });

  test('succeeded pods are counted through uncountedTerminatedPods and released', async () => {
    const f = fake();
    const done = mkPod('Succeeded');
    const running = mkPod('Running', { ready: true });
    await syncJob(f, mkJob({ parallelism: 2, completions: 3 }, { startTime: '2024-01-01T00:00:00Z', active: 2 }), [done, running]);
    expect(f.statuses[0].status?.uncountedTerminatedPods).toEqual({ succeeded: [done.metadata?.uid] });
    expect(f.unfinalized).toEqual([done.metadata?.name]);
    expect(last(f)).toMatchObject({ succeeded: 1, active: 2, ready: 1, uncountedTerminatedPods: {} });
    expect(f.created).toHaveLength(1);
  });

  test('enough successes: SuccessCriteriaMet, then Complete', async () => {
    const f = fake();
    const pods = [mkPod('Succeeded'), mkPod('Succeeded')];
    await syncJob(f, mkJob({ parallelism: 2, completions: 3 }, { startTime: '2024-01-01T00:00:00Z', succeeded: 1 }), pods);
    const s = last(f);
    expect(condTypes(s)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(s.conditions?.[1]).toMatchObject({ reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    expect(s).toMatchObject({ succeeded: 3, completionTime: '2024-01-01T00:10:00Z' });
    // Zero counters are omitted, as upstream's omitempty does.
    expect(s.active).toBeUndefined();
    expect(f.created).toHaveLength(0);
    expect(f.events).toContain('Normal Completed Job completed');
  });

  test('a failure backs off before the replacement pod', async () => {
    const f = fake();
    const failed = mkPod('Failed', { finishedAt: new Date(NOW - 2000).toISOString() });
    const r = await syncJob(f, mkJob({}, { startTime: '2024-01-01T00:00:00Z', active: 1 }), [failed]);
    expect(f.created).toHaveLength(0);
    expect(r.requeueAfterMs).toBe(8000);
    expect(last(f)).toMatchObject({ failed: 1, ready: 0, terminating: 0 });
    // Once the back-off passed, the replacement comes.
    const g = fake({ backoff: r.backoff, now: NOW + 9000 });
    await syncJob(g, mkJob({}, { startTime: '2024-01-01T00:00:00Z', failed: 1 }), []);
    expect(g.created).toHaveLength(1);
  });

  test('past the backoff limit: FailureTarget, pods stopped, then Failed', async () => {
    const f = fake();
    const failed = mkPod('Failed');
    const running = mkPod('Running');
    await syncJob(f, mkJob({ backoffLimit: 1, parallelism: 2, completions: 4 }, { startTime: '2024-01-01T00:00:00Z', failed: 1, active: 2 }), [failed, running]);
    expect(f.deleted).toEqual([running.metadata?.name]);
    let s = last(f);
    expect(condTypes(s)).toEqual(['FailureTarget']);
    expect(s.conditions?.[0]).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(s).toMatchObject({ failed: 3, terminating: 1 });
    // Next sync: the stopped pod is gone.
    const g = fake();
    await syncJob(g, { ...mkJob({ backoffLimit: 1, parallelism: 2, completions: 4 }), status: s }, []);
    s = last(g);
    expect(condTypes(s)).toEqual(['FailureTarget', 'Failed']);
    expect(s.conditions?.[1]).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(g.events).toContain('Warning BackoffLimitExceeded Job has reached the specified backoff limit');
  });

  test('activeDeadlineSeconds fails the Job with DeadlineExceeded', async () => {
    const f = fake();
    await syncJob(f, mkJob({ activeDeadlineSeconds: 60 }, { startTime: '2024-01-01T00:00:00Z', active: 1 }), []);
    const s = last(f);
    expect(condTypes(s)).toEqual(['FailureTarget', 'Failed']);
    expect(s.conditions?.[1]).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    const g = fake();
    const r = await syncJob(g, mkJob({ activeDeadlineSeconds: 660 }, { startTime: '2024-01-01T00:00:00Z' }), []);
    expect(r.requeueAfterMs).toBe(60_000);
  });

  test('Indexed Job: pods per pending index, completedIndexes', async () => {
    const f = fake();
    const job = mkJob({ completionMode: 'Indexed', completions: 4, parallelism: 2 }, { startTime: '2024-01-01T00:00:00Z', completedIndexes: '0' });
    await syncJob(f, job, [mkPod('Succeeded', { index: 2 }), mkPod('Running', { index: 1 })]);
    expect(last(f).completedIndexes).toBe('0,2');
    expect(last(f).succeeded).toBe(1);
    expect(f.created.map((p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'])).toEqual(['3']);
  });

  test('suspend deletes running pods and sets the Suspended condition', async () => {
    const f = fake();
    const running = mkPod('Running');
    await syncJob(f, mkJob({ suspend: true }, { startTime: '2024-01-01T00:00:00Z', active: 1 }), [running]);
    expect(f.deleted).toEqual([running.metadata?.name]);
    expect(last(f).conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'True', reason: 'JobSuspended' });
    expect(f.events).toContain('Normal Suspended Job suspended');
  });

  test('work queue Job: complete once one pod succeeded and none run', async () => {
    const f = fake();
    await syncJob(f, mkJob({ completions: undefined, parallelism: 2 }, { startTime: '2024-01-01T00:00:00Z' }), [mkPod('Succeeded'), mkPod('Running')]);
    expect(f.created).toHaveLength(0);
    expect(condTypes(last(f))).toEqual([]);
    const g = fake();
    await syncJob(g, mkJob({ completions: undefined, parallelism: 2 }, { startTime: '2024-01-01T00:00:00Z', succeeded: 1 }), [mkPod('Succeeded')]);
    expect(condTypes(last(g))).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(last(g).succeeded).toBe(2);
  });

  test('a pod its node has finished deleting counts as failed and is released', async () => {
    const f = fake();
    const gone = mkPod('Running', { deleting: true });
    (gone.metadata as { deletionGracePeriodSeconds?: number }).deletionGracePeriodSeconds = 0;
    const stopping = mkPod('Running', { deleting: true });
    await syncJob(f, mkJob({ parallelism: 2, completions: 2 }, { startTime: '2024-01-01T00:00:00Z' }), [gone, stopping]);
    expect(f.unfinalized).toEqual([gone.metadata?.name]);
    expect(last(f)).toMatchObject({ failed: 1, terminating: 2 });
  });

  test('a steady Job writes nothing', async () => {
    const f = fake();
    const status = { terminating: 0, ready: 0, startTime: '2024-01-01T00:00:00Z', uncountedTerminatedPods: {}, active: 1 };
    await syncJob(f, mkJob({}, status), [mkPod('Running')]);
    expect(f.statuses).toHaveLength(0);
    expect(f.created).toHaveLength(0);
  });

  test('a finished Job only releases finalizers', async () => {
    const f = fake();
    const p = mkPod('Succeeded');
    await syncJob(f, mkJob({}, { conditions: [{ type: 'Complete', status: 'True' }] }), [p]);
    expect(f.unfinalized).toEqual([p.metadata?.name]);
    expect(f.statuses).toHaveLength(0);
    expect(f.created).toHaveLength(0);
  });
});
