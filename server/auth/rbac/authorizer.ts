// RBAC authorizer following upstream Kubernetes semantics
// (plugin/pkg/auth/authorizer/rbac): ClusterRoleBindings grant everywhere,
// RoleBindings grant within their namespace and may reference a ClusterRole.
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { ruleAllows } from './rules.js';

import type { Attributes, AuthorizationResult, Authorizer, SubjectRules, UserInfo } from '../types.js';
export type { Attributes, AuthorizationResult, Decision, UserInfo } from '../types.js';

/** Getter functions over the current objects (e.g. backed by watch caches). */
export interface RbacSource {
  getRoles(): Role[];
  getClusterRoles(): ClusterRole[];
  getRoleBindings(): RoleBinding[];
  getClusterRoleBindings(): ClusterRoleBinding[];
  /*
   * Optional indexed lookups: authorization runs on every request, so a source that can
   * answer these without scanning (CachedRbacSource) should. Without them the authorizer
   * scans the arrays above.
   */
  getRole?(namespace: string, name: string): Role | undefined;
  getClusterRole?(name: string): ClusterRole | undefined;
  /** ClusterRoleBindings that may name the user (a superset is fine), in list order. */
  clusterRoleBindingsFor?(user: UserInfo): ClusterRoleBinding[];
  /** RoleBindings of the namespace that may name the user (a superset is fine), in list order. */
  roleBindingsFor?(user: UserInfo, namespace: string): RoleBinding[];
}


export type { SubjectRules } from '../types.js';
type ResourceRule = SubjectRules['resourceRules'][number];

const SA_PREFIX = 'system:serviceaccount:';

/** Whether a binding subject applies to the user (upstream appliesToUser). */
export function subjectMatches(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      // an empty namespace on a ServiceAccount subject of a RoleBinding defaults to the binding's namespace
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.name === `${SA_PREFIX}${ns}:${subject.name}`;
    }
    default:
      return false;
  }
}

/** Upstream describeSubject: `User "alice"`, `ServiceAccount "name/ns"`. */
export function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') {
    const ns = subject.namespace || bindingNamespace;
    return `${subject.kind} "${subject.name}/${ns}"`;
  }
  return `${subject.kind} "${subject.name}"`;
}

interface VisitedRules {
  /** e.g. `ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`; a function, as it is only needed once a rule allows. */
  source: () => string;
  rules: PolicyRule[];
}

export class RBACAuthorizer implements Authorizer {
  constructor(private readonly source: RbacSource) {}

  /** Resolve a RoleRef to rules; throws a descriptive message when missing. */
  getRoleReferenceRules(roleRef: RoleRef, bindingNamespace: string): PolicyRule[] {
    if (roleRef.apiGroup && roleRef.apiGroup !== 'rbac.authorization.k8s.io') {
      throw new Error(`unsupported role reference kind: "${roleRef.kind}"`);
    }
    const src = this.source;
    if (roleRef.kind === 'Role') {
      const role = src.getRole
        ? src.getRole(bindingNamespace, roleRef.name)
        : src.getRoles().find((r) => r.metadata?.name === roleRef.name && r.metadata?.namespace === bindingNamespace);
      if (!role) throw new Error(`role.rbac.authorization.k8s.io "${roleRef.name}" not found`);
      return role.rules ?? [];
    }
    if (roleRef.kind === 'ClusterRole') {
      const role = src.getClusterRole ? src.getClusterRole(roleRef.name) : src.getClusterRoles().find((r) => r.metadata?.name === roleRef.name);
      if (!role) throw new Error(`clusterrole.rbac.authorization.k8s.io "${roleRef.name}" not found`);
      return role.rules ?? [];
    }
    throw new Error(`unsupported role reference kind: "${roleRef.kind}"`);
  }

