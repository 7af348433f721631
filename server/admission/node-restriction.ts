// NodeRestriction (upstream's plugin/pkg/admission/noderestriction): the Node authorizer lets a
// kubelet write nodes, pods and leases at all, since it cannot see request bodies; this plugin
// sees them and holds each node to its own Node object, its own pods and its own lease, so one
// compromised node cannot steer workloads or rewrite other nodes.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Eviction } from 'kubernetes-types/policy/v1.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { forbidden, notFound } from '../../apimachinery/errors.js';
import { nodeIdentity } from '../auth/node/node-identity.js';
import { podConfigMapNames, podSecretNames } from '../auth/node/pod-references.js';
import { NAMESPACE_NODE_LEASE } from '../auth/node/node-authorizer.js';

export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** Labels under this namespace are for the cluster admin to steer workloads; a node may never set them. */
export const LABEL_NAMESPACE_NODE_RESTRICTION = 'node-restriction.kubernetes.io';

/** Labels a kubelet sets on its own Node (upstream's kubeletapis.IsKubeletLabel). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'node.kubernetes.io/instance-type',
  'beta.kubernetes.io/instance-type',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const labelNamespace = (key: string): string => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const inNamespace = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((d) => inNamespace(ns, d));
}

/** Keys added, removed or changed between two label maps. */
function modifiedLabels(a: Record<string, string> = {}, b: Record<string, string> = {}): string[] {
  const keys = new Set<string>();
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) keys.add(k);
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) keys.add(k);
  return [...keys];
}

/**
 * Labels a node may not add, remove or change on itself: the node-restriction namespace, and
 * any kubernetes.io / k8s.io label outside the kubelet's own set. Sorted, as upstream's set List().
 */
