// core/v1 nodes: SetDefaults_NodeStatus, the node strategy, ValidateNode / ValidateNodeUpdate
// and printNode (STATUS from the Ready condition, ROLES from node-role labels).
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isValidLabelValue } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, type Stored } from './core-helpers.js';
import { qualifiedNameErrors } from './core-helpers.js';
import { taintEffectErrors } from './pod-validation.js';

type NodeObject = Stored<Node>;

/** validateNodeTaints. Upstream reports them under metadata.taints, and so do we. */
function taintErrors(taints: Taint[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Map<string, Set<string>>();
  (taints ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    errs.push(...qualifiedNameErrors(t.key, `${p}.key`));
    const bad = isValidLabelValue(t.value ?? '');
    if (bad.length) errs.push(fieldErrors.invalid(`${p}.value`, t.value ?? '', bad.join(';')));
    errs.push(...taintEffectErrors(t.effect, false, `${p}.effect`));
    const keys = seen.get(t.effect) ?? new Set<string>();
    if (keys.has(t.key)) {
      errs.push({ type: 'FieldValueDuplicate', field: p, detail: `Duplicate value: ${JSON.stringify(t)}: taints must be unique by key and effect pair` });
      return;
    }
    keys.add(t.key);
    seen.set(t.effect, keys);
  });
  return errs;
}

function podCIDRErrors(node: Node): FieldError[] {
  const cidrs = node.spec?.podCIDRs ?? [];
  const errs: FieldError[] = [];
  cidrs.forEach((c, i) => {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c)) errs.push(fieldErrors.invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
  });
  if (cidrs.length > 1 && (cidrs.length > 2 || cidrs[0].includes(':') === cidrs[1].includes(':'))) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.podCIDRs', detail: `Invalid value: ${JSON.stringify(cidrs)}: may specify no more than one CIDR for each IP family` });
  }
  return errs;
}

export function validateNode(node: Node): FieldError[] {
  return [...taintErrors(node.spec?.taints, 'metadata.taints'), ...podCIDRErrors(node)];
}

/** Only labels, taints, unschedulable, a first podCIDR/providerID, and status may change. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const key = `${a.type}/${a.address}`;
    if (seen.has(key)) errs.push({ type: 'FieldValueDuplicate', field: `status.addresses[${i}]`, detail: `Duplicate value: ${JSON.stringify(a)}` });
    seen.add(key);
  });
  const spec = node.spec ?? {};
  const oldSpec = old.spec ?? {};
  const oldCIDRs = oldSpec.podCIDRs ?? [];
  if (oldCIDRs.length && !deepEqual(oldCIDRs, spec.podCIDRs)) {
    errs.push(fieldErrors.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (oldSpec.providerID && oldSpec.providerID !== spec.providerID) {
    errs.push(fieldErrors.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  const rest = (s: NonNullable<Node['spec']>) => {
    const { unschedulable: _u, taints: _t, podCIDR: _c, podCIDRs: _cs, providerID: _p, configSource: _s, ...others } = s;
    return others;
  };
  if (!deepEqual(rest(spec), rest(oldSpec))) {
    errs.push(fieldErrors.forbidden('', 'node updates may only change labels, taints, or capacity (or configSource, if the DynamicKubeletConfig feature gate is enabled)'));
  }
  return errs;
}

function nodeStatusText(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** findNodeRoles: node-role.kubernetes.io/<role> keys and kubernetes.io/role values, sorted. */
export function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort().join(',') || '<none>';
}

const address = (node: Node, type: string) => (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';

const nodes: ResourceDefinition<NodeObject> = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  subresources: { status: true },
  fieldSelectors: { 'spec.unschedulable': (n) => String(n.spec?.unschedulable ?? false) },
  strategy: {
    defaults(node) {
      const status = node.status;
      if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
    },
    prepareForCreate(node) {
      // Dynamic kubelet config is gone; its fields are dropped as upstream does.
      if (node.spec?.configSource) delete node.spec.configSource;
      if (node.status && 'config' in node.status) delete node.status.config;
    },
    prepareForUpdate(node, old) {
      node.status = old.status;
      if (node.spec?.configSource && !old.spec?.configSource) delete node.spec.configSource;
    },
    validate: validateNode,
    validateUpdate: validateNodeUpdate,
    validateStatusUpdate: (node, old) => [...validateNode(node), ...validateNodeUpdate(node, old)],
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE_COLUMN,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node.', { priority: 1 }),
      col('External-IP', 'List of addresses reachable to the node.', { priority: 1 }),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", { priority: 1 }),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
    ],
    row(node) {
      const info = node.status?.nodeInfo;
      return [
        node.metadata?.name, nodeStatusText(node), nodeRoles(node), age(node.metadata?.creationTimestamp), info?.kubeletVersion ?? '',
        address(node, 'InternalIP'), address(node, 'ExternalIP'),
        info?.osImage || '<unknown>', info?.kernelVersion || '<unknown>', info?.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
};

export default nodes;
