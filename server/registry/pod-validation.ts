// Pod spec validation, as upstream's ValidatePodSpec: containers (regular, init, ephemeral),
// volumes, policies, scheduling fields and DNS. Messages follow pkg/apis/core/validation.
import type { Container, PodDNSConfig, PodSpec, Toleration, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain, isValidLabelValue, validateLabels } from '../../apimachinery/validation.js';
import {
  child, duplicateValue, invalidValue, ipErrors, labelErrors, qualifiedNameErrors, subdomainErrors,
} from './core-helpers.js';
import { containerCommonErrors, lifecycleErrors, probeErrors } from './container-validation.js';
import { validateVolumes } from './volume-validation.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function enumErrors(value: string | undefined, allowed: string[], path: string): FieldError[] {
  if (!value) return [fieldErrors.required(path)];
  return allowed.includes(value) ? [] : [fieldErrors.notSupported(path, value, allowed)];
}

/** AccumulateUniqueHostPorts: one container may not claim a host port another already has. */
function hostPortErrors(containers: Container[], seen: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      if (!p.hostPort) return;
      const key = `${p.protocol ?? ''}/${p.hostIP ?? ''}/${p.hostPort}`;
      if (seen.has(key)) errs.push(fieldErrors.duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
      else seen.add(key);
    });
  });
  return errs;
}

function containersErrors(spec: PodSpec, volumes: Set<string>, path: string): FieldError[] {
  const containers = spec.containers ?? [];
  if (containers.length === 0) return [fieldErrors.required(path)];
  const grace = spec.terminationGracePeriodSeconds;
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...containerCommonErrors(c, volumes, p));
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else names.add(c.name);
    if (c.lifecycle) errs.push(...lifecycleErrors(c, child(p, 'lifecycle'), grace));
    errs.push(...probeErrors(c.livenessProbe, child(p, 'livenessProbe'), 'liveness', grace));
    errs.push(...probeErrors(c.readinessProbe, child(p, 'readinessProbe'), 'readiness', grace));
    errs.push(...probeErrors(c.startupProbe, child(p, 'startupProbe'), 'startup', grace));
    if (c.restartPolicy !== undefined) errs.push(fieldErrors.forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...hostPortErrors(containers, new Set(), path));
  return errs;
}

function initContainersErrors(spec: PodSpec, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((spec.containers ?? []).map((c) => c.name));
  const grace = spec.terminationGracePeriodSeconds;
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...containerCommonErrors(c, volumes, p));
    let sidecar = false;
    if (c.restartPolicy !== undefined) {
      errs.push(...enumErrors(c.restartPolicy, ['Always'], child(p, 'restartPolicy')));
      sidecar = c.restartPolicy === 'Always';
    }
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else if (c.name) names.add(c.name);
    // Init containers run one at a time, so host ports only conflict within one container.
    errs.push(...hostPortErrors([c], new Set(), path));
    if (sidecar) {
      if (c.lifecycle) errs.push(...lifecycleErrors(c, child(p, 'lifecycle'), grace));
      errs.push(...probeErrors(c.livenessProbe, child(p, 'livenessProbe'), 'liveness', grace));
      errs.push(...probeErrors(c.readinessProbe, child(p, 'readinessProbe'), 'readiness', grace));
      errs.push(...probeErrors(c.startupProbe, child(p, 'startupProbe'), 'startup', grace));
    } else {
      const why = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(fieldErrors.forbidden(child(p, 'lifecycle'), why));
      if (c.livenessProbe) errs.push(fieldErrors.forbidden(child(p, 'livenessProbe'), why));
      if (c.readinessProbe) errs.push(fieldErrors.forbidden(child(p, 'readinessProbe'), 'may not be set for init containers'));
      if (c.startupProbe) errs.push(fieldErrors.forbidden(child(p, 'startupProbe'), why));
    }
    if (c.resizePolicy?.length) errs.push(invalidValue(child(p, 'resizePolicy'), c.resizePolicy, 'must not be set for init containers'));
  });
  return errs;
}

