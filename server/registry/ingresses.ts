// networking.k8s.io/v1 Ingress: validation as upstream's ValidateIngress* (rules, paths with
// required pathType, backends, TLS, the class annotation), load-balancer status and the printer.
import type { HTTPIngressPath, Ingress, IngressBackend, IngressLoadBalancerStatus, IngressSpec } from 'kubernetes-types/networking/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1035Label, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { invalidRaw } from './go-format.js';
import {
  isIPAddress, isValidPathSegmentName, isValidPortName, isValidPortNum, isWildcardDNS1123Subdomain,
} from './net-validation.js';
import { type Stored, setStatus } from './workload-helpers.js';
import { keepRequestLabelsAndAnnotations } from './core-helpers.js';

type Obj = Stored<Ingress>;

const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

/** Typed local object references as Ingress backends and IngressClass parameters use them. */
export function validateTypedLocalObjectReference(ref: { apiGroup?: string; kind?: string; name?: string }, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (ref.apiGroup !== undefined) for (const m of isDNS1123Subdomain(ref.apiGroup)) out.push(fieldErrors.invalid(`${path}.apiGroup`, ref.apiGroup, m));
  if (!ref.kind) out.push(fieldErrors.required(`${path}.kind`, 'kind is required'));
  else for (const m of isValidPathSegmentName(ref.kind)) out.push(fieldErrors.invalid(`${path}.kind`, ref.kind, m));
  if (!ref.name) out.push(fieldErrors.required(`${path}.name`, 'name is required'));
  else for (const m of isValidPathSegmentName(ref.name)) out.push(fieldErrors.invalid(`${path}.name`, ref.name, m));
  return out;
}

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  if (b.resource && b.service) return [fieldErrors.invalid(path, '', 'cannot set both resource and service backends')];
  if (b.resource) return validateTypedLocalObjectReference(b.resource, `${path}.resource`);
  if (!b.service) return [fieldErrors.invalid(path, '', 'resource or service backend is required')];
  const out: FieldError[] = [];
  const svc = b.service;
  if (!svc.name) out.push(fieldErrors.required(`${path}.service.name`));
  else for (const m of isDNS1035Label(svc.name)) out.push(fieldErrors.invalid(`${path}.service.name`, svc.name, m));
  const portName = svc.port?.name ?? '';
  const portNumber = svc.port?.number ?? 0;
  if (portName && portNumber) out.push(fieldErrors.invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) for (const m of isValidPortName(portName)) out.push(fieldErrors.invalid(`${path}.service.port.name`, portName, m));
  else if (portNumber) for (const m of isValidPortNum(portNumber)) out.push(fieldErrors.invalid(`${path}.service.port.number`, portNumber, m));
  else out.push(fieldErrors.required(path, 'port name or number is required'));
  return out;
}

function validatePath(p: HTTPIngressPath, path: string): FieldError[] {
  if (!p.pathType) return [fieldErrors.required(`${path}.pathType`, 'pathType must be specified')];
  const out: FieldError[] = [];
  const value = p.path ?? '';
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) out.push(fieldErrors.invalid(`${path}.path`, value, 'must be an absolute path'));
      if (value) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) out.push(fieldErrors.invalid(`${path}.path`, value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) out.push(fieldErrors.invalid(`${path}.path`, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value && !value.startsWith('/')) out.push(fieldErrors.invalid(`${path}.path`, value, 'must be an absolute path'));
      break;
    default:
      out.push(fieldErrors.notSupported(`${path}.pathType`, p.pathType, ['Exact', 'ImplementationSpecific', 'Prefix']));
  }
  out.push(...validateBackend(p.backend ?? {}, `${path}.backend`));
  return out;
}

function validateHost(host: string, path: string): FieldError[] {
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return msgs.map((m) => fieldErrors.invalid(path, host, m));
}