function forbiddenLabels(keys: string[]): string[] {
  return keys.filter((key) => {
    const ns = labelNamespace(key);
    if (inNamespace(ns, LABEL_NAMESPACE_NODE_RESTRICTION)) return true;
    const kubernetesLabel = inNamespace(ns, 'kubernetes.io') || inNamespace(ns, 'k8s.io');
    return kubernetesLabel && !isKubeletLabel(key);
  }).sort();
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
/** Go's %q for the plain strings that appear here. */
const q = (s: string): string => JSON.stringify(s);

class Restriction {
  constructor(
    readonly req: AdmissionRequest,
    readonly node: string,
  ) {}

  /** A 403 the way upstream's admission.NewForbidden words it: `<resource> "<name>" is forbidden: <why>`. */
  deny(why: string): Error {
    const { req } = this;
    const name = req.name || req.object?.metadata?.name || req.object?.metadata?.generateName || '';
    return forbidden({ group: req.def.group, resource: req.def.plural }, name, why);
  }

  async pod(): Promise<void> {
    const { req, node } = this;
    switch (req.operation) {
      case 'CREATE': return this.mirrorPodCreate(req.object as Pod);
      case 'DELETE':
        if ((req.oldObject as Pod | undefined)?.spec?.nodeName !== node) {
          throw this.deny(`node ${q(node)} can only delete pods with spec.nodeName set to itself`);
        }
        return;
      default:
        throw this.deny(`unexpected operation ${q(req.operation)}, node ${q(node)} can only create and delete mirror pods`);
    }
  }

  private async mirrorPodCreate(pod: Pod): Promise<void> {
    const { node } = this;
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
      throw this.deny(`pod does not have ${q(MIRROR_POD_ANNOTATION)} annotation, node ${q(node)} can only create mirror pods`);
    }
    if (pod.spec?.nodeName !== node) throw this.deny(`node ${q(node)} can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata?.ownerReferences ?? [];
    if (owners.length > 1) throw this.deny(`node ${q(node)} can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) {
      throw this.deny(`node ${q(node)} can only create pods with an owner reference set to itself`);
    }
    if (!owner.controller) throw this.deny(`node ${q(node)} can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion) throw this.deny(`node ${q(node)} must not set blockOwnerDeletion on an owner reference`);
    // The reference must be to this incarnation of the Node, not a deleted one of the same name.
    const entry = (await this.req.registry.store('', 'nodes').fresh()).get(node);
    if (!entry) throw notFound({ group: '', resource: 'nodes' }, node);
    const uid = entry.object.metadata?.uid ?? '';
    if (owner.uid !== uid) throw this.deny(`node ${node} UID mismatch: expected ${owner.uid} got ${uid}`);
    // A mirror pod reaches no other API object: the node could otherwise read them through it.
    if (pod.spec?.serviceAccountName) throw this.deny(`node ${q(node)} can not create pods that reference a service account`);
    if (podSecretNames(pod).size) throw this.deny(`node ${q(node)} can not create pods that reference secrets`);
    if (podConfigMapNames(pod).size) throw this.deny(`node ${q(node)} can not create pods that reference configmaps`);
    const volumes = pod.spec?.volumes ?? [];
    if (volumes.some((v) => v.projected?.sources?.some((s) => s.clusterTrustBundle))) {
      throw this.deny(`node ${q(node)} can not create pods that reference clustertrustbundles`);
    }
    if (volumes.some((v) => v.persistentVolumeClaim)) throw this.deny(`node ${q(node)} can not create pods that reference persistentvolumeclaims`);
  }

  podStatus(): void {
    const { req, node } = this;
    if (req.operation !== 'UPDATE') throw this.deny(`unexpected operation ${q(req.operation)}`);
    const old = req.oldObject as Pod | undefined;
    if (old?.spec?.nodeName !== node) throw this.deny(`node ${q(node)} can only update pod status for pods with spec.nodeName set to itself`);
    if (!sameJson(old.metadata?.labels ?? {}, (req.object as Pod | undefined)?.metadata?.labels ?? {})) {
      throw this.deny(`node ${q(node)} cannot update labels through pod status`);
    }
  }

  async podEviction(): Promise<void> {
    const { req, node } = this;
    if (req.operation !== 'CREATE') throw this.deny(`unexpected operation ${req.operation}`);
    // The pod named by the request path wins over the one named in the Eviction body.
    const podName = req.name || (req.object as Eviction | undefined)?.metadata?.name || '';
    if (!podName) throw this.deny('could not determine pod from request data');
    const entry = (await req.registry.store('', 'pods').fresh()).get(`${req.namespace}/${podName}`);
    if (!entry) throw notFound({ group: '', resource: 'pods' }, podName);
    if ((entry.object as Pod).spec?.nodeName !== node) throw this.deny(`node ${node} can only evict pods with spec.nodeName set to itself`);
  }

  pvcStatus(): void {
    const { req, node } = this;
    if (req.operation !== 'UPDATE') throw this.deny(`unexpected operation ${q(req.operation)}`);
    // Only capacity and conditions may change: no relabeling, finalizers or owners through status.
    const strip = (o: unknown): unknown => {
      const pvc = structuredClone(o ?? {}) as { metadata?: Record<string, unknown>; status?: Record<string, unknown> };
      if (pvc.metadata) { delete pvc.metadata.resourceVersion; delete pvc.metadata.managedFields; }
      if (pvc.status) {
        for (const f of ['capacity', 'conditions', 'allocatedResourceStatuses', 'allocatedResources']) delete pvc.status[f];
      }
      return pvc;
    };
    if (!sameJson(strip(req.oldObject), strip(req.object))) {
      throw this.deny(`node ${q(node)} is not allowed to update fields other than status.quantity and status.conditions`);
    }
  }

  nodeObject(): void {
    const { req, node } = this;
    const requested = req.name || req.object?.metadata?.name || '';
    if (requested !== node) throw this.deny(`node ${q(node)} is not allowed to modify node ${q(requested)}`);
    const obj = req.object as Node | undefined;
    if (req.operation === 'CREATE') {
      if (obj?.spec?.configSource) throw this.deny(`node ${q(node)} is not allowed to create pods with a non-nil configSource`);
      const bad = forbiddenLabels(modifiedLabels(obj?.metadata?.labels));
      if (bad.length) throw this.deny(`node ${q(node)} is not allowed to set the following labels: ${bad.join(', ')}`);
    }
    if (req.operation === 'UPDATE') {
      const old = req.oldObject as Node | undefined;
      if (obj?.spec?.configSource && !sameJson(obj.spec.configSource, old?.spec?.configSource)) {
        throw this.deny(`node ${q(node)} is not allowed to update configSource to a new non-nil configSource`);
      }
      // Removing its own NoSchedule/NoExecute taints would let a node attract workloads kept off it.
      if (!sameJson(obj?.spec?.taints, old?.spec?.taints)) throw this.deny(`node ${q(node)} is not allowed to modify taints`);
      const bad = forbiddenLabels(modifiedLabels(obj?.metadata?.labels, old?.metadata?.labels));
      // Upstream's message has no subject here.
      if (bad.length) throw this.deny(`is not allowed to modify labels: ${bad.join(', ')}`);
    }
  }

  lease(): void {
    const { req, node } = this;
    if (req.namespace !== NAMESPACE_NODE_LEASE) throw this.deny(`can only access leases in the ${q(NAMESPACE_NODE_LEASE)} system namespace`);
    // On create the name is only in the object; the authorizer could not check it.
    const name = req.operation === 'CREATE' ? ((req.object as Lease | undefined)?.metadata?.name ?? '') : req.name;
    if (name !== node) throw this.deny('can only access node lease with the same name as the requesting node');
  }

  csiNode(): void {
    const { req, node } = this;
    const name = req.operation === 'CREATE' ? (req.object?.metadata?.name ?? '') : req.name;
    if (name !== node) throw this.deny('can only access CSINode with the same name as the requesting node');
  }
}

export const nodeRestriction: AdmissionPlugin = {
  name: 'NodeRestriction',
  async validate(req) {
    const id = nodeIdentity(req.user);
    // Only nodes are restricted; the server's own writes carry no user.
    if (!id) return;
    const r = new Restriction(req, id.nodeName);
    if (!id.nodeName) throw r.deny(`could not determine node from user ${q(req.user!.name)}`);
    const { group, plural } = req.def;
    if (group === '' && plural === 'pods') {
      switch (req.subresource) {
        case '': return r.pod();
        case 'status': return r.podStatus();
        case 'eviction': return r.podEviction();
        default: throw r.deny(`unexpected subresource ${q(req.subresource)}, only 'status' and 'eviction' are allowed`);
      }
    }
    if (group === '' && plural === 'nodes') return r.nodeObject();
    if (group === '' && plural === 'persistentvolumeclaims') {
      if (req.subresource === 'status') return r.pvcStatus();
      throw r.deny('may only update PVC status');
    }
    if (group === 'coordination.k8s.io' && plural === 'leases') return r.lease();
    if (group === 'storage.k8s.io' && plural === 'csinodes') return r.csiNode();
  },
};
