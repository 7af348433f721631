// Tier 6 of the conformance subset: Jobs and CronJobs, re-stating upstream's
// test/e2e/apps/job.go and cronjob.go. Upstream gives every test its own namespace; so do these
// (created per test, deleted after the file).
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import {
  IMAGE, batch, core, mergePatch, startWatch, strategicMergePatch,
  useExtraNamespaces, useTestNamespace, waitFor,
} from './framework.js';

useTestNamespace('jobs');
/** A fresh namespace for one test, as upstream's framework gives each test. */
const testNamespace = useExtraNamespaces();

const rand = (n = 5): string => randomBytes(8).toString('hex').slice(0, n);

// Suite-wide values of upstream's job.go.
const parallelism = 2;
const completions = 4;
const backoffLimit = 6;

type Behavior = 'notTerminate' | 'succeed' | 'failOnce';

/** upstream e2ejob.NewTestJob(behavior, name, restartPolicy, parallelism, completions, activeDeadlineSeconds, backoffLimit) */
function newTestJob(behavior: Behavior, name: string, restartPolicy: 'Never' | 'OnFailure', par: number, comp: number, backoff: number): k8s.V1Job {
  const command: Record<Behavior, string[]> = {
    // busybox sleep as PID 1 ignores SIGTERM; the trap lets deletion finish without the grace period.
    notTerminate: ['sh', '-c', "trap 'exit 0' TERM; sleep 1000000 & wait"],
    succeed: ['sh', '-c', 'exit 0'],
    failOnce: ['/bin/sh', '-c', 'if [[ -r /data/foo ]] ; then exit 0 ; else touch /data/foo ; exit 1 ; fi'],
  };
  return {
    metadata: { name },
    spec: {
      parallelism: par,
      completions: comp,
      backoffLimit: backoff,
      manualSelector: false,
      template: {
        metadata: { labels: { somekey: 'somevalue' } },
        spec: {
          restartPolicy,
          volumes: [{ name: 'data', emptyDir: {} }],
          containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: command[behavior], volumeMounts: [{ mountPath: '/data', name: 'data' }] }],
        },
      },
    },
  };
}

/** upstream e2ejob.GetJobPods: pods labelled job-name=<name>. */
async function jobPods(namespace: string, name: string): Promise<k8s.V1Pod[]> {
  return (await core().listNamespacedPod({ namespace, labelSelector: `job-name=${name}` })).items;
}

/** upstream e2ejob.WaitForJobPodsRunning */
async function waitForJobPodsRunning(namespace: string, name: string, expected: number): Promise<void> {
  await waitFor(`${expected} running pods of job ${name}`, async () =>
    (await jobPods(namespace, name)).filter((p) => p.status?.phase === 'Running').length === expected, 120_000);
}

/** upstream e2ejob.WaitForJobComplete: status.succeeded reaches completions. */
async function waitForJobComplete(namespace: string, name: string, comp: number, timeoutMs = 180_000): Promise<k8s.V1Job> {
  return waitFor(`job ${name} to reach ${comp} completions`, async () => {
    const j = await batch().readNamespacedJob({ namespace, name });
    return j.status?.succeeded === comp ? j : undefined;
  }, timeoutMs, 500);
}

const code = (err: unknown): number | undefined => (err as { code?: number }).code;

async function retryOnConflict<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (code(err) !== 409 || i >= 9) throw err;
    }
  }
}

/** RFC 3339 without fractional seconds (what survives the wire), as metav1.Now().Rfc3339Copy(). */
const nowRfc3339 = (): Date => new Date(Math.floor(Date.now() / 1000) * 1000);

