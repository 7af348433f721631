// networking.k8s.io/v1 NetworkPolicy: defaults (port protocol TCP, policyTypes derived from the
// rules as SetDefaults_NetworkPolicy), ValidateNetworkPolicySpec and the printer.
import type { IPBlock, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goQuote, invalidRaw } from './go-format.js';
import { formatSelector, validateLabelSelector } from './label-selector-validation.js';
import { cidrContains, isValidCIDR, isValidPortName, isValidPortNum, parseCIDR } from './net-validation.js';
import type { Stored } from './workload-helpers.js';

type Obj = Stored<NetworkPolicy>;

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= {} as NetworkPolicySpec);
  spec.podSelector ??= {};
  for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) {
    for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
  }
  // A policy that names no types is at least an ingress policy, and an egress one if it has egress rules.
  if (!spec.policyTypes?.length) spec.policyTypes = spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

function validatePort(port: NetworkPolicyPort, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (port.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(port.protocol)) {
    out.push(fieldErrors.notSupported(`${path}.protocol`, port.protocol, ['TCP', 'UDP', 'SCTP']));
  }
  if (port.port !== undefined) {
    if (typeof port.port === 'number') {
      for (const m of isValidPortNum(port.port)) out.push(fieldErrors.invalid(`${path}.port`, port.port, m));
      if (port.endPort !== undefined) {
        if (port.endPort < port.port) out.push(fieldErrors.invalid(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
        for (const m of isValidPortNum(port.endPort)) out.push(fieldErrors.invalid(`${path}.endPort`, port.endPort, m));
      }
    } else {
      if (port.endPort !== undefined) out.push(fieldErrors.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
      for (const m of isValidPortName(port.port)) out.push(fieldErrors.invalid(`${path}.port`, port.port, m));
    }
  } else if (port.endPort !== undefined) {
    out.push(fieldErrors.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  }
  return out;
}

function validateIPBlock(b: IPBlock, path: string): FieldError[] {
  if (!b.cidr) return [fieldErrors.required(`${path}.cidr`)];
  const out = isValidCIDR(`${path}.cidr`, b.cidr);
  const outer = parseCIDR(b.cidr);
  if (!outer) return out;
  (b.except ?? []).forEach((ex, i) => {
    const p = `${path}.except[${i}]`;
    out.push(...isValidCIDR(p, ex));
    const inner = parseCIDR(ex);
    if (inner && (!cidrContains(outer, inner) || outer.prefix >= inner.prefix)) out.push(fieldErrors.invalid(p, ex, 'must be a strict subset of `cidr`'));
  });
  return out;
}

function validatePeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const out: FieldError[] = [];
  let peers = 0;
  if (peer.podSelector) { peers++; out.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`)); }
  if (peer.namespaceSelector) { peers++; out.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`)); }
  if (peer.ipBlock) { peers++; out.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`)); }
  if (peers === 0) out.push(fieldErrors.required(path, 'must specify a peer'));
  else if (peers > 1 && peer.ipBlock) out.push(fieldErrors.forbidden(path, 'may not specify both ipBlock and another peer'));
  return out;
}

function validate(obj: Obj): FieldError[] {
  const spec = obj.spec ?? ({} as NetworkPolicySpec);
  const out = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  (spec.ingress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => out.push(...validatePort(p, `spec.ingress[${i}].ports[${j}]`)));
    (rule.from ?? []).forEach((p, j) => out.push(...validatePeer(p, `spec.ingress[${i}].from[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => out.push(...validatePort(p, `spec.egress[${i}].ports[${j}]`)));
    (rule.to ?? []).forEach((p, j) => out.push(...validatePeer(p, `spec.egress[${i}].to[${j}]`)));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > 2) return [...out, invalidRaw('spec.policyTypes', `[]networking.PolicyType{${types.map(goQuote).join(', ')}}`, 'may not specify more than two policyTypes')];
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') out.push(fieldErrors.notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  });
  return out;
}

const networkpolicies: ResourceDefinition<Obj> = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  singular: 'networkpolicy',
  namespaced: true,
  shortNames: ['netpol'],
  generation: true,
  strategy: { defaults, validate },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Pod-Selector', type: 'string', description: 'Selects the pods to which this NetworkPolicy object applies.' },
      AGE_COLUMN,
    ],
    row: (obj) => [obj.metadata?.name ?? '', formatSelector(obj.spec?.podSelector ?? {}), age(obj.metadata?.creationTimestamp)],
  },
};

export default networkpolicies;