function ephemeralContainersErrors(spec: PodSpec, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  (spec.ephemeralContainers ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...containerCommonErrors(c as Container, volumes, p));
    if (names.has(c.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), c.name));
    else names.add(c.name);
    for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe', 'ports', 'resizePolicy', 'restartPolicy'] as const) {
      const v = (c as unknown as Record<string, unknown>)[f];
      if (v !== undefined && !(Array.isArray(v) && v.length === 0)) errs.push(fieldErrors.forbidden(child(p, f), 'cannot be set for an Ephemeral Container'));
    }
  });
  return errs;
}

export function taintEffectErrors(effect: string | undefined, allowEmpty: boolean, path: string): FieldError[] {
  if (!effect) return allowEmpty ? [] : [fieldErrors.required(path)];
  return TAINT_EFFECTS.includes(effect) ? [] : [fieldErrors.notSupported(path, effect, TAINT_EFFECTS)];
}

/** ValidateTolerations. */
export function tolerationsErrors(tolerations: Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) errs.push(...qualifiedNameErrors(t.key, child(p, 'key')));
    if (!t.key && t.operator !== 'Exists') {
      errs.push(fieldErrors.invalid(child(p, 'operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds != null && t.effect !== 'NoExecute') {
      errs.push(fieldErrors.invalid(child(p, 'effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (!t.operator || t.operator === 'Equal') {
      const bad = isValidLabelValue(t.value ?? '');
      if (bad.length) errs.push(fieldErrors.invalid(child(p, 'operator'), t.value ?? '', bad.join(';')));
    } else if (t.operator === 'Exists') {
      if (t.value) errs.push(invalidValue(child(p, 'operator'), t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(fieldErrors.notSupported(child(p, 'operator'), t.operator, ['Equal', 'Exists']));
    }
    errs.push(...taintEffectErrors(t.effect, true, child(p, 'effect')));
  });
  return errs;
}

function dnsConfigErrors(config: PodDNSConfig | undefined, policy: string | undefined, path: string): FieldError[] {
  if (policy === 'None') {
    if (!config) return [fieldErrors.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (!config.nameservers?.length) return [fieldErrors.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!config) return [];
  const errs: FieldError[] = [];
  const ns = config.nameservers ?? [];
  if (ns.length > 3) errs.push(invalidValue(child(path, 'nameservers'), ns, 'must not have more than 3 nameservers'));
  ns.forEach((ip, i) => errs.push(...ipErrors(ip, `${child(path, 'nameservers')}[${i}]`)));
  const searches = config.searches ?? [];
  if (searches.length > 32) errs.push(invalidValue(child(path, 'searches'), searches, 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) errs.push(invalidValue(child(path, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'));
  searches.forEach((s, i) => errs.push(...subdomainErrors(s.replace(/\.$/, ''), `${child(path, 'searches')}[${i}]`)));
  (config.options ?? []).forEach((o, i) => { if (!o.name) errs.push(fieldErrors.required(`${child(path, 'options')}[${i}]`, 'must not be empty')); });
  return errs;
}

function topologySpreadErrors(constraints: TopologySpreadConstraint[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = constraints ?? [];
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (c.maxSkew <= 0) errs.push(fieldErrors.invalid(child(p, 'maxSkew'), c.maxSkew, 'must be greater than zero'));
    if (!c.topologyKey) errs.push(fieldErrors.required(child(p, 'topologyKey'), 'can not be empty'));
    else errs.push(...qualifiedNameErrors(c.topologyKey, child(p, 'topologyKey')));
    if (!['DoNotSchedule', 'ScheduleAnyway'].includes(c.whenUnsatisfiable)) {
      errs.push(fieldErrors.notSupported(child(p, 'whenUnsatisfiable'), c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (list.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable)) {
      errs.push(duplicateValue(child(p, '{topologyKey, whenUnsatisfiable}'), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    }
    if (c.minDomains != null && c.minDomains <= 0) errs.push(fieldErrors.invalid(child(p, 'minDomains'), c.minDomains, 'must be greater than 0'));
  });
  return errs;
}

const nameErrors = (value: string | undefined, path: string) =>
  value ? isDNS1123Subdomain(value).map((m) => fieldErrors.invalid(path, value, m)) : [];

/**
 * ValidatePodSpec. `isPod` marks a pod's own spec (a template may leave hostPort to be
 * defaulted later); `podName` lets ephemeral volume claim names be checked.
 */
export function podSpecErrors(spec: PodSpec, path: string, opts: { isPod?: boolean; podName?: string } = {}): FieldError[] {
  const podName = opts.podName;
  const errs: FieldError[] = [];
  if (spec.terminationGracePeriodSeconds == null) errs.push(fieldErrors.required(child(path, 'terminationGracePeriodSeconds')));
  const volumes = validateVolumes(spec.volumes, child(path, 'volumes'), podName);
  errs.push(...volumes.errors);
  errs.push(...containersErrors(spec, volumes.names, child(path, 'containers')));
  errs.push(...initContainersErrors(spec, volumes.names, child(path, 'initContainers')));
  errs.push(...ephemeralContainersErrors(spec, volumes.names, child(path, 'ephemeralContainers')));
  errs.push(...enumErrors(spec.restartPolicy, RESTART_POLICIES, child(path, 'restartPolicy')));
  errs.push(...enumErrors(spec.dnsPolicy, DNS_POLICIES, child(path, 'dnsPolicy')));
  errs.push(...validateLabels(spec.nodeSelector, child(path, 'nodeSelector')));
  if (spec.hostNetwork) {
    (spec.containers ?? []).forEach((c, i) => (c.ports ?? []).forEach((port, j) => {
      const hostPort = port.hostPort ?? 0;
      if ((opts.isPod || hostPort !== 0) && hostPort !== port.containerPort) {
        errs.push(fieldErrors.invalid(`${child(path, 'containers')}[${i}].ports[${j}].hostPort`, port.hostPort ?? 0, 'must match `containerPort` when `hostNetwork` is true'));
      }
    }));
  }
  errs.push(...dnsConfigErrors(spec.dnsConfig, spec.dnsPolicy, child(path, 'dnsConfig')));
  (spec.readinessGates ?? []).forEach((g, i) => errs.push(...qualifiedNameErrors(g.conditionType, `${child(path, 'readinessGates')}[${i}].conditionType`)));
  const gates = new Set<string>();
  (spec.schedulingGates ?? []).forEach((g, i) => {
    const p = `${child(path, 'schedulingGates')}[${i}]`;
    errs.push(...qualifiedNameErrors(g.name, p));
    if (gates.has(g.name)) errs.push(fieldErrors.duplicate(p, g.name));
    gates.add(g.name);
  });
  errs.push(...topologySpreadErrors(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints')));
  errs.push(...nameErrors(spec.serviceAccountName, child(path, 'serviceAccountName')));
  errs.push(...nameErrors(spec.nodeName, child(path, 'nodeName')));
  const ads = spec.activeDeadlineSeconds;
  if (ads != null && (ads < 1 || ads > 2147483647)) errs.push(fieldErrors.invalid(child(path, 'activeDeadlineSeconds'), ads, 'must be between 1 and 2147483647, inclusive'));
  if (spec.hostname) errs.push(...labelErrors(spec.hostname, child(path, 'hostname')));
  if (spec.subdomain) errs.push(...labelErrors(spec.subdomain, child(path, 'subdomain')));
  errs.push(...tolerationsErrors(spec.tolerations, child(path, 'tolerations')));
  (spec.hostAliases ?? []).forEach((a, i) => {
    const p = `${child(path, 'hostAliases')}[${i}]`;
    errs.push(...ipErrors(a.ip ?? '', child(p, 'ip')));
    (a.hostnames ?? []).forEach((h, j) => errs.push(...subdomainErrors(h, `${child(p, 'hostnames')}[${j}]`)));
  });
  errs.push(...nameErrors(spec.priorityClassName, child(path, 'priorityClassName')));
  if (spec.runtimeClassName != null) errs.push(...subdomainErrors(spec.runtimeClassName, child(path, 'runtimeClassName')));
  if (spec.preemptionPolicy != null && !['Never', 'PreemptLowerPriority'].includes(spec.preemptionPolicy)) {
    errs.push(fieldErrors.notSupported(child(path, 'preemptionPolicy'), spec.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  }
  if (spec.os) {
    if (!spec.os.name) errs.push(fieldErrors.required(child(child(path, 'os'), 'name'), 'cannot be empty'));
    else if (!['linux', 'windows'].includes(spec.os.name)) errs.push(fieldErrors.notSupported(child(path, 'os'), spec.os.name, ['linux', 'windows']));
  }
  return errs;
}
