// Pod spec defaults and validation, shared by pods, pod templates and every workload kind.
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';

export function defaultPodSpec(spec: PodSpec): void {
  void spec;
}

export function defaultPodTemplateSpec(t: PodTemplateSpec): void {
  if (t.spec) defaultPodSpec(t.spec);
}

export function validatePodSpec(spec: PodSpec, path: string): FieldError[] {
  void spec; void path;
  return [];
}

export function validatePodTemplateSpec(t: PodTemplateSpec | undefined, path: string): FieldError[] {
  void t; void path;
  return [];
}
