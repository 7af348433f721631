// Pieces shared by the group resources (apps, batch, policy, networking, …): the typed
// definition glue, upstream's small validators (ValidateNonnegativeField, int-or-percent,
// immutability), the pod-template rules of replica-set-like controllers, Scale, and cells.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { KubeObject, ScaleSubresource } from './types.js';
import { deepEqual } from './core-helpers.js';
import { goIntOrString, goLabelSelector, goStringMap, invalidRaw } from './go-format.js';
import { isParseableSelector, selectorMatches, selectorString, selectsEverything, validateLabelSelector } from './label-selector-validation.js';
import { validatePodTemplateSpec } from './pod-spec.js';

export { erase, type Stored } from './types.js';
export { deepEqual };

export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** apivalidation.ValidateNonnegativeField. */
export function nonNegative(path: string, value: number | undefined): FieldError[] {
  return value !== undefined && value < 0 ? [fieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

/** Non-negative checks over several numeric members of one object (status counters, mostly). */
export function nonNegativeFields(obj: object | undefined, path: string, names: string[]): FieldError[] {
  const rec = (obj ?? {}) as Record<string, unknown>;
  return names.flatMap((n) => (typeof rec[n] === 'number' ? nonNegative(`${path}.${n}`, rec[n] as number) : []));
}

/** apivalidation.ValidateImmutableField; `render` prints the value the way upstream's %#v would. */
export function immutable(path: string, value: unknown, old: unknown, render: (v: unknown) => string): FieldError[] {
  return deepEqual(value, old) ? [] : [invalidRaw(path, render(value), 'field is immutable')];
}

export function immutableSelector(path: string, value: LabelSelector | undefined, old: LabelSelector | undefined): FieldError[] {
  return immutable(path, value, old, () => goLabelSelector(value));
}

// ---- int-or-percent (apps validation) ----

const PERCENT = /^[0-9]+%$/;
const PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** appsvalidation.ValidatePositiveIntOrPercent. */
export function validatePositiveIntOrPercent(v: number | string | undefined, path: string): FieldError[] {
  if (typeof v === 'string') return PERCENT.test(v) ? [] : [invalidRaw(path, goIntOrString(v), PERCENT_MSG)];
  return nonNegative(path, v);
}

/** The number an int-or-percent carries (0 when it cannot be read), as getIntOrPercentValue. */
export function intOrPercentValue(v: number | string | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && PERCENT.test(v)) return parseInt(v.slice(0, -1), 10);
  return 0;
}

/** appsvalidation.IsNotMoreThan100Percent. */
export function notMoreThan100Percent(v: number | string | undefined, path: string): FieldError[] {
  if (typeof v !== 'string' || !PERCENT.test(v) || intOrPercentValue(v) <= 100) return [];
  return [invalidRaw(path, goIntOrString(v), 'must not be greater than 100%')];
}

// ---- selectors and pod templates of workload controllers ----

export function selectorMismatch(path: string, labels: Record<string, string> | undefined): FieldError {
  return invalidRaw(path, goStringMap(labels), '`selector` does not match template `labels`');
}

/**
 * The selector rules Deployment, ReplicaSet and StatefulSet share: required, valid, non-empty
 * (`word` is the kind upstream names in the message — ReplicaSet's says "deployment").
 */
export function validateRequiredSelector(sel: LabelSelector | undefined, path: string, word: string): FieldError[] {
  if (!sel) return [fieldErrors.required(path)];
  const out = validateLabelSelector(sel, path);
  if (selectsEverything(sel)) out.push(invalidRaw(path, goLabelSelector(sel), `empty selector is invalid for ${word}`));
  return out;
}

/**
 * ValidatePodTemplateSpecForReplicaSet (also the StatefulSet and DaemonSet variants): the
 * selector must select the template, the template must be a valid pod template that always
 * restarts and has no activeDeadlineSeconds.
 */
export function validateControllerTemplate(
  template: PodTemplateSpec | undefined, sel: LabelSelector | undefined, path: string, kind: string,
): FieldError[] {
  const out: FieldError[] = [];
  if (!template) return [fieldErrors.required(path)];
  // A nil selector selects nothing, so upstream reports the mismatch as well as the missing selector.
  if (isParseableSelector(sel) && (!sel || !selectsEverything(sel)) && !selectorMatches(sel, template.metadata?.labels)) {
    out.push(selectorMismatch(`${path}.metadata.labels`, template.metadata?.labels));
  }
  out.push(...validatePodTemplateSpec(template, path));
  const restartPolicy = template.spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') out.push(fieldErrors.notSupported(`${path}.spec.restartPolicy`, restartPolicy, ['Always']));
  if (template.spec?.activeDeadlineSeconds !== undefined) {
    out.push(fieldErrors.forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return out;
}

// ---- Scale subresource ----

interface Scalable { spec?: { replicas?: number; selector?: LabelSelector }; status?: { replicas?: number } }

/** Scale for kinds with spec.replicas, status.replicas and spec.selector (apps/v1 controllers). */
export const replicasScale: ScaleSubresource = {
  specReplicas: (obj) => (obj as Scalable).spec?.replicas ?? 1,
  statusReplicas: (obj) => (obj as Scalable).status?.replicas ?? 0,
  selector: (obj) => selectorString((obj as Scalable).spec?.selector),
  setSpecReplicas: (obj, replicas) => {
    const o = obj as Scalable;
    o.spec = { ...(o.spec ?? {}), replicas };
  },
};

// ---- printer cells ----

/** layoutContainerCells: the Containers and Images cells of -o wide. */
export function containerCells(spec: PodSpec | undefined): [string, string] {
  const cs = spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

export const CONTAINERS_COLUMN = { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' } as const;
export const IMAGES_COLUMN = { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' } as const;
export const selectorColumn = (description: string) => ({ name: 'Selector', type: 'string', priority: 1, description }) as const;

// kubernetes-types marks server-owned members readonly; the registry is that server.

/** Replaces status, e.g. the empty status upstream's PrepareForCreate leaves (users may not set it). */
export function setStatus<S>(obj: { readonly status?: S }, status: S): void {
  (obj as { status?: S }).status = status;
}

export function setGeneration(obj: KubeObject, generation: number): void {
  ((obj.metadata ??= {}) as { generation?: number }).generation = generation;
}
