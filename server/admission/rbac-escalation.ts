// RBAC escalation prevention (upstream's rbac policybased storage wrappers, run here as a
// validating admission step): writing a Role/ClusterRole needs the permissions it grants or
// `escalate`; writing a binding needs the referenced role's permissions or `bind` on it.
import type { ClusterRole, PolicyRule, Role, RoleBinding, RoleRef } from 'kubernetes-types/rbac/v1.js';
import { isDeepStrictEqual } from 'node:util';
import { forbidden, StatusError } from '../../apimachinery/errors.js';
import type { RBACAuthorizer, UserInfo } from '../auth/rbac/authorizer.js';
import { canGrant, checkBindingEscalation, escalationAllowed } from '../auth/rbac/escalation.js';
import type { KubeObject } from '../registry/types.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
type Resource = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
const RESOURCES = new Set<string>(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

/** Setting an aggregationRule can gather anything, so upstream demands `*` on everything. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/**
 * upstream IsOnlyMutatingGCFields: an update touching only ownerReferences and finalizers (what
 * the garbage collector writes) is never an escalation. Bookkeeping fields are ignored too.
 */
export function isOnlyMutatingGCFields(obj: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, managedFields: _m, resourceVersion: _r, ...meta } = o.metadata ?? {};
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(obj), strip(old));
}

function hasAggregationRule(role: ClusterRole | undefined): boolean {
  return !!role?.aggregationRule?.clusterRoleSelectors?.length;
}

function deny(resource: Resource, name: string, message: string): StatusError {
  return forbidden({ group: RBAC_GROUP, resource }, name, message);
}

function checkRole(authorizer: RBACAuthorizer, user: UserInfo, req: AdmissionRequest, resource: 'roles' | 'clusterroles'): void {
  const name = req.object?.metadata?.name ?? req.name;
  const rules = (req.object as Role | ClusterRole).rules ?? [];
  const kind = resource === 'roles' ? 'Role' : 'ClusterRole';
  // system:masters and holders of `escalate` skip both the rules and the aggregationRule checks
  if (escalationAllowed(user)) return;
  const escalate = authorizer.authorize({
    user, verb: 'escalate', namespace: kind === 'Role' ? req.namespace : '', apiGroup: RBAC_GROUP,
    resource, subresource: '', name, resourceRequest: true, path: '',
  });
  if (escalate.decision === 'allow') return;
  const res = canGrant(user, rules, kind === 'Role' ? req.namespace : '', authorizer);
  if (!res.allowed) throw deny(resource, name, res.message);
  if (resource === 'clusterroles' && (hasAggregationRule(req.object as ClusterRole) || hasAggregationRule(req.oldObject as ClusterRole | undefined))) {
    if (!canGrant(user, FULL_AUTHORITY, '', authorizer).allowed) {
      throw deny(resource, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
  }
}

function checkBinding(authorizer: RBACAuthorizer, user: UserInfo, req: AdmissionRequest, resource: 'rolebindings' | 'clusterrolebindings'): void {
  const name = req.object?.metadata?.name ?? req.name;
  const roleRef = (req.object as Partial<RoleBinding>).roleRef as RoleRef | undefined;
  if (!roleRef) return; // validation has already required it
  const namespace = resource === 'rolebindings' ? req.namespace : '';
  const res = checkBindingEscalation(user, roleRef, namespace, authorizer);
  if (res.allowed) return;
  // upstream returns the role lookup's own error (a NotFound) when the referenced role is missing
  if (res.missing.length === 0) {
    const kind = roleRef.kind === 'Role' ? 'role' : 'clusterrole';
    throw new StatusError(404, 'NotFound', res.message, { name: roleRef.name, group: RBAC_GROUP, kind });
  }
  throw deny(resource, name, res.message);
}

export function rbacEscalation(authorizer: RBACAuthorizer): AdmissionPlugin {
  return {
    name: 'RBACEscalation',
    validate(req) {
      if (req.def.group !== RBAC_GROUP || !RESOURCES.has(req.def.plural) || req.subresource) return;
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      // no user: the API server's own writes (bootstrap policy), trusted as upstream's loopback system:masters
      const user = req.user;
      if (!user || !req.object) return;
      if (req.operation === 'UPDATE' && req.oldObject && isOnlyMutatingGCFields(req.object, req.oldObject)) return;
      const resource = req.def.plural as Resource;
      if (resource === 'roles' || resource === 'clusterroles') checkRole(authorizer, user, req, resource);
      else checkBinding(authorizer, user, req, resource);
    },
  };
}
