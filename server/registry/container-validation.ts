// Container validation, as upstream's validateContainerCommon and its helpers: names, image,
// ports, env, envFrom, volume mounts, pull policy, resources, probes and lifecycle handlers.
import type {
  Container, ContainerPort, EnvFromSource, EnvVar, LifecycleHandler, Probe, ResourceRequirements, VolumeMount,
} from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain, isQualifiedName } from '../../apimachinery/validation.js';
import {
  child, isHugePageResource, isNativeResource, isOvercommitAllowed, keyPath, labelErrors, notFoundValue,
  portNameErrors, portNumErrors, portNumOrNameErrors, protocolErrors, qualifiedNameErrors,
} from './core-helpers.js';
import { compareQuantity, parseQuantity, QUANTITY_FORMAT_ERROR } from './quantity.js';

/** validation.IsConfigMapKey: keys of ConfigMaps, Secrets and key selectors. */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) {
    errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  }
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** validation.IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by default in 1.32). */
function envVarNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length === 0) errs.push('environment variable name must be non-empty');
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code > 0x7e || code < 0x20 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

const ENV_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];

function fieldRefErrors(ref: { apiVersion?: string; fieldPath: string }, path: string): FieldError[] {
  if (!ref.apiVersion) return [fieldErrors.required(child(path, 'apiVersion'))];
  if (!ref.fieldPath) return [fieldErrors.required(child(path, 'fieldPath'))];
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(ref.fieldPath);
  if (sub) return sub[1] === 'metadata.labels' ? qualifiedNameErrors(sub[2], path) : qualifiedNameErrors(sub[2].toLowerCase(), path);
  if (!ENV_FIELD_PATHS.includes(ref.fieldPath) || ref.fieldPath === 'metadata.labels' || ref.fieldPath === 'metadata.annotations') {
    return [fieldErrors.notSupported(child(path, 'fieldPath'), ref.fieldPath, ENV_FIELD_PATHS)];
  }
  return [];
}

function keySelectorErrors(sel: { name?: string; key: string }, path: string): FieldError[] {
  const errs = isDNS1123Subdomain(sel.name ?? '').map((m) => fieldErrors.invalid(child(path, 'name'), sel.name ?? '', m));
  if (!sel.key) errs.push(fieldErrors.required(child(path, 'key')));
  else errs.push(...configMapKeyErrors(sel.key).map((m) => fieldErrors.invalid(child(path, 'key'), sel.key, m)));
  return errs;
}

