// batch/v1 JobSpec validation shared by Jobs and CronJob job templates: upstream's
// validateJobSpec (counts, completion mode, pod failure and replacement policies, the
// template and its restart policy), the generated-selector rules and ValidateJobSpecUpdate.
import type { Job, JobSpec, PodFailurePolicy } from 'kubernetes-types/batch/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isQualifiedName } from '../../apimachinery/validation.js';
import { goLabelSelector, goStringMap, goValue, invalidRaw, tooMany } from './go-format.js';
import { isParseableSelector, selectorMatches, validateLabelSelector } from './label-selector-validation.js';
import { isDomainPrefixedPath } from './net-validation.js';
import { validatePodTemplateSpec } from './pod-spec.js';
import { clone, deepEqual, immutable, immutableSelector, nonNegative, selectorMismatch } from './workload-helpers.js';

export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

const MAX_PARALLELISM_INDEXED = 100000;
const MAX_FAILED_INDEXES = 100000;
const MAX_RULES = 20;
const MAX_EXIT_CODES = 255;

/** Go's %q of a []string, as upstream formats "valid values: [...]". */
const goQuotedList = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

function invalidOmitted(field: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, detail: `Invalid value: ${detail}` };
}

function validatePodFailurePolicy(spec: JobSpec, policy: PodFailurePolicy, path: string): FieldError[] {
  const out: FieldError[] = [];
  const rules = policy.rules ?? [];
  if (rules.length > MAX_RULES) out.push(tooMany(`${path}.rules`, rules.length, MAX_RULES));
  const containerNames = new Set([...(spec.template?.spec?.containers ?? []), ...(spec.template?.spec?.initContainers ?? [])].map((c) => c.name));
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    if (!rule.action) out.push(fieldErrors.required(`${rp}.action`, `valid values: ${goQuotedList(actions)}`));
    else if (rule.action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined) out.push(fieldErrors.invalid(`${rp}.action`, rule.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!actions.includes(rule.action)) out.push(fieldErrors.notSupported(`${rp}.action`, rule.action, actions));
    const onExit = rule.onExitCodes;
    if (onExit) {
      const ep = `${rp}.onExitCodes`;
      if (!onExit.operator) out.push(fieldErrors.required(`${ep}.operator`, `valid values: ${goQuotedList(['In', 'NotIn'])}`));
      else if (!['In', 'NotIn'].includes(onExit.operator)) out.push(fieldErrors.notSupported(`${ep}.operator`, onExit.operator, ['In', 'NotIn']));
      if (onExit.containerName !== undefined && !containerNames.has(onExit.containerName)) {
        out.push(fieldErrors.invalid(`${ep}.containerName`, onExit.containerName, 'must be one of the container or initContainer names in the pod template'));
      }
      const values = onExit.values ?? [];
      const rendered = `[]int32{${values.join(', ')}}`;
      if (values.length === 0) out.push(invalidRaw(`${ep}.values`, onExit.values ? rendered : '[]int32(nil)', 'at least one value is required'));
      else if (values.length > MAX_EXIT_CODES) out.push(tooMany(`${ep}.values`, values.length, MAX_EXIT_CODES));
      else {
        const seen = new Set<number>();
        values.forEach((v, j) => {
          if (onExit.operator === 'In' && v === 0) out.push(fieldErrors.invalid(`${ep}.values[${j}]`, v, 'must not be 0 for the In operator'));
          if (seen.has(v)) out.push(fieldErrors.duplicate(`${ep}.values[${j}]`, v));
          seen.add(v);
        });
        if (values.some((v, j) => j > 0 && values[j - 1] > v)) out.push(invalidRaw(`${ep}.values`, rendered, 'must be ordered'));
      }
    }
    const conds = rule.onPodConditions ?? [];
    if (conds.length > MAX_RULES) out.push(tooMany(`${rp}.onPodConditions`, conds.length, MAX_RULES));
    conds.forEach((c, j) => {
      const cp = `${rp}.onPodConditions[${j}]`;
      for (const m of isQualifiedName(c.type ?? '')) out.push(fieldErrors.invalid(`${cp}.type`, c.type ?? '', m));
      const statuses = ['False', 'True', 'Unknown'];
      if (!c.status) out.push(fieldErrors.required(`${cp}.status`, `valid values: ${goQuotedList(statuses)}`));
      else if (!statuses.includes(c.status)) out.push(fieldErrors.notSupported(`${cp}.status`, c.status, statuses));
    });
    if (onExit && conds.length > 0) out.push(invalidOmitted(rp, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExit && conds.length === 0) out.push(invalidOmitted(rp, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return out;
}

/** Upstream's validateJobSpec: everything about a JobSpec except its selector. */
export function validateJobSpecCore(spec: JobSpec, path: string): FieldError[] {
  const out: FieldError[] = [];
  for (const k of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished'] as const) {
    out.push(...nonNegative(`${path}.${k}`, spec[k]));
  }
  const indexed = spec.completionMode === 'Indexed';
  if (spec.backoffLimitPerIndex !== undefined) {
    out.push(...nonNegative(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex));
    if (spec.maxFailedIndexes !== undefined) {
      out.push(...nonNegative(`${path}.maxFailedIndexes`, spec.maxFailedIndexes));
      if (spec.maxFailedIndexes > MAX_FAILED_INDEXES) {
        out.push(fieldErrors.invalid(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES}`));
      }
      if (spec.completions !== undefined && spec.maxFailedIndexes > spec.completions) {
        out.push(fieldErrors.invalid(`${path}.maxFailedIndexes`, spec.maxFailedIndexes, 'must be less than or equal to completions'));
      }
    }
    if (!indexed) out.push(fieldErrors.invalid(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, 'requires indexed completion mode'));
  } else if (spec.maxFailedIndexes !== undefined) {
    out.push(fieldErrors.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  }
  if (spec.managedBy !== undefined) {
    out.push(...isDomainPrefixedPath(`${path}.managedBy`, spec.managedBy));
    if (spec.managedBy.length > 63) out.push(fieldErrors.tooLong(`${path}.managedBy`, 63));
  }
  if (spec.completionMode !== undefined) {
    if (spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
      out.push(fieldErrors.notSupported(`${path}.completionMode`, spec.completionMode, ['NonIndexed', 'Indexed']));
    }
    if (indexed) {
      if (spec.completions === undefined) out.push(fieldErrors.required(`${path}.completions`, 'when completion mode is Indexed'));
      if (spec.parallelism !== undefined && spec.parallelism > MAX_PARALLELISM_INDEXED) {
        out.push(fieldErrors.invalid(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
    }
  }
  if (spec.podFailurePolicy) out.push(...validatePodFailurePolicy(spec, spec.podFailurePolicy, `${path}.podFailurePolicy`));
  if (spec.successPolicy && !indexed) {
    out.push(invalidRaw(`${path}.completionMode`, goValue(spec.completionMode ?? 'NonIndexed'), 'requires indexed completion mode'));
  }
  if (spec.podReplacementPolicy !== undefined) {
    if (spec.podFailurePolicy) {
      if (spec.podReplacementPolicy !== 'Failed') out.push(fieldErrors.notSupported(`${path}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed']));
    } else if (!['Failed', 'TerminatingOrFailed'].includes(spec.podReplacementPolicy)) {
      out.push(fieldErrors.notSupported(`${path}.podReplacementPolicy`, spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
    }
  }
  out.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  // Pod defaulting turns an unset restartPolicy into Always, so both mean "not chosen".
  const rp = spec.template?.spec?.restartPolicy ?? '';
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (rp === 'Always' || rp === '') out.push(fieldErrors.required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') out.push(fieldErrors.notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && rp !== 'Never') out.push(fieldErrors.invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return out;
}

/** ValidateJobSpec: the core rules plus a required selector that must select the template. */
export function validateJobSpec(spec: JobSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({ template: {} } as JobSpec);
  const out = validateJobSpecCore(s, path);
  if (!s.selector) out.push(fieldErrors.required(`${path}.selector`));
  else out.push(...validateLabelSelector(s.selector, `${path}.selector`));
  if (isParseableSelector(s.selector) && !selectorMatches(s.selector, s.template?.metadata?.labels)) {
    out.push(selectorMismatch(`${path}.template.metadata.labels`, s.template?.metadata?.labels));
  }
  return out;
}

function hasLabel(labels: Record<string, string>, key: string, expected: string, path: string): FieldError[] {
  const p = `${path}.labels[${key}]`;
  if (!(key in labels)) return [fieldErrors.required(p, expected)];
  return labels[key] === expected ? [] : [invalidRaw(p, goStringMap(labels), `must be '${expected}'`)];
}

/** validateGeneratedSelector: without manualSelector, the selector and labels are the server's. */
export function validateGeneratedSelector(job: Job): FieldError[] {
  if (job.spec?.manualSelector) return [];
  const labels = job.spec?.template?.metadata?.labels;
  if (!labels) return [];
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  const path = 'spec.template.metadata';
  const out = [
    ...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid, path),
    ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name, path),
    ...hasLabel(labels, CONTROLLER_UID_LABEL, uid, path),
    ...hasLabel(labels, JOB_NAME_LABEL, name, path),
  ];
  if (!deepEqual(job.spec?.selector, { matchLabels: { [CONTROLLER_UID_LABEL]: uid } })) {
    out.push(invalidRaw('spec.selector', goLabelSelector(job.spec?.selector), '`selector` not auto-generated'));
  }
  return out;
}

/**
 * ValidateJobSpecUpdate. The template is immutable, except that a suspended Job that never
 * started may change its scheduling directives (node selector, affinity, tolerations, gates,
 * labels and annotations).
 */
export function validateJobSpecUpdate(spec: JobSpec, old: JobSpec, mutableScheduling: boolean): FieldError[] {
  const out: FieldError[] = [];
  if (spec.completionMode !== 'Indexed') {
    out.push(...immutable('spec.completions', spec.completions, old.completions, goValue));
  } else if (!deepEqual(spec.completions, old.completions) && spec.completions !== undefined && spec.completions !== spec.parallelism) {
    out.push(fieldErrors.invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
  }
  out.push(...immutableSelector('spec.selector', spec.selector, old.selector));
  let oldTemplate = old.template;
  if (mutableScheduling && oldTemplate) {
    oldTemplate = clone(oldTemplate);
    const t = spec.template ?? {};
    const ots = (oldTemplate.spec ??= { containers: [] });
    if (t.spec?.affinity || ots.affinity) {
      const { nodeAffinity: _ignored, ...otherOld } = ots.affinity ?? {};
      ots.affinity = t.spec?.affinity
        ? { ...otherOld, nodeAffinity: t.spec.affinity.nodeAffinity }
        : (Object.keys(otherOld).length ? otherOld : undefined);
    }
    ots.nodeSelector = t.spec?.nodeSelector;
    ots.tolerations = t.spec?.tolerations;
    ots.schedulingGates = t.spec?.schedulingGates;
    oldTemplate.metadata = { ...(oldTemplate.metadata ?? {}), labels: t.metadata?.labels, annotations: t.metadata?.annotations };
  }
  out.push(...immutable('spec.template', spec.template, oldTemplate, goValue));
  for (const k of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'] as const) {
    out.push(...immutable(`spec.${k}`, spec[k], old[k], goValue));
  }
  return out;
}
