// Job, CronJob and TTL-after-finished controllers against a real API server. No node agent
// runs: the test plays kubelet by patching pod phases. The CronJob controller gets a clock
// 61 s ahead, so a "* * * * *" schedule is due at once instead of after a minute.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { logger } from '../../apimachinery/log.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/manager.js';
import { JobController } from '../../controllers/job.js';
import { CronJobController } from '../../controllers/cronjob.js';
import { TTLAfterFinishedController } from '../../controllers/job-ttl.js';
import { GarbageCollector } from '../../controllers/garbage-collector.js';
import { ServiceAccountsController } from '../../controllers/serviceaccount.js';
import { Agent } from '../../node-agent/agent.js';
import { ApiClient as AgentApiClient } from '../../node-agent/api.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';

let redis: RedisProcess;
let api: ApiServerProcess;
let agent: Agent | undefined;
let agentApi: AgentApiClient | undefined;
const stop = new AbortController();
const core = '/api/v1/namespaces/default';
const batch = '/apis/batch/v1/namespaces/default';
const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  const client = new ApiClient(api.url);
  const controllers = [new JobController(), new CronJobController(() => Date.now() + 61_000), new TTLAfterFinishedController(), new GarbageCollector(), new ServiceAccountsController()];
  void runControllers(client, controllers, 2, stop.signal, logger('test'));
});
afterAll(async () => {
  await agent?.stop();
  agentApi?.close();
  stop.abort();
  await api?.stop();
  await redis?.stop();
});



const podsOf = async (job: string): Promise<any[]> => (await call(api.url, 'GET', `${core}/pods?labelSelector=job-name%3D${job}`)).body.items ?? [];
const getJob = async (name: string): Promise<any> => (await call(api.url, 'GET', `${batch}/jobs/${name}`)).body;
const trueConditions = (job: any): string[] => (job.status?.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type);

async function finishPods(job: string, phase: 'Succeeded' | 'Failed', count = Infinity): Promise<void> {
  let n = 0;
  for (const p of await podsOf(job)) {
    if (n >= count || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const res = await call(api.url, 'PATCH', `${core}/pods/${p.metadata.name}/status`, { status: { phase } }, 'application/merge-patch+json');
    expect(res.status).toBe(200);
    n++;
  }
}

function jobBody(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  };
}

