// batch/v1 CronJob: SetDefaults_CronJob, validateCronJobSpec (robfig/cron schedules, time
// zones, concurrency policy, the job template) and the printer.
import type { CronJob, CronJobSpec } from 'kubernetes-types/batch/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { goLabelSelector, invalidRaw } from './go-format.js';
import { formatSelector } from './label-selector-validation.js';
import { cronScheduleError, isKnownTimeZone } from './cron-schedule.js';
import { validateJobSpecCore } from './job-validation.js';
import { CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, containerCells, nonNegative, selectorColumn, setStatus } from './workload-helpers.js';
import { keepRequestLabelsAndAnnotations } from './core-helpers.js';

type Obj = Stored<CronJob>;

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= { schedule: '', jobTemplate: {} } as CronJobSpec);
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  // The job template gets pod defaults only: SetDefaults_Job applies to Jobs, not templates.
  const jt = (spec.jobTemplate ??= {});
  if (jt.spec) defaultPodTemplateSpec((jt.spec.template ??= {}));
}

const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: string | undefined, path: string): FieldError[] {
  if (tz === undefined) return [];
  if (tz.length === 0) return [fieldErrors.invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) {
      return [fieldErrors.invalid(path, tz, `unknown time zone ${tz}`)];
    }
  }
  const out: FieldError[] = [];
  if (tz.toLowerCase() === 'local') {
    out.push(fieldErrors.invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  }
  if (!isKnownTimeZone(tz)) out.push(fieldErrors.invalid(path, tz, `unknown time zone ${tz}`));
  return out;
}

function validateSpec(spec: CronJobSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({ schedule: '', jobTemplate: {} } as CronJobSpec);
  const out: FieldError[] = [];
  if (!s.schedule) out.push(fieldErrors.required(`${path}.schedule`));
  else {
    const err = cronScheduleError(s.schedule);
    if (err) out.push(fieldErrors.invalid(`${path}.schedule`, s.schedule, err));
    // Objects only ever pass create validation, so a stored schedule never carries TZ either.
    if (s.schedule.includes('TZ')) {
      out.push(fieldErrors.invalid(`${path}.schedule`, s.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  out.push(...nonNegative(`${path}.startingDeadlineSeconds`, s.startingDeadlineSeconds));
  out.push(...validateTimeZone(s.timeZone, `${path}.timeZone`));
  switch (s.concurrencyPolicy ?? '') {
    case 'Allow': case 'Forbid': case 'Replace': break;
    case '': out.push(fieldErrors.required(`${path}.concurrencyPolicy`)); break;
    default: out.push(fieldErrors.notSupported(`${path}.concurrencyPolicy`, s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  }
  const jp = `${path}.jobTemplate.spec`;
  const jobSpec = s.jobTemplate?.spec ?? { template: {} };
  out.push(...validateJobSpecCore(jobSpec, jp));
  if (jobSpec.selector) out.push(invalidRaw(`${jp}.selector`, goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'));
  if (jobSpec.manualSelector) out.push(fieldErrors.notSupported(`${jp}.manualSelector`, true, ['nil', 'false']));
  out.push(...nonNegative(`${path}.successfulJobsHistoryLimit`, s.successfulJobsHistoryLimit));
  out.push(...nonNegative(`${path}.failedJobsHistoryLimit`, s.failedJobsHistoryLimit));
  return out;
}

function validate(obj: Obj): FieldError[] {
  const out: FieldError[] = [];
  // The controller names Jobs "<cronjob>-<11 characters>", and Job names stop at 63.
  const name = obj.metadata?.name ?? '';
  if (name.length > 52) out.push(fieldErrors.invalid('metadata.name', name, 'must be no more than 52 characters'));
  out.push(...validateSpec(obj.spec, 'spec'));
  return out;
}

const cronjobs: ResourceDefinition<Obj> = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  generation: true,
  subresources: { status: true },
  strategy: {
    defaults,
    prepareForCreate(obj) {
      setStatus(obj, {});
    },
    prepareForStatusUpdate: keepRequestLabelsAndAnnotations,
    validate,
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Schedule', type: 'string', description: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.' },
      { name: 'Timezone', type: 'string', description: 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.' },
      { name: 'Suspend', type: 'boolean', description: 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.' },
      { name: 'Active', type: 'integer', description: 'A list of pointers to currently running jobs.' },
      { name: 'Last Schedule', type: 'string', description: 'Information when was the last time the job was successfully scheduled.' },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      selectorColumn('A label query over pods that should match the pod count.'),
    ],
    row(obj) {
      const jobSpec = obj.spec?.jobTemplate?.spec;
      const [containers, images] = containerCells(jobSpec?.template?.spec);
      const suspend = obj.spec?.suspend;
      const last = obj.status?.lastScheduleTime;
      return [
        obj.metadata?.name ?? '',
        obj.spec?.schedule ?? '',
        obj.spec?.timeZone ?? '<none>',
        suspend === undefined ? '<unset>' : suspend ? 'True' : 'False',
        obj.status?.active?.length ?? 0,
        last ? age(last) : '<none>',
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
        formatSelector(jobSpec?.selector),
      ];
    },
  },
};

export default cronjobs;