function validateSpec(spec: IngressSpec | undefined, path: string): FieldError[] {
  const s = spec ?? {};
  const out: FieldError[] = [];
  const rules = s.rules ?? [];
  if (rules.length === 0 && !s.defaultBackend) {
    out.push(invalidRaw(path, s.rules ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (s.defaultBackend) out.push(...validateBackend(s.defaultBackend, `${path}.defaultBackend`));
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    if (rule.host) {
      if (isIPAddress(rule.host)) out.push(fieldErrors.invalid(`${rp}.host`, rule.host, 'must be a DNS name, not an IP address'));
      out.push(...validateHost(rule.host, `${rp}.host`));
    }
    if (rule.http) {
      const paths = rule.http.paths ?? [];
      if (paths.length === 0) out.push(fieldErrors.required(`${rp}.http.paths`));
      paths.forEach((p, j) => out.push(...validatePath(p, `${rp}.http.paths[${j}]`)));
    }
  });
  (s.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((h, j) => out.push(...validateHost(h, `${path}.tls[${i}].hosts[${j}]`)));
    if (tls.secretName) {
      for (const m of isDNS1123Subdomain(tls.secretName)) out.push(fieldErrors.invalid(`${path}.tls[${i}].secretName`, tls.secretName, m));
    }
  });
  if (s.ingressClassName !== undefined) {
    for (const m of isDNS1123Subdomain(s.ingressClassName)) out.push(fieldErrors.invalid(`${path}.ingressClassName`, s.ingressClassName, m));
  }
  return out;
}

function validate(obj: Obj): FieldError[] {
  const out = validateSpec(obj.spec, 'spec');
  const annotation = obj.metadata?.annotations?.[CLASS_ANNOTATION];
  const className = obj.spec?.ingressClassName;
  if (annotation !== undefined && className !== undefined && annotation !== className) {
    out.push(fieldErrors.invalid(`annotations.${CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
  }
  return out;
}

/** ValidateIngressLoadBalancerStatus (shared shape with Services' load balancers). */
export function validateLoadBalancerStatus(st: IngressLoadBalancerStatus | undefined, path: string): FieldError[] {
  const out: FieldError[] = [];
  (st?.ingress ?? []).forEach((ing, i) => {
    const p = `${path}.ingress[${i}]`;
    if (ing.ip && !isIPAddress(ing.ip)) out.push(fieldErrors.invalid(`${p}.ip`, ing.ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    if (ing.hostname) {
      for (const m of isDNS1123Subdomain(ing.hostname)) out.push(fieldErrors.invalid(`${p}.hostname`, ing.hostname, m));
      if (isIPAddress(ing.hostname)) out.push(fieldErrors.invalid(`${p}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return out;
}

/** formatHosts: at most three hosts, "*" when no rule names one. */
function hostsCell(obj: Obj): string {
  const rules = obj.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === max) more = true;
    if (!more && r.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - max} more...` : list.join(',');
}

/** ingressLoadBalancerStatusStringer without -o wide: long lists are cut at 16 characters. */
function addressCell(obj: Obj): string {
  const text = (obj.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((s) => s).join(',');
  return text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

const ingresses: ResourceDefinition<Obj> = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  singular: 'ingress',
  namespaced: true,
  shortNames: ['ing'],
  generation: true,
  subresources: { status: true },
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
    },
    prepareForCreate(obj) {
      setStatus(obj, { loadBalancer: {} });
    },
    prepareForStatusUpdate: keepRequestLabelsAndAnnotations,
    validate,
    validateStatusUpdate: (obj) => validateLoadBalancerStatus(obj.status?.loadBalancer, 'status.loadBalancer'),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Class', type: 'string', description: 'The name of the IngressClass resource that should be used for this Ingress.' },
      { name: 'Hosts', type: 'string', description: 'Hosts that incoming requests are matched against before the ingress rule' },
      { name: 'Address', type: 'string', description: 'Address is a list containing ingress points for the load-balancer' },
      { name: 'Ports', type: 'string', description: 'Ports of TLS configurations that open' },
      AGE_COLUMN,
    ],
    row: (obj) => [
      obj.metadata?.name ?? '',
      obj.spec?.ingressClassName ?? '<none>',
      hostsCell(obj),
      addressCell(obj),
      (obj.spec?.tls ?? []).length ? '80, 443' : '80',
      age(obj.metadata?.creationTimestamp),
    ],
  },
};

export default ingresses;