describe('Job', () => {
  test('[sig-apps] Job should manage the lifecycle of a job', async () => {
    const ns = await testNamespace('job');
    const jobName = `e2e-${rand()}`;
    const label = { 'e2e-job-label': jobName };
    const labelSelector = `e2e-job-label=${jobName}`;
    const list = await batch().listNamespacedJob({ namespace: ns, labelSelector });
    const w = await startWatch<k8s.V1Job>(`/apis/batch/v1/namespaces/${ns}/jobs`, { labelSelector, resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      // Creating a suspended job
      const job = newTestJob('succeed', jobName, 'Never', parallelism, completions, backoffLimit);
      job.metadata!.labels = label;
      job.spec!.suspend = true;
      await batch().createNamespacedJob({ namespace: ns, body: job });

      // Patching the Job
      const patchedJob = await batch().patchNamespacedJob({ namespace: ns, name: jobName, body: { metadata: { labels: { [jobName]: 'patched' } } } }, strategicMergePatch);
      // Watching for Job to be patched
      await w.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === jobName && e.object.metadata?.labels?.[jobName] === 'patched', 30_000);
      expect(patchedJob.metadata?.labels).toHaveProperty(jobName, 'patched');

      // Updating the job
      const updatedJob = await retryOnConflict(async () => {
        const cur = await batch().readNamespacedJob({ namespace: ns, name: jobName });
        cur.spec!.suspend = false;
        cur.metadata!.annotations = { ...(cur.metadata!.annotations ?? {}), updated: 'true' };
        return batch().replaceNamespacedJob({ namespace: ns, name: jobName, body: cur });
      });
      // Watching for Job to be updated
      await w.waitForEvent((e) => e.type === 'MODIFIED' && e.object.metadata?.name === jobName && e.object.metadata?.annotations?.updated === 'true', 30_000);
      expect(updatedJob.metadata?.annotations).toHaveProperty('updated', 'true');

      // Listing all Jobs with LabelSelector
      const jobs = await batch().listJobForAllNamespaces({ labelSelector });
      expect(jobs.items).toHaveLength(1);
      const testJob = jobs.items[0];
      expect(testJob.metadata?.name).toBe(jobName);

      // Waiting for job to complete
      await waitForJobComplete(ns, jobName, completions);

      // Delete a job collection with a labelselector
      await batch().deleteCollectionNamespacedJob({ namespace: ns, labelSelector, propagationPolicy: 'Background' });
      // Watching for Job to be deleted
      await w.waitForEvent((e) => e.type === 'DELETED' && e.object.metadata?.name === jobName && e.object.metadata?.labels?.['e2e-job-label'] === jobName, 60_000);
      // Relist jobs to confirm deletion
      const after = await batch().listJobForAllNamespaces({ labelSelector });
      expect(after.items).toHaveLength(0);
    } finally {
      w.stop();
    }
  });

  test('[sig-apps] Job should apply changes to a job status', async () => {
    const ns = await testNamespace('job');
    const job = await batch().createNamespacedJob({ namespace: ns, body: newTestJob('notTerminate', 'suspend-false-to-true', 'Never', parallelism, completions, backoffLimit) });
    const name = job.metadata!.name!;
    // Ensure pods equal to parallelism count is attached to the job
    await waitForJobPodsRunning(ns, name, parallelism);

    // patching /status
    const now1 = nowRfc3339();
    const patched = await batch().patchNamespacedJobStatus({
      namespace: ns, name,
      body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { startTime: now1.toISOString().replace('.000Z', 'Z') } },
    }, mergePatch);
    expect(patched.status?.startTime?.getTime()).toBe(now1.getTime());
    expect(patched.metadata?.annotations).toHaveProperty('patchedstatus', 'true');

    // updating /status
    const now2 = new Date(nowRfc3339().getTime() + 1000);
    const updated = await retryOnConflict(async () => {
      const cur = await batch().readNamespacedJob({ namespace: ns, name });
      cur.status!.startTime = now2;
      return batch().replaceNamespacedJobStatus({ namespace: ns, name, body: cur });
    });
    expect(updated.status?.startTime?.getTime()).toBe(now2.getTime());

    // get /status
    const got = await batch().readNamespacedJobStatus({ namespace: ns, name });
    expect(got.metadata?.uid).toBe(job.metadata?.uid);
  });

  test('[sig-apps] Job should delete a job', async () => {
    const ns = await testNamespace('job');
    const job = await batch().createNamespacedJob({ namespace: ns, body: newTestJob('notTerminate', 'foo', 'Never', parallelism, completions, backoffLimit) });
    // Ensuring active pods == parallelism
    await waitForJobPodsRunning(ns, 'foo', parallelism);
    await waitFor('job status.active == parallelism', async () => (await batch().readNamespacedJob({ namespace: ns, name: 'foo' })).status?.active === parallelism, 60_000);
    // delete a job (DeleteResourceAndWaitForGC: background propagation, then the job and its pods disappear)
    const pods = await jobPods(ns, 'foo');
    expect(pods.length).toBeGreaterThanOrEqual(parallelism);
    await batch().deleteNamespacedJob({ namespace: ns, name: 'foo', propagationPolicy: 'Background' });
    await waitFor('job gone', () => batch().readNamespacedJob({ namespace: ns, name: 'foo' }).then(() => false, (err) => code(err) === 404), 60_000);
    await waitFor('job pods gone', async () => {
      const left = (await core().listNamespacedPod({ namespace: ns })).items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === job.metadata?.uid));
      return left.length === 0;
    }, 120_000);
    // Ensuring job was deleted
    await expect(batch().readNamespacedJob({ namespace: ns, name: 'foo' })).rejects.toMatchObject({ code: 404 });
  });

  test('[sig-apps] Job should run a job to completion when tasks sometimes fail and are locally restarted', async () => {
    const ns = await testNamespace('job');
    // One failure, then a success, local restarts.
    const job = newTestJob('failOnce', 'fail-once-local', 'OnFailure', parallelism, completions, backoffLimit);
    await batch().createNamespacedJob({ namespace: ns, body: job });
    // Ensuring job reaches completions
    await waitForJobComplete(ns, 'fail-once-local', completions, 240_000);
    // The failures were restarted in place: the pods that ran show a container restart, none failed.
    const pods = await jobPods(ns, 'fail-once-local');
    expect(pods.filter((p) => p.status?.phase === 'Succeeded').length).toBeGreaterThanOrEqual(completions);
    expect(pods.filter((p) => p.status?.phase === 'Failed')).toHaveLength(0);
    for (const p of pods.filter((p) => p.status?.phase === 'Succeeded')) {
      expect(p.status?.containerStatuses?.[0]?.restartCount ?? 0).toBeGreaterThanOrEqual(1);
    }
  });

  test('[sig-apps] Job should create pods for an Indexed job with completion indexes and specified hostname', async () => {
    const ns = await testNamespace('job');
    // Creating Indexed job
    const job = newTestJob('succeed', 'indexed-job', 'Never', 2, 4, 6);
    job.spec!.completionMode = 'Indexed';
    await batch().createNamespacedJob({ namespace: ns, body: job });
    // Ensuring job reaches completions
    const done = await waitForJobComplete(ns, 'indexed-job', 4);
    expect(done.status?.completedIndexes).toBe('0-3');
    // Ensuring pods with index for job exist
    const pods = await jobPods(ns, 'indexed-job');
    const succeeded = new Set<number>();
    for (const pod of pods) {
      if (pod.status?.phase !== 'Succeeded' || !pod.metadata?.annotations) continue;
      const ix = Number.parseInt(pod.metadata.annotations['batch.kubernetes.io/job-completion-index'], 10);
      expect(Number.isInteger(ix)).toBe(true);
      succeeded.add(ix);
      expect(pod.spec?.hostname).toBe(`indexed-job-${ix}`);
      // the index also reaches the container as JOB_COMPLETION_INDEX
      const env = pod.spec?.containers[0].env?.find((e) => e.name === 'JOB_COMPLETION_INDEX');
      expect(env?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    }
    expect([...succeeded].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  });
});

