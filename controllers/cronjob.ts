// The CronJob controller (upstream pkg/controller/cronjob, the v2 controller): start a Job
// for each due schedule time, honouring concurrencyPolicy, startingDeadlineSeconds and
// suspend; track active Jobs and the last schedule and success times; prune finished Jobs
// beyond the history limits; requeue for the next schedule time.
import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isAlreadyExists, isNotFound, type ApiClient } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { KubeObjectRef } from './framework/events.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { controllerRef } from './controller-utils.js';
import { isKnownTimeZone } from '../server/registry/cron-schedule.js';
import { localZone, parseSchedule } from './cron.js';
import { MAX_REQUEUE_MS } from './job-logic.js';
import {
  dueScheduleTime,
  finishedCondition,
  formatRFC1123Z,
  isJobFinished,
  isJobSucceeded,
  jobFromTemplate,
  jobNameFor,
  jobRef,
  jobsBeyondHistory,
  nextScheduleDelay,
} from './cronjob-logic.js';

export interface Recorder {
  event(obj: KubeObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface CronJobSyncDeps {
  client: Pick<ApiClient, 'get' | 'create' | 'delete'>;
  recorder: Recorder;
  now: number;
}

export interface CronJobSyncResult {
  cronJob: Mutable<CronJob>;
  updateStatus: boolean;
  requeueAfterMs?: number;
}

const jobsPath = (ns: string | undefined): string => `/apis/batch/v1/namespaces/${ns}/jobs`;
const withKind = (cj: CronJob): Mutable<CronJob> => ({ ...(structuredClone(cj) as Mutable<CronJob>), apiVersion: 'batch/v1', kind: 'CronJob' });
const iso = (t: number): string => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');

async function deleteJob(deps: CronJobSyncDeps, cj: Mutable<CronJob>, job: Job): Promise<boolean> {
  try {
    await deps.client.delete(`${jobsPath(job.metadata?.namespace)}/${job.metadata?.name}`, { propagationPolicy: 'Background' });
  } catch (e) {
    if (!isNotFound(e)) {
      deps.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
      return false;
    }
  }
  if (cj.status?.active) cj.status.active = cj.status.active.filter((r) => r.uid !== job.metadata?.uid);
  deps.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
  return true;
}

/** syncCronJob: reconcile the status with the Jobs, then start a Job if one is due. */
export async function syncCronJob(deps: CronJobSyncDeps, original: CronJob, jobs: Job[]): Promise<CronJobSyncResult> {
  const cj = withKind(original);
  const status = (cj.status ??= {}) as Mutable<CronJobStatus>;
  const { recorder, now } = deps;
  let updateStatus = false;
  const done = (requeueAfterMs?: number): CronJobSyncResult => ({ cronJob: cj, updateStatus, requeueAfterMs });
  const children = new Set<string>();
  for (const j of jobs) {
    children.add(j.metadata!.uid!);
    const inActive = (status.active ?? []).some((r) => r.uid === j.metadata?.uid);
    if (!inActive && !isJobFinished(j)) {
      recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
    } else if (inActive && isJobFinished(j)) {
      status.active = status.active!.filter((r) => r.uid !== j.metadata?.uid);
      recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, condition: ${finishedCondition(j)!.type}`);
      updateStatus = true;
    }
    const completed = j.status?.completionTime;
    if (isJobSucceeded(j) && completed && (!status.lastSuccessfulTime || Date.parse(completed) > Date.parse(status.lastSuccessfulTime))) {
      status.lastSuccessfulTime = completed;
      updateStatus = true;
    }
  }
  // Active references whose Job is gone; ask the server, as the cache may lag.
  for (const ref of [...(status.active ?? [])]) {
    if (children.has(ref.uid!)) continue;
    try {
      await deps.client.get(`${jobsPath(ref.namespace ?? cj.metadata?.namespace)}/${ref.name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      status.active = status.active!.filter((r) => r.uid !== ref.uid);
      updateStatus = true;
    }
  }
  if (cj.metadata?.deletionTimestamp) return done();
  const zone = cj.spec?.timeZone ?? localZone();
  if (cj.spec?.timeZone && !isKnownTimeZone(cj.spec.timeZone)) {
    recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${cj.spec.timeZone}": unknown time zone ${cj.spec.timeZone}`);
    return done();
  }
  if (cj.spec?.suspend) return done();
  let sched;
  try {
    sched = parseSchedule(cj.spec?.schedule ?? '', zone);
  } catch (e) {
    recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${cj.spec?.schedule}" : ${(e as Error).message}`);
    return done();
  }
  const due = dueScheduleTime(cj, now, sched);
  if (due.error) {
    recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${due.error}`);
    return done();
  }
  if (due.tooManyMissed) {
    recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  }
  const later = (): CronJobSyncResult => done(nextScheduleDelay(cj, now, sched));
  if (due.time === undefined) return later();
  const scheduled = due.time;
  const deadline = cj.spec?.startingDeadlineSeconds;
  if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
    recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRFC1123Z(scheduled)}`);
    return later();
  }
  const name = jobNameFor(cj, scheduled);
  const last = status.lastScheduleTime ? Date.parse(status.lastScheduleTime) : undefined;
  if ((status.active ?? []).some((r) => r.name === name) || last === scheduled) return later();
  const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
  if (policy === 'Forbid' && (status.active?.length ?? 0) > 0) {
    recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return later();
  }
  if (policy === 'Replace') {
    for (const ref of [...(status.active ?? [])]) {
      let job: Job;
      try {
        job = await deps.client.get<Job>(`${jobsPath(ref.namespace ?? cj.metadata?.namespace)}/${ref.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        status.active = status.active!.filter((r) => r.uid !== ref.uid);
        updateStatus = true;
        continue;
      }
      if (!(await deleteJob(deps, cj, job))) throw new Error(`could not replace job ${job.metadata?.namespace}/${job.metadata?.name}`);
      updateStatus = true;
    }
  }
  let created: Job;
  try {
    created = await deps.client.create<Job>(jobsPath(cj.metadata?.namespace), jobFromTemplate(cj, scheduled, zone));
  } catch (e) {
    if (isAlreadyExists(e)) {
      // Someone (an earlier run of ours) made it; that run recorded it in the status.
      const existing = await deps.client.get<Job>(`${jobsPath(cj.metadata?.namespace)}/${name}`);
      const ref = controllerRef(existing.metadata);
      if (ref?.uid !== cj.metadata?.uid) throw new Error(`job ${name} already exists and is not owned by cronjob ${cj.metadata?.name}`);
      return done();
    }
    recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
    throw e;
  }
  recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
  status.active = [...(status.active ?? []), jobRef(created) as Mutable<ObjectReference>];
  status.lastScheduleTime = iso(scheduled);
  updateStatus = true;
  return later();
}

/** cleanupFinishedJobs: delete finished Jobs past the history limits. */
export async function cleanupFinishedJobs(deps: CronJobSyncDeps, cj: Mutable<CronJob>, jobs: Job[]): Promise<boolean> {
  let changed = false;
  for (const j of jobsBeyondHistory(cj, jobs)) if (await deleteJob(deps, cj, j)) changed = true;
  return changed;
}

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  private readonly queue = new WorkQueue();
  private cjInformer!: Informer<CronJob>;
  private jobInformer!: Informer<Job>;

  constructor(private readonly clock: () => number = Date.now) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.cjInformer = ctx.informers.for<CronJob>('/apis/batch/v1/cronjobs');
    this.jobInformer = ctx.informers.for<Job>('/apis/batch/v1/jobs');
    this.cjInformer.on('add', (cj) => this.queue.add(keyOf(cj)));
    this.cjInformer.on('update', (cj, old) => this.cronJobUpdated(cj, old!));
    this.cjInformer.on('delete', (cj) => this.queue.add(keyOf(cj)));
    const onJob = (job: Job): void => {
      const ref = controllerRef(job.metadata);
      if (ref?.kind === 'CronJob') this.queue.add(`${job.metadata?.namespace}/${ref.name}`);
    };
    this.jobInformer.on('add', onJob);
    this.jobInformer.on('update', (job, old) => {
      onJob(job);
      if (old && controllerRef(old.metadata)?.uid !== controllerRef(job.metadata)?.uid) onJob(old);
    });
    this.jobInformer.on('delete', onJob);
    await Promise.all([this.cjInformer.start(ctx.signal), this.jobInformer.start(ctx.signal)]);
    const recorder = ctx.recorder('cronjob-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx.client, recorder, key), ctx.signal, ctx.log);
  }

  private cronJobUpdated(cj: CronJob, old: CronJob): void {
    const key = keyOf(cj);
    if (cj.spec?.schedule === old.spec?.schedule && cj.spec?.timeZone === old.spec?.timeZone) return this.queue.add(key);
    // A new schedule: wake at its next time rather than the old one's.
    try {
      const delay = nextScheduleDelay(cj, this.clock(), parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone ?? localZone()));
      if (delay !== undefined) this.queue.addAfter(key, Math.min(delay, MAX_REQUEUE_MS));
    } catch {
      // Unparseable: the sync reports it.
    }
    this.queue.add(key);
  }

  async sync(client: ApiClient, recorder: Recorder, key: string): Promise<void> {
    const cached = this.cjInformer.get(key);
    if (!cached) return;
    const jobs = this.jobInformer.list(splitKey(key).namespace).filter((j) => controllerRef(j.metadata)?.uid === cached.metadata?.uid);
    const deps: CronJobSyncDeps = { client, recorder, now: this.clock() };
    const result = await syncCronJob(deps, cached, jobs);
    if (await cleanupFinishedJobs(deps, result.cronJob, jobs)) result.updateStatus = true;
    if (result.updateStatus) {
      try {
        await client.update(`/apis/batch/v1/namespaces/${cached.metadata?.namespace}/cronjobs/${cached.metadata?.name}/status`, result.cronJob);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        return;
      }
    }
    if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, Math.min(result.requeueAfterMs, MAX_REQUEUE_MS));
  }
}