  /**
   * Visit rules applying to the user in the namespace (cluster-wide bindings
   * first, then RoleBindings of the namespace). Visitor returns false to stop.
   */
  visitRulesFor(user: UserInfo, namespace: string, visitor: (v: VisitedRules | null, err?: string) => boolean): void {
    const crbs = this.source.clusterRoleBindingsFor?.(user) ?? this.source.getClusterRoleBindings();
    for (const crb of crbs) {
      const subject = (crb.subjects ?? []).find((s) => subjectMatches(user, s, ''));
      if (!subject) continue;
      let rules: PolicyRule[];
      try {
        rules = this.getRoleReferenceRules(crb.roleRef, '');
      } catch (e) {
        if (!visitor(null, (e as Error).message)) return;
        continue;
      }
      const src = () => `ClusterRoleBinding "${crb.metadata?.name ?? ''}" of ${crb.roleRef.kind} "${crb.roleRef.name}" to ${describeSubject(subject, '')}`;
      if (!visitor({ source: src, rules })) return;
    }
    if (!namespace) return;
    const rbs = this.source.roleBindingsFor?.(user, namespace) ?? this.source.getRoleBindings();
    for (const rb of rbs) {
      if (rb.metadata?.namespace !== namespace) continue;
      const subject = (rb.subjects ?? []).find((s) => subjectMatches(user, s, namespace));
      if (!subject) continue;
      let rules: PolicyRule[];
      try {
        rules = this.getRoleReferenceRules(rb.roleRef, namespace);
      } catch (e) {
        if (!visitor(null, (e as Error).message)) return;
        continue;
      }
      const src = () => `RoleBinding "${rb.metadata?.name ?? ''}/${namespace}" of ${rb.roleRef.kind} "${rb.roleRef.name}" to ${describeSubject(subject, namespace)}`;
      if (!visitor({ source: src, rules })) return;
    }
  }

  authorize(a: Attributes): AuthorizationResult {
    let allowedBy = '';
    const errors: string[] = [];
    this.visitRulesFor(a.user, a.namespace, (v, err) => {
      if (err) { errors.push(err); return true; }
      if (v && v.rules.some((r) => ruleAllows(r, a))) { allowedBy = v.source(); return false; }
      return true;
    });
    if (allowedBy) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
    // upstream RBAC never denies outright; it has no opinion so later authorizers may decide
    // reason mirrors Go's utilerrors.Aggregate formatting: single error bare, several as [a, b]
    const agg = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
    return { decision: 'no-opinion', reason: errors.length ? `RBAC: ${agg}` : '' };
  }

  /** All PolicyRules the user holds in the namespace ("" = cluster scope only). */
  rulesForUser(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (v, err) => {
      if (err) errors.push(err);
      if (v) rules.push(...v.rules);
      return true;
    });
    return { rules, errors };
  }

  /** For SelfSubjectRulesReview. */
  rulesFor(user: UserInfo, namespace: string): SubjectRules {
    const { rules, errors } = this.rulesForUser(user, namespace);
    const out: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: errors.length > 0 };
    if (errors.length) out.evaluationError = errors.join(', ');
    for (const r of rules) {
      if (r.resources && r.resources.length) {
        const rr: ResourceRule = { verbs: [...r.verbs], apiGroups: [...(r.apiGroups ?? [])], resources: [...r.resources] };
        if (r.resourceNames && r.resourceNames.length) rr.resourceNames = [...r.resourceNames];
        out.resourceRules.push(rr);
      }
      if (r.nonResourceURLs && r.nonResourceURLs.length) {
        out.nonResourceRules.push({ verbs: [...r.verbs], nonResourceURLs: [...r.nonResourceURLs] });
      }
    }
    return out;
  }
}

/** Convenience source over plain arrays (tests, bootstrap). */
export function staticSource(objs: { roles?: Role[]; clusterRoles?: ClusterRole[]; roleBindings?: RoleBinding[]; clusterRoleBindings?: ClusterRoleBinding[] }): RbacSource {
  return {
    getRoles: () => objs.roles ?? [],
    getClusterRoles: () => objs.clusterRoles ?? [],
    getRoleBindings: () => objs.roleBindings ?? [],
    getClusterRoleBindings: () => objs.clusterRoleBindings ?? [],
  };
}