describe('CronJob', () => {
  /** upstream getCronJob / newTestCronJob */
  function newTestCronJob(name: string, schedule: string, concurrencyPolicy: 'Allow' | 'Forbid' | 'Replace', command: string[] | undefined, successLimit?: number, failedLimit?: number): k8s.V1CronJob {
    return {
      metadata: { name },
      spec: {
        schedule,
        concurrencyPolicy,
        successfulJobsHistoryLimit: successLimit,
        failedJobsHistoryLimit: failedLimit,
        jobTemplate: {
          spec: {
            parallelism: 1,
            completions: 1,
            backoffLimit: 1,
            template: {
              spec: {
                restartPolicy: 'OnFailure',
                volumes: [{ name: 'data', emptyDir: {} }],
                containers: [{ name: 'c', image: IMAGE, imagePullPolicy: 'IfNotPresent', command, volumeMounts: [{ mountPath: '/data', name: 'data' }] }],
              },
            },
          },
        },
      },
    };
  }

  test('[sig-apps] CronJob should support CronJob API operations', async () => {
    const ns = await testNamespace('cronjob');
    const uniqueName = ns;
    const cjTemplate = newTestCronJob('test-api', '* */1 * * ?', 'Allow', ['sleep', '300'], 1, 0);
    cjTemplate.metadata!.labels = { 'special-label': uniqueName };
    const sel = `special-label=${uniqueName}`;

    // creating
    const created = await batch().createNamespacedCronJob({ namespace: ns, body: cjTemplate });
    // getting
    const gotten = await batch().readNamespacedCronJob({ namespace: ns, name: created.metadata!.name! });
    expect(gotten.metadata?.uid).toBe(created.metadata?.uid);
    // listing
    const cjs = await batch().listNamespacedCronJob({ namespace: ns, labelSelector: sel });
    expect(cjs.items).toHaveLength(1);
    // watching
    const w = await startWatch<k8s.V1CronJob>(`/apis/batch/v1/namespaces/${ns}/cronjobs`, { resourceVersion: cjs.metadata!.resourceVersion!, labelSelector: sel });
    // cluster-wide listing and watching
    const clusterCJs = await batch().listCronJobForAllNamespaces({ labelSelector: sel });
    expect(clusterCJs.items).toHaveLength(1);
    const cw = await startWatch<k8s.V1CronJob>('/apis/batch/v1/cronjobs', { resourceVersion: cjs.metadata!.resourceVersion!, labelSelector: sel });
    cw.stop();
    try {
      // patching
      const patched = await batch().patchNamespacedCronJob({ namespace: ns, name: 'test-api', body: { metadata: { annotations: { patched: 'true' } } } }, mergePatch);
      expect(patched.metadata?.annotations).toHaveProperty('patched', 'true');
      // updating
      const updated = await retryOnConflict(async () => {
        const cur = await batch().readNamespacedCronJob({ namespace: ns, name: 'test-api' });
        cur.metadata!.annotations = { ...(cur.metadata!.annotations ?? {}), updated: 'true' };
        return batch().replaceNamespacedCronJob({ namespace: ns, name: 'test-api', body: cur });
      });
      expect(updated.metadata?.annotations).toHaveProperty('updated', 'true');
      // waiting for watch events with expected annotations: every event up to it is MODIFIED
      const seen = await w.waitForEvent((e) => e.object.metadata?.annotations?.patched === 'true', 30_000);
      for (const e of w.events.slice(0, w.events.indexOf(seen) + 1)) expect(e.type).toBe('MODIFIED');
    } finally {
      w.stop();
    }

    // patching /status
    const now1 = nowRfc3339();
    const patchedStatus = await batch().patchNamespacedCronJobStatus({
      namespace: ns, name: 'test-api',
      body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { lastScheduleTime: now1.toISOString().replace('.000Z', 'Z') } },
    }, mergePatch);
    expect(patchedStatus.status?.lastScheduleTime?.getTime()).toBe(now1.getTime());
    expect(patchedStatus.metadata?.annotations).toHaveProperty('patchedstatus', 'true');
    // updating /status
    const now2 = new Date(nowRfc3339().getTime() + 1000);
    const updatedStatus = await retryOnConflict(async () => {
      const cur = await batch().readNamespacedCronJob({ namespace: ns, name: 'test-api' });
      cur.status = { ...(cur.status ?? {}), lastScheduleTime: now2 };
      return batch().replaceNamespacedCronJobStatus({ namespace: ns, name: 'test-api', body: cur });
    });
    expect(updatedStatus.status?.lastScheduleTime?.getTime()).toBe(now2.getTime());
    // get /status
    const gottenStatus = await batch().readNamespacedCronJobStatus({ namespace: ns, name: 'test-api' });
    expect(gottenStatus.metadata?.uid).toBe(created.metadata?.uid);

    // deleting
    const expectFinalizer = (cj: k8s.V1CronJob) => {
      expect(cj.metadata?.deletionTimestamp).toBeDefined();
      expect(cj.metadata?.finalizers?.length ?? 0).toBeGreaterThan(0);
    };
    cjTemplate.metadata!.name = 'for-removal';
    const forRemoval = await batch().createNamespacedCronJob({ namespace: ns, body: cjTemplate });
    await batch().deleteNamespacedCronJob({ namespace: ns, name: forRemoval.metadata!.name! });
    const after = await batch().readNamespacedCronJob({ namespace: ns, name: forRemoval.metadata!.name! }).catch((err) => {
      expect(code(err)).toBe(404);
      return undefined;
    });
    if (after) expectFinalizer(after);

    // deleting a collection
    await batch().deleteCollectionNamespacedCronJob({ namespace: ns, labelSelector: sel });
    const left = await batch().listNamespacedCronJob({ namespace: ns, labelSelector: sel });
    expect(left.items.length).toBeLessThanOrEqual(2);
    for (const cj of left.items) expectFinalizer(cj);
  });

  test('[sig-apps] CronJob should schedule multiple jobs concurrently', async () => {
    const ns = await testNamespace('cronjob');
    const cronJob = await batch().createNamespacedCronJob({ namespace: ns, body: newTestCronJob('concurrent', '*/1 * * * ?', 'Allow', ['sleep', '300']) });
    // Ensuring more than one job is running at a time
    await waitFor('cronjob status.active >= 2', async () =>
      ((await batch().readNamespacedCronJob({ namespace: ns, name: 'concurrent' })).status?.active?.length ?? 0) >= 2, 200_000, 1000);
    // Ensuring at least two running jobs exists by listing jobs explicitly
    const jobs = await batch().listNamespacedJob({ namespace: ns });
    const active = jobs.items.filter((j) => !j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True'));
    expect(active.length).toBeGreaterThanOrEqual(2);
    // Removing cronjob
    await batch().deleteNamespacedCronJob({ namespace: ns, name: cronJob.metadata!.name! });
  }, 300_000);
});
