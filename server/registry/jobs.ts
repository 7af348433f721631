// batch/v1 Job: SetDefaults_Job, the generated selector and labels (PrepareForCreate),
// ValidateJob*/ValidateJobUpdate, the `status.successful` field selector and the 1.32 printer.
import type { Job, JobCondition, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age, humanDuration } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { formatSelector } from './label-selector-validation.js';
import {
  CONTROLLER_UID_LABEL, JOB_NAME_LABEL, LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL,
  validateGeneratedSelector, validateJobSpec, validateJobSpecUpdate,
} from './job-validation.js';
import { CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, containerCells, deepEqual, nonNegativeFields, selectorColumn, setStatus } from './workload-helpers.js';
import { keepRequestLabelsAndAnnotations } from './core-helpers.js';

type Obj = Stored<Job>;

const MAX_INT32 = 2147483647;

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= { template: {} } as JobSpec);
  // A non-parallel Job may leave both unset; then both are 1.
  if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(obj.metadata?.labels ?? {}).length === 0) {
    (obj.metadata ??= {}).labels = { ...templateLabels };
  }
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const c of rule.onPodConditions ?? []) c.status ||= 'True';
  }
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  defaultPodTemplateSpec((spec.template ??= {}));
}

/** generateSelector: pods carry the job's name and uid; the selector picks the uid. */
function generateSelector(obj: Obj): void {
  const spec = obj.spec!;
  const meta = ((spec.template ??= {}).metadata ??= {});
  const labels = (meta.labels ??= {});
  const name = obj.metadata?.name ?? '';
  const uid = obj.metadata?.uid ?? '';
  // Labels the user already set are kept; a conflict is reported by validation.
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  const selector = (spec.selector ??= {});
  const matchLabels = (selector.matchLabels ??= {});
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}

function prepareForCreate(obj: Obj): void {
  setStatus(obj, {});
  if (!obj.spec) defaults(obj);
  const before = obj.spec?.template?.metadata?.labels ? { ...obj.spec.template.metadata.labels } : undefined;
  if (!obj.spec!.manualSelector) generateSelector(obj);
  // Upstream's defaulting makes the Job's labels the template's very map, so the generated
  // labels show on the Job too when it had none of its own.
  const jobLabels = obj.metadata?.labels;
  if (!jobLabels || Object.keys(jobLabels).length === 0 || (before && deepEqual(jobLabels, before))) {
    const labels = obj.spec?.template?.metadata?.labels;
    if (labels) (obj.metadata ??= {}).labels = { ...labels };
  }
}

function hasCondition(conditions: JobCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

function statusCell(obj: Obj): string {
  const conds = obj.status?.conditions;
  if (hasCondition(conds, 'Complete')) return 'Complete';
  if (hasCondition(conds, 'Failed')) return 'Failed';
  if (obj.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conds, 'Suspended')) return 'Suspended';
  if (hasCondition(conds, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(conds, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function completionsCell(obj: Obj): string {
  const succeeded = obj.status?.succeeded ?? 0;
  const { completions, parallelism } = obj.spec ?? ({} as JobSpec);
  if (completions !== undefined) return `${succeeded}/${completions}`;
  if (parallelism !== undefined && parallelism > 1) return `${succeeded}/1 of ${parallelism}`;
  return `${succeeded}/1`;
}

function durationCell(obj: Obj, now = Date.now()): string {
  const start = obj.status?.startTime;
  if (!start) return '';
  const end = obj.status?.completionTime;
  return humanDuration((end ? Date.parse(end) : now) - Date.parse(start));
}

function validate(obj: Obj): FieldError[] {
  return [...validateGeneratedSelector(obj), ...validateJobSpec(obj.spec, 'spec')];
}

function validateUpdate(obj: Obj, old: Obj): FieldError[] {
  const mutableScheduling = !!old.spec?.suspend && !old.status?.startTime;
  return validateJobSpecUpdate(obj.spec ?? ({} as JobSpec), old.spec ?? ({} as JobSpec), mutableScheduling);
}

const jobs: ResourceDefinition<Obj> = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  generation: true,
  subresources: { status: true },
  fieldSelectors: { 'status.successful': (obj) => String(obj.status?.succeeded ?? 0) },
  strategy: {
    defaults,
    prepareForCreate,
    validate,
    validateUpdate,
    prepareForStatusUpdate: keepRequestLabelsAndAnnotations,
    validateStatusUpdate: (obj) => nonNegativeFields(obj.status, 'status', ['active', 'succeeded', 'failed', 'ready', 'terminating']),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Status', type: 'string', description: 'Status of the job.' },
      { name: 'Completions', type: 'string', description: 'The number of pods which reached phase Succeeded.' },
      { name: 'Duration', type: 'string', description: 'Time required to complete the job.' },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      selectorColumn('A label query over pods that should match the pod count.'),
    ],
    row(obj) {
      const [containers, images] = containerCells(obj.spec?.template?.spec);
      return [
        obj.metadata?.name ?? '',
        statusCell(obj),
        completionsCell(obj),
        durationCell(obj),
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
        formatSelector(obj.spec?.selector),
      ];
    },
  },
};

export default jobs;