test('a Job runs its pods to completion', async () => {
  expect((await call(api.url, 'POST', `${batch}/jobs`, jobBody('two', { completions: 2, parallelism: 2 }))).status).toBe(201);
  const pods = await until('two pods', async () => ((await podsOf('two')).length === 2 ? podsOf('two') : undefined));
  const job = await getJob('two');
  for (const p of pods) {
    expect(p.metadata.generateName).toBe('two-');
    expect(p.metadata.finalizers).toContain('batch.kubernetes.io/job-tracking');
    expect(p.metadata.labels).toMatchObject({ 'batch.kubernetes.io/controller-uid': job.metadata.uid, 'batch.kubernetes.io/job-name': 'two', 'job-name': 'two' });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'two', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  await until('active 2', async () => (await getJob('two')).status?.active === 2);
  await finishPods('two', 'Succeeded');
  const done = await until('Complete', async () => {
    const j = await getJob('two');
    return trueConditions(j).includes('Complete') ? j : undefined;
  });
  expect(trueConditions(done)).toEqual(['SuccessCriteriaMet', 'Complete']);
  expect(done.status).toMatchObject({ succeeded: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
  expect(done.status.active).toBeUndefined();
  expect(done.status.completionTime).toBeTruthy();
  await until('finalizers released', async () => (await podsOf('two')).every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')));
  const events = (await call(api.url, 'GET', `${core}/events?fieldSelector=involvedObject.name%3Dtwo`)).body.items.map((e: any) => e.reason);
  expect(events).toEqual(expect.arrayContaining(['SuccessfulCreate', 'Completed']));
});

test('an Indexed Job fills completedIndexes', async () => {
  await call(api.url, 'POST', `${batch}/jobs`, jobBody('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
  const pods = await until('three pods', async () => ((await podsOf('idx')).length === 3 ? podsOf('idx') : undefined));
  expect(pods.map((p) => p.metadata.annotations['batch.kubernetes.io/job-completion-index']).sort()).toEqual(['0', '1', '2']);
  expect(pods.map((p) => p.spec.hostname).sort()).toEqual(['idx-0', 'idx-1', 'idx-2']);
  await finishPods('idx', 'Succeeded');
  const done = await until('Complete', async () => {
    const j = await getJob('idx');
    return trueConditions(j).includes('Complete') ? j : undefined;
  });
  expect(done.status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
});

test('a Job past its backoff limit fails', async () => {
  await call(api.url, 'POST', `${batch}/jobs`, jobBody('fails', { backoffLimit: 0 }));
  await until('a pod', async () => (await podsOf('fails')).length === 1);
  await finishPods('fails', 'Failed');
  const failed = await until('Failed', async () => {
    const j = await getJob('fails');
    return trueConditions(j).includes('Failed') ? j : undefined;
  });
  expect(trueConditions(failed)).toEqual(['FailureTarget', 'Failed']);
  expect(failed.status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  expect(failed.status.failed).toBe(1);
});

test('ttlSecondsAfterFinished deletes the finished Job', async () => {
  await call(api.url, 'POST', `${batch}/jobs`, jobBody('ttl', { ttlSecondsAfterFinished: 0 }));
  await until('a pod', async () => (await podsOf('ttl')).length === 1);
  await finishPods('ttl', 'Succeeded');
  await until('job deleted', async () => (await call(api.url, 'GET', `${batch}/jobs/ttl`)).status === 404);
});

test('a CronJob starts a Job for its schedule, and kubectl create job --from works', async () => {
  const cj = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick' },
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  };
  expect((await call(api.url, 'POST', `${batch}/cronjobs`, cj)).status).toBe(201);
  const status = await until('active job', async () => {
    const c = (await call(api.url, 'GET', `${batch}/cronjobs/tick`)).body;
    return c.status?.active?.length ? c.status : undefined;
  });
  const name: string = status.active[0].name;
  expect(name).toMatch(/^tick-\d+$/);
  expect(Date.parse(status.lastScheduleTime) / 60_000).toBe(Number(name.slice(5)));
  const job = await getJob(name);
  expect(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBeTruthy();
  expect(job.metadata.ownerReferences[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
  // The Job finishes: the CronJob notices and records the success.
  await until('pod', async () => (await podsOf(name)).length === 1);
  await finishPods(name, 'Succeeded');
  await until('lastSuccessfulTime', async () => {
    const c = (await call(api.url, 'GET', `${batch}/cronjobs/tick`)).body;
    return c.status?.lastSuccessfulTime && !(c.status.active ?? []).length;
  });
  if (existsSync(KUBECTL)) {
    await promisify(execFile)(KUBECTL, ['--server', api.url, '-n', 'default', 'create', 'job', 'manual', '--from=cronjob/tick']);
    await until('manual job pod', async () => (await podsOf('manual')).length === 1);
    expect((await getJob('manual')).metadata.annotations['cronjob.kubernetes.io/instantiate']).toBe('manual');
  }
});

describe('with the simulated node agent', () => {
  beforeAll(async () => {
    agentApi = AgentApiClient.fromBaseUrl(api.url);
    agent = new Agent({ api: agentApi, runtime: 'simulated', nodes: 1, heartbeat: { renewIntervalMs: 300, statusReportIntervalMs: 1000 } });
    await agent.start();
  });

  const simJob = (name: string, seconds: string, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      template: {
        metadata: { annotations: { 'podium.io/simulate-duration': seconds } },
        spec: { nodeName: 'sim-0', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
      },
      ...spec,
    },
  });

  test('pods that exit 0 complete the Job', async () => {
    await call(api.url, 'POST', `${batch}/jobs`, simJob('sim', '0.2', { completions: 3, parallelism: 2 }));
    const done = await until('Complete', async () => {
      const j = await getJob('sim');
      return trueConditions(j).includes('Complete') ? j : undefined;
    });
    expect(done.status).toMatchObject({ succeeded: 3 });
    const pods = await podsOf('sim');
    expect(pods.length).toBe(3);
    expect(pods.every((p) => p.status.phase === 'Succeeded' && !(p.metadata.finalizers ?? []).length)).toBe(true);
  });

  test('failing pods are retried after a 10 s back-off until the limit', async () => {
    const job = simJob('flaky', '0.1', { backoffLimit: 1 }) as any;
    job.spec.template.metadata.annotations['podium.io/simulate-exit-code'] = '1';
    await call(api.url, 'POST', `${batch}/jobs`, job);
    const failed = await until(
      'Failed',
      async () => {
        const j = await getJob('flaky');
        return trueConditions(j).includes('Failed') ? j : undefined;
      },
      40_000,
    );
    expect(failed.status.conditions.find((c: any) => c.type === 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(failed.status.failed).toBe(2);
    const pods = (await podsOf('flaky')).sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    expect(pods.length).toBe(2);
    const gap = Date.parse(pods[1].metadata.creationTimestamp) - Date.parse(pods[0].metadata.creationTimestamp);
    expect(gap).toBeGreaterThanOrEqual(9_000);
    const events = (await call(api.url, 'GET', `${core}/events?fieldSelector=involvedObject.name%3Dflaky`)).body.items.map((e: any) => e.reason);
    expect(events).toContain('BackoffLimitExceeded');
  }, 60_000);

  test('suspending a running Job stops its pods', async () => {
    await call(api.url, 'POST', `${batch}/jobs`, simJob('long', '600', { parallelism: 2, completions: 2 }));
    await until('two running pods', async () => (await podsOf('long')).filter((p) => p.status?.phase === 'Running').length === 2);
    await call(api.url, 'PATCH', `${batch}/jobs/long`, { spec: { suspend: true } }, 'application/merge-patch+json');
    const suspended = await until('suspended with no pods', async () => {
      const j = await getJob('long');
      return trueConditions(j).includes('Suspended') && (await podsOf('long')).length === 0 ? j : undefined;
    });
    expect(suspended.status.conditions.find((c: any) => c.type === 'Suspended')).toMatchObject({ reason: 'JobSuspended', message: 'Job suspended' });
    await until('no active pods', async () => !(await getJob('long')).status?.active);
  });
});
