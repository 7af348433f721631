// What may change on an existing pod: upstream's ValidatePodUpdate (the spec is immutable but
// for images, a shrinking activeDeadlineSeconds, added tolerations and removed scheduling gates)
// and ValidatePodStatusUpdate (the kubelet's writes).
import { isIP } from 'node:net';
import type { ContainerStatus, Pod, PodSpec, Toleration } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import { deepEqual, invalidValue, ipErrors, qualifiedNameErrors } from './core-helpers.js';
import { tolerationsErrors } from './pod-validation.js';

const FORBIDDEN_SPEC_CHANGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function containerImageErrors(next: PodSpec['containers'] | undefined, old: PodSpec['containers'] | undefined, path: string): { errs: FieldError[]; stop: boolean } {
  const n = next ?? [];
  if (n.length !== (old ?? []).length) return { errs: [fieldErrors.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  n.forEach((c, i) => {
    if (!c.image) errs.push(fieldErrors.required(`${path}[${i}].image`));
    else if (c.image.trim() !== c.image) errs.push(fieldErrors.invalid(`${path}[${i}].image`, c.image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

/** Existing tolerations may only change their tolerationSeconds; new ones may be added. */
function tolerationUpdateErrors(next: Toleration[] | undefined, old: Toleration[] | undefined, path: string): FieldError[] {
  for (const o of old ?? []) {
    const kept = (next ?? []).some((t) => deepEqual({ ...o, tolerationSeconds: t.tolerationSeconds }, t));
    if (!kept) return [fieldErrors.forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return tolerationsErrors(next, path);
}

/** A short `-old/+new` listing of the spec fields that differ, in place of upstream's cmp.Diff. */
function specDiff(old: PodSpec, next: PodSpec): string {
  const lines: string[] = ['  core.PodSpec{'];
  const o = old as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
    if (deepEqual(o[k], n[k])) continue;
    if (o[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(o[k])},`);
    if (n[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(n[k])},`);
  }
  lines.push('  }');
  return lines.join('\n');
}

export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const spec = pod.spec ?? ({} as PodSpec);
  const oldSpec = old.spec ?? ({} as PodSpec);
  const errs: FieldError[] = [];
  for (const [key, path] of [['containers', 'spec.containers'], ['initContainers', 'spec.initContainers']] as const) {
    const r = containerImageErrors(spec[key], oldSpec[key], path);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads != null) {
    if (ads < 0 || ads > 2147483647) return [...errs, fieldErrors.invalid('spec.activeDeadlineSeconds', ads, 'must be between 0 and 2147483647, inclusive')];
    if (oldSpec.activeDeadlineSeconds != null && oldSpec.activeDeadlineSeconds < ads) {
      return [...errs, fieldErrors.invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
    }
  } else if (oldSpec.activeDeadlineSeconds != null) {
    errs.push(invalidValue('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...tolerationUpdateErrors(spec.tolerations, oldSpec.tolerations, 'spec.tolerations'));
  const oldGates = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  (spec.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name)) errs.push(fieldErrors.forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${g.name}'`));
  });
  if (deepEqual(spec, oldSpec)) return errs;

  // Put the old values back into the fields that may change; anything still different may not.
  const munged: PodSpec = structuredClone(spec);
  munged.containers = (munged.containers ?? []).map((c, i) => ({ ...c, image: oldSpec.containers[i].image }));
  if (munged.initContainers) munged.initContainers = munged.initContainers.map((c, i) => ({ ...c, image: oldSpec.initContainers![i].image }));
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  if ((oldSpec.terminationGracePeriodSeconds ?? 0) < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  if (oldSpec.schedulingGates?.length) {
    // A pod still waiting on its gates may gain node selector terms and affinity.
    if (!deepEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
      for (const [k, v] of Object.entries(oldSpec.nodeSelector ?? {})) {
        if (munged.nodeSelector?.[k] !== v) {
          errs.push(invalidValue('spec.nodeSelector', munged.nodeSelector ?? null, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
          break;
        }
      }
      munged.nodeSelector = oldSpec.nodeSelector;
    }
    munged.affinity = oldSpec.affinity;
  }
  for (const k of Object.keys(munged) as (keyof PodSpec)[]) if (munged[k] === undefined) delete munged[k];
  if (!deepEqual(munged, oldSpec)) errs.push(fieldErrors.forbidden('spec', `${FORBIDDEN_SPEC_CHANGE}\n${specDiff(oldSpec, munged)}`));
  return errs;
}

/** ValidateContainerStateTransition: a container that may not restart stays terminated. */
function stateTransitionErrors(next: ContainerStatus[] | undefined, old: ContainerStatus[] | undefined, path: string, restartPolicy: string | undefined, sidecars = new Set<string>()): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  (old ?? []).forEach((o, i) => {
    const term = o.state?.terminated;
    if (!term || sidecars.has(o.name)) return;
    if (term.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    for (const n of next ?? []) {
      if (n.name === o.name && !n.state?.terminated) errs.push(fieldErrors.forbidden(`${path}[${i}].state`, 'may not be transitioned to non-terminated state'));
    }
  });
  return errs;
}

function podIPErrors(pod: Pod): FieldError[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip ?? '');
  const errs: FieldError[] = [];
  ips.forEach((ip, i) => errs.push(...ipErrors(ip, `status.podIPs[${i}]`)));
  if (ips.length > 1) {
    const families = new Set(ips.map((ip) => isIP(ip)));
    if (ips.length > 2 || families.size !== ips.length) errs.push(invalidValue('status.podIPs', pod.status?.podIPs, 'may specify no more than one IP for each IP family'));
  }
  return errs;
}

export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs: FieldError[] = [];
  (pod.status?.conditions ?? []).forEach((c, i) => {
    if (!['PodScheduled', 'Ready', 'Initialized'].includes(c.type)) errs.push(...qualifiedNameErrors(c.type, `metadata.conditions[${i}].Type`));
  });
  if ((pod.spec?.nodeName ?? '') !== (old.spec?.nodeName ?? '')) errs.push(fieldErrors.forbidden('status.nodeName', 'may not be changed directly'));
  const nominated = pod.status?.nominatedNodeName;
  if (nominated && nominated !== old.status?.nominatedNodeName) {
    errs.push(...isDNS1123Subdomain(nominated).map((m) => fieldErrors.invalid('status.nominatedNodeName', nominated, m)));
  }
  const policy = old.spec?.restartPolicy;
  errs.push(...stateTransitionErrors(pod.status?.containerStatuses, old.status?.containerStatuses, 'status.containerStatuses', policy));
  const sidecars = new Set((old.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  errs.push(...stateTransitionErrors(pod.status?.initContainerStatuses, old.status?.initContainerStatuses, 'status.initContainerStatuses', policy, sidecars));
  errs.push(...stateTransitionErrors(pod.status?.ephemeralContainerStatuses, old.status?.ephemeralContainerStatuses, 'status.ephemeralContainerStatuses', 'Never'));
  errs.push(...podIPErrors(pod));
  return errs;
}
