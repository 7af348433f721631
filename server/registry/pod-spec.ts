// The pod spec entry points every pod-bearing kind uses (pods, pod templates, and the apps and
// batch workloads): upstream's SetDefaults_PodSpec / ValidatePodSpec / ValidatePodTemplateSpec.
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, validateAnnotations, validateLabels } from '../../apimachinery/validation.js';
import { child } from './core-helpers.js';
import { defaultPodSpec } from './pod-defaults.js';
import { podSpecErrors } from './pod-validation.js';

export { defaultContainer, defaultPod, defaultPodSpec, defaultVolume } from './pod-defaults.js';
export { podSpecErrors, tolerationsErrors } from './pod-validation.js';

export function defaultPodTemplateSpec(t: PodTemplateSpec): void {
  if (t.spec) defaultPodSpec(t.spec);
}

export function validatePodSpec(spec: PodSpec, path: string): FieldError[] {
  return podSpecErrors(spec, path);
}

/**
 * ValidatePodTemplateSpec; `path` is the template's own path (e.g. "spec.template"). Upstream
 * reports template metadata as `<path>.labels` / `<path>.annotations` (no ".metadata").
 */
export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!t) return [fieldErrors.required(path)];
  const errs: FieldError[] = [
    ...validateLabels(t.metadata?.labels, child(path, 'labels')),
    ...validateAnnotations(t.metadata?.annotations, child(path, 'annotations')),
  ];
  const specPath = child(path, 'spec');
  if (!t.spec) errs.push(fieldErrors.required(child(specPath, 'containers')));
  else {
    errs.push(...podSpecErrors(t.spec, specPath));
    if (t.spec.ephemeralContainers?.length) {
      errs.push(fieldErrors.forbidden(child(specPath, 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
    }
  }
  return errs;
}
