// The Node authorizer (upstream's plugin/pkg/auth/authorizer/node): a kubelet, user
// system:node:<name> in group system:nodes, may read the secrets, config maps, claims and
// volumes of the pods bound to its node and no others; everything else it may do is the fixed
// system:node rule list. NodeRestriction admission narrows the writes further (which Node, which
// pods), since the authorizer does not see request bodies.
//
// Like upstream, a refusal is "no opinion" with a reason, not "deny": the chain goes on to RBAC
// (where nothing is bound to nodes by default), and the reason ends up in the 403 message.
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import type { Attributes, AuthorizationResult, Authorizer } from '../types.js';
import { ruleAllows } from '../rbac/rules.js';
import { nodeRules } from '../rbac/bootstrap-policy.js';
import { nodeIdentity } from './node-identity.js';
import type { NodeGraphSource } from './node-graph.js';
import { podClaimNames, podConfigMapNames, podSecretNames } from './pod-references.js';

/** The namespace node leases live in (upstream's api.NamespaceNodeLease). */
export const NAMESPACE_NODE_LEASE = 'kube-node-lease';

/** The kinds of object whose access follows the pod -> node edges. */
type Vertex = 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceaccount' | 'pod';

const ALLOW: AuthorizationResult = { decision: 'allow', reason: '' };
const noOpinion = (reason = ''): AuthorizationResult => ({ decision: 'no-opinion', reason });

export class NodeAuthorizer implements Authorizer {
  constructor(
    private readonly graph: NodeGraphSource,
    private readonly rules: readonly PolicyRule[] = nodeRules,
  ) {}

  authorize(a: Attributes): AuthorizationResult {
    const id = nodeIdentity(a.user);
    if (!id) return noOpinion();
    const node = id.nodeName;
    if (!node) return noOpinion(`unknown node for user ${JSON.stringify(a.user.name)}`);

    if (a.resourceRequest && a.apiGroup === '') {
      switch (a.resource) {
        case 'secrets': return this.readNamespaced(node, 'secret', a);
        case 'configmaps': return this.readNamespaced(node, 'configmap', a);
        case 'persistentvolumeclaims':
          return a.subresource === 'status' ? this.statusUpdate(node, 'pvc', a) : this.get(node, 'pvc', a);
        case 'persistentvolumes': return this.get(node, 'pv', a);
        case 'serviceaccounts': return this.createToken(node, a);
        case 'pods':
          // Only a single pod's read is subdivided: listing and watching need a spec.nodeName
          // field selector upstream, which authorization attributes here do not carry.
          if (a.verb === 'get' && !a.subresource) return this.get(node, 'pod', a);
          break;
      }
    }
    if (a.resourceRequest && a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') return this.lease(node, a);
    if (a.resourceRequest && a.apiGroup === 'storage.k8s.io' && a.resource === 'csinodes') return this.csiNode(node, a);

    // Access to everything else is not subdivided: the fixed node rules decide.
    return this.rules.some((r) => ruleAllows(r, a)) ? ALLOW : noOpinion();
  }

  private statusUpdate(node: string, vertex: Vertex, a: Attributes): AuthorizationResult {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (a.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.related(node, vertex, a);
  }

  private get(node: string, vertex: Vertex, a: Attributes): AuthorizationResult {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource) return noOpinion('cannot get subresource');
    return this.related(node, vertex, a);
  }

  private readNamespaced(node: string, vertex: Vertex, a: Attributes): AuthorizationResult {
    if (a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch') return noOpinion('can only read resources of this type');
    if (a.subresource) return noOpinion('cannot read subresource');
    if (!a.namespace) return noOpinion('can only read namespaced object of this type');
    // A list or watch passes only when it names one object (a metadata.name field selector).
    return this.related(node, vertex, a);
  }

  private createToken(node: string, a: Attributes): AuthorizationResult {
    if (a.verb !== 'create' || !a.name) return noOpinion('can only create tokens for individual service accounts');
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.related(node, 'serviceaccount', a);
  }

  private lease(node: string, a: Attributes): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    }
    if (a.namespace !== NAMESPACE_NODE_LEASE) return noOpinion(`can only access leases in the "${NAMESPACE_NODE_LEASE}" system namespace`);
    // A create carries no name here; NodeRestriction checks the created lease's name.
    if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access node lease with the same name as the requesting node');
    return ALLOW;
  }

  private csiNode(node: string, a: Attributes): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a CSINode');
    }
    if (a.subresource) return noOpinion('cannot authorize CSINode subresources');
    if (a.verb !== 'create' && a.name !== node) return noOpinion('can only access CSINode with the same name as the requesting node');
    return ALLOW;
  }

  private related(node: string, vertex: Vertex, a: Attributes): AuthorizationResult {
    if (!a.name) return noOpinion('No Object name found');
    return this.hasPath(node, vertex, a.namespace, a.name)
      ? ALLOW
      : noOpinion(`no relationship found between node '${node}' and this object`);
  }

  /** Whether a pod bound to `node` leads to the object (for a PV: through a claim it mounts). */
  private hasPath(node: string, vertex: Vertex, namespace: string, name: string): boolean {
    for (const pod of this.graph.podsOnNode(node)) {
      const podNamespace = pod.metadata?.namespace ?? '';
      if (vertex === 'pv') {
        for (const claim of podClaimNames(pod)) {
          if (this.graph.pvc(podNamespace, claim)?.spec?.volumeName === name) return true;
        }
        continue;
      }
      if (podNamespace !== namespace) continue;
      switch (vertex) {
        case 'pod': if (pod.metadata?.name === name) return true; break;
        case 'secret': if (podSecretNames(pod).has(name)) return true; break;
        case 'configmap': if (podConfigMapNames(pod).has(name)) return true; break;
        case 'pvc': if (podClaimNames(pod).has(name)) return true; break;
        case 'serviceaccount': if (pod.spec?.serviceAccountName === name) return true; break;
      }
    }
    return false;
  }
}