function envErrors(env: EnvVar[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (env ?? []).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!e.name) errs.push(fieldErrors.required(child(p, 'name')));
    else errs.push(...envVarNameErrors(e.name).map((m) => fieldErrors.invalid(child(p, 'name'), e.name, m)));
    const from = e.valueFrom;
    if (!from) return;
    const fp = child(p, 'valueFrom');
    let sources = 0;
    if (from.fieldRef) { sources++; errs.push(...fieldRefErrors(from.fieldRef, child(fp, 'fieldRef'))); }
    if (from.resourceFieldRef) {
      sources++;
      if (!from.resourceFieldRef.resource) errs.push(fieldErrors.required(child(child(fp, 'resourceFieldRef'), 'resource')));
    }
    if (from.configMapKeyRef) { sources++; errs.push(...keySelectorErrors(from.configMapKeyRef, child(fp, 'configMapKeyRef'))); }
    if (from.secretKeyRef) { sources++; errs.push(...keySelectorErrors(from.secretKeyRef, child(fp, 'secretKeyRef'))); }
    if (sources === 0) errs.push(fieldErrors.invalid(fp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (e.value) errs.push(fieldErrors.invalid(fp, '', 'may not be specified when `value` is not empty'));
    else if (sources > 1) errs.push(fieldErrors.invalid(fp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function envFromErrors(envFrom: EnvFromSource[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (envFrom ?? []).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (e.prefix) errs.push(...envVarNameErrors(e.prefix).map((m) => fieldErrors.invalid(child(p, 'prefix'), e.prefix, m)));
    let sources = 0;
    for (const [key, ref] of [['configMapRef', e.configMapRef], ['secretRef', e.secretRef]] as const) {
      if (!ref) continue;
      sources++;
      const np = child(child(p, key), 'name');
      if (!ref.name) errs.push(fieldErrors.required(np));
      else errs.push(...isDNS1123Subdomain(ref.name.replace(/-$/, 'a')).map((m) => fieldErrors.invalid(np, ref.name, m)));
    }
    if (sources === 0) errs.push(fieldErrors.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(fieldErrors.invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function portsErrors(ports: ContainerPort[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = portNameErrors(port.name);
      if (msgs.length) errs.push(...msgs.map((m) => fieldErrors.invalid(child(p, 'name'), port.name, m)));
      else if (names.has(port.name)) errs.push(fieldErrors.duplicate(child(p, 'name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(fieldErrors.required(child(p, 'containerPort')));
    else errs.push(...portNumErrors(port.containerPort).map((m) => fieldErrors.invalid(child(p, 'containerPort'), port.containerPort, m)));
    if (port.hostPort) errs.push(...portNumErrors(port.hostPort).map((m) => fieldErrors.invalid(child(p, 'hostPort'), port.hostPort, m)));
    errs.push(...protocolErrors(port.protocol, child(p, 'protocol')));
  });
  return errs;
}

/** validateLocalDescendingPath. */
export function localDescendingPathErrors(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(fieldErrors.invalid(path, target, 'must be a relative path'));
  if (target.split('/').includes('..')) errs.push(fieldErrors.invalid(path, target, "must not contain '..'"));
  return errs;
}

function mountErrors(mounts: VolumeMount[] | undefined, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  (mounts ?? []).forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (!m.name) errs.push(fieldErrors.required(child(p, 'name')));
    if (!volumes.has(m.name)) errs.push(notFoundValue(child(p, 'name'), m.name));
    if (!m.mountPath) errs.push(fieldErrors.required(child(p, 'mountPath')));
    if (paths.has(m.mountPath)) errs.push(fieldErrors.invalid(child(p, 'mountPath'), m.mountPath, 'must be unique'));
    paths.add(m.mountPath);
    if (m.subPath) errs.push(...localDescendingPathErrors(m.subPath, child(path, 'subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(fieldErrors.invalid(child(p, 'subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...localDescendingPathErrors(m.subPathExpr, child(path, 'subPathExpr')));
    }
    if (m.mountPropagation && !['Bidirectional', 'HostToContainer', 'None'].includes(m.mountPropagation)) {
      errs.push(fieldErrors.notSupported(child(path, 'mountPropagation'), m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
    }
  });
  return errs;
}

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
const STANDARD_RESOURCES = [...STANDARD_CONTAINER_RESOURCES, 'storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers', 'requests.cpu', 'requests.memory', 'requests.storage',
  'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage'];

/** validateResourceName: a qualified name, and a known one unless it has a domain. */
export function resourceNameErrors(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fieldErrors.invalid(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !STANDARD_RESOURCES.includes(name) && !isHugePageResource(name) && !/^requests\.hugepages-/.test(name)) {
    errs.push(fieldErrors.invalid(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

export function containerResourceNameErrors(name: string, path: string): FieldError[] {
  const errs = resourceNameErrors(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePageResource(name)) errs.push(fieldErrors.invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && name.startsWith('requests.')) {
    errs.push(fieldErrors.invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** ValidateResourceQuantityValue: well-formed, not negative, whole for integer resources. */
export function quantityValueErrors(resource: string, value: string | number, path: string): FieldError[] {
  const n = parseQuantity(value);
  if (n === undefined) return [fieldErrors.invalid(path, String(value), QUANTITY_FORMAT_ERROR)];
  if (n < 0) return [fieldErrors.invalid(path, String(value), 'must be greater than or equal to 0')];
  const integerResource = !isNativeResource(resource) || ['pods', 'services', 'secrets', 'configmaps', 'persistentvolumeclaims', 'resourcequotas', 'replicationcontrollers', 'services.nodeports', 'services.loadbalancers'].includes(resource);
  if (integerResource && !Number.isInteger(Math.round(n * 1000) / 1000)) return [fieldErrors.invalid(path, String(value), 'must be an integer')];
  return [];
}

export function resourcesErrors(res: ResourceRequirements | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = child(path, 'limits');
  const reqPath = child(path, 'requests');
  const limits = res?.limits ?? {};
  for (const [name, q] of Object.entries(limits)) {
    errs.push(...containerResourceNameErrors(name, keyPath(limPath, name)), ...quantityValueErrors(name, q, keyPath(limPath, name)));
  }
  for (const [name, q] of Object.entries(res?.requests ?? {})) {
    errs.push(...containerResourceNameErrors(name, keyPath(reqPath, name)), ...quantityValueErrors(name, q, keyPath(reqPath, name)));
    if (name in limits) {
      const cmp = compareQuantity(q, limits[name]);
      if (cmp !== 0 && !isOvercommitAllowed(name)) errs.push(fieldErrors.invalid(reqPath, String(q), `must be equal to ${name} limit of ${limits[name]}`));
      else if (cmp > 0) errs.push(fieldErrors.invalid(reqPath, String(q), `must be less than or equal to ${name} limit of ${limits[name]}`));
    } else if (!isOvercommitAllowed(name)) {
      errs.push(fieldErrors.required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

type Handler = Pick<LifecycleHandler, 'exec' | 'httpGet' | 'tcpSocket' | 'sleep'> & { grpc?: Probe['grpc'] };

/** validateHandler: exactly one action, each well-formed. */
function handlerErrors(h: Handler, path: string, gracePeriod = 30): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  const one = (key: string, check: () => FieldError[]) => {
    if (n > 0) errs.push(fieldErrors.forbidden(child(path, key), 'may not specify more than 1 handler type'));
    else { n++; errs.push(...check()); }
  };
  if (h.exec) one('exec', () => (h.exec!.command?.length ? [] : [fieldErrors.required(child(child(path, 'exec'), 'command'))]));
  if (h.httpGet) {
    one('httpGet', () => {
      const p = child(path, 'httpGet');
      const out: FieldError[] = [];
      if (!h.httpGet!.path) out.push(fieldErrors.required(child(p, 'path')));
      out.push(...portNumOrNameErrors(h.httpGet!.port, child(p, 'port')));
      if (!['HTTP', 'HTTPS'].includes(h.httpGet!.scheme ?? '')) out.push(fieldErrors.notSupported(child(p, 'scheme'), h.httpGet!.scheme ?? '', ['HTTP', 'HTTPS']));
      return out;
    });
  }
  if (h.tcpSocket) one('tcpSocket', () => portNumOrNameErrors(h.tcpSocket!.port, child(child(path, 'tcpSocket'), 'port')));
  if (h.grpc) one('grpc', () => portNumErrors(h.grpc!.port).map((m) => fieldErrors.invalid(child(child(path, 'grpc'), 'port'), h.grpc!.port, m)));
  if (h.sleep) {
    const s = h.sleep.seconds;
    one('sleep', () => (s > 0 && s <= gracePeriod ? [] : [fieldErrors.invalid(child(path, 'sleep'), s, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod})`)]));
  }
  if (n === 0) errs.push(fieldErrors.required(path, 'must specify a handler type'));
  return errs;
}

function nonNegative(value: number | undefined, path: string): FieldError[] {
  return (value ?? 0) < 0 ? [fieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

export function probeErrors(probe: Probe | undefined, path: string, kind: 'liveness' | 'readiness' | 'startup', gracePeriod?: number): FieldError[] {
  if (!probe) return [];
  const errs = handlerErrors(probe, path, gracePeriod);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...nonNegative(probe[f], child(path, f)));
  }
  const tgps = probe.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps <= 0) errs.push(fieldErrors.invalid(child(path, 'terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  if (kind !== 'readiness' && probe.successThreshold !== 1) errs.push(fieldErrors.invalid(child(path, 'successThreshold'), probe.successThreshold ?? 0, 'must be 1'));
  if (kind === 'readiness' && tgps !== undefined) errs.push(fieldErrors.invalid(child(path, 'terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
  return errs;
}

export function lifecycleErrors(c: Container, path: string, gracePeriod?: number): FieldError[] {
  const errs: FieldError[] = [];
  if (c.lifecycle?.postStart) errs.push(...handlerErrors(c.lifecycle.postStart, child(path, 'postStart'), gracePeriod));
  if (c.lifecycle?.preStop) errs.push(...handlerErrors(c.lifecycle.preStop, child(path, 'preStop'), gracePeriod));
  return errs;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

/** validateContainerCommon: what every container kind (regular, init, ephemeral) must satisfy. */
export function containerCommonErrors(c: Container, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const namePath = child(path, 'name');
  if (!c.name) errs.push(fieldErrors.required(namePath));
  else errs.push(...labelErrors(c.name, namePath));
  if (!c.image) errs.push(fieldErrors.required(child(path, 'image')));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(fieldErrors.required(child(path, 'terminationMessagePolicy')));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(fieldErrors.notSupported(child(path, 'terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  errs.push(...portsErrors(c.ports, child(path, 'ports')));
  errs.push(...envErrors(c.env, child(path, 'env')));
  errs.push(...envFromErrors(c.envFrom, child(path, 'envFrom')));
  errs.push(...mountErrors(c.volumeMounts, volumes, child(path, 'volumeMounts')));
  const pp = c.imagePullPolicy;
  if (!pp) errs.push(fieldErrors.required(child(path, 'imagePullPolicy')));
  else if (!PULL_POLICIES.includes(pp)) errs.push(fieldErrors.notSupported(child(path, 'imagePullPolicy'), pp, PULL_POLICIES));
  errs.push(...resourcesErrors(c.resources, child(path, 'resources')));
  return errs;
}
