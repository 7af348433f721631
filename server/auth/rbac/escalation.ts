// Escalation prevention following upstream Kubernetes
// (pkg/registry/rbac/validation and the rbac role/binding storage wrappers):
// a user may only grant permissions it already holds, unless it has the
// `escalate` verb on the role, or (for bindings) the `bind` verb on the role.
import type { PolicyRule, RoleRef } from 'kubernetes-types/rbac/v1.js';
import type { RBACAuthorizer, UserInfo } from './authorizer.js';
import { compactString } from './rules.js';

export const SYSTEM_PRIVILEGED_GROUP = 'system:masters';

export interface GrantResult { allowed: boolean; message: string; missing: PolicyRule[] }

/** Split a rule into single-verb/single-resource(/single-name or URL) rules (upstream BreakdownRule). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames && rule.resourceNames.length) {
          for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], resourceNames: [name], verbs: [verb] });
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

function has(list: string[] | undefined, v: string): boolean {
  return (list ?? []).includes(v);
}

function resourceCovers(owner: string[] | undefined, servant: string): boolean {
  if (has(owner, '*') || has(owner, servant)) return true;
  const slash = servant.indexOf('/');
  if (slash >= 0 && has(owner, `*${servant.slice(slash)}`)) return true;
  return false;
}

function urlCovers(owner: string[] | undefined, servant: string): boolean {
  for (const u of owner ?? []) {
    if (u === '*' || u === servant) return true;
    if (u.endsWith('*') && servant.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** Whether ownerRule covers an atomic (broken-down) servant rule (upstream ruleCovers). */
export function ruleCovers(owner: PolicyRule, servant: PolicyRule): boolean {
  const verbs = servant.verbs.every((v) => has(owner.verbs, '*') || has(owner.verbs, v));
  if (!verbs) return false;
  if (servant.nonResourceURLs && servant.nonResourceURLs.length) {
    return servant.nonResourceURLs.every((u) => urlCovers(owner.nonResourceURLs, u));
  }
  const groups = (servant.apiGroups ?? []).every((g) => has(owner.apiGroups, '*') || has(owner.apiGroups, g));
  const resources = (servant.resources ?? []).every((r) => resourceCovers(owner.resources, r));
  const ownerNames = owner.resourceNames ?? [];
  const names = ownerNames.length === 0 ||
    ((servant.resourceNames ?? []).length > 0 && (servant.resourceNames ?? []).every((n) => ownerNames.includes(n)));
  return groups && resources && names;
}

/** Upstream Covers: returns whether every servant permission is held, plus the uncovered atoms. */
export function covers(ownerRules: PolicyRule[], servantRules: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const s of servantRules) {
    for (const atom of breakdownRule(s)) {
      if (!ownerRules.some((o) => ruleCovers(o, atom))) missing.push(atom);
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * Merge atomic rules that differ only by verb (upstream CompactRules for
 * simple resource rules), then sort by their string form.
 */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = (r.apiGroups ?? []).length === 1 && (r.resources ?? []).length === 1 &&
      !(r.resourceNames ?? []).length && !(r.nonResourceURLs ?? []).length;
    if (!isSimple) { out.push({ ...r, verbs: [...r.verbs] }); continue; }
    const key = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const existing = simple.get(key);
    if (existing) {
      for (const v of r.verbs) if (!existing.verbs.includes(v)) existing.verbs.push(v);
    } else {
      const copy: PolicyRule = { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...r.verbs] };
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out.sort((a, b) => (compactString(a) < compactString(b) ? -1 : compactString(a) > compactString(b) ? 1 : 0));
}

function goQuotedList(list: string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Upstream Forbidden detail text for an escalation attempt. */
export function escalationMessage(user: UserInfo, missing: PolicyRule[], ruleResolutionErrors: string[] = []): string {
  const lines = compactRules(missing).map(compactString);
  let msg = `user ${JSON.stringify(user.name)} (groups=${goQuotedList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (ruleResolutionErrors.length) {
    msg += `; resolution errors: [${ruleResolutionErrors.join(' ')}]`;
  }
  return msg;
}

/** Upstream EscalationAllowed: members of system:masters may always escalate. */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_PRIVILEGED_GROUP);
}

/**
 * Upstream ConfirmNoEscalation: the user must already hold every rule
 * (in `namespace`, or cluster-wide when namespace is "").
 */
export function canGrant(user: UserInfo, rules: PolicyRule[], namespace: string, authorizer: RBACAuthorizer): GrantResult {
  const owner = authorizer.rulesForUser(user, namespace);
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return { allowed: true, message: '', missing: [] };
  return { allowed: false, message: escalationMessage(user, missing, owner.errors), missing };
}

/**
 * Create/update of a Role (namespace set) or ClusterRole (namespace "").
 * Allowed if system:masters, if `escalate` is permitted on the role, or if the
 * user holds every rule.
 */
export function checkRoleEscalation(
  user: UserInfo, kind: 'Role' | 'ClusterRole', name: string, namespace: string, rules: PolicyRule[], authorizer: RBACAuthorizer,
): GrantResult {
  if (escalationAllowed(user)) return { allowed: true, message: '', missing: [] };
  const res = authorizer.authorize({
    user, verb: 'escalate', namespace: kind === 'Role' ? namespace : '', apiGroup: 'rbac.authorization.k8s.io',
    resource: kind === 'Role' ? 'roles' : 'clusterroles', subresource: '', name, resourceRequest: true, path: '',
  });
  if (res.decision === 'allow') return { allowed: true, message: '', missing: [] };
  return canGrant(user, rules, kind === 'Role' ? namespace : '', authorizer);
}

/**
 * Create/update of a RoleBinding (namespace set) or ClusterRoleBinding
 * (namespace ""). Allowed if system:masters, if `bind` is permitted on the
 * referenced role (matched by resourceNames), or if the user holds every rule
 * of the referenced role. A missing role yields a not-allowed result.
 */
export function checkBindingEscalation(user: UserInfo, roleRef: RoleRef, namespace: string, authorizer: RBACAuthorizer): GrantResult {
  if (escalationAllowed(user)) return { allowed: true, message: '', missing: [] };
  const res = authorizer.authorize({
    user, verb: 'bind', namespace, apiGroup: 'rbac.authorization.k8s.io',
    resource: roleRef.kind === 'Role' ? 'roles' : 'clusterroles', subresource: '', name: roleRef.name, resourceRequest: true, path: '',
  });
  if (res.decision === 'allow') return { allowed: true, message: '', missing: [] };
  let rules: PolicyRule[];
  try {
    rules = authorizer.getRoleReferenceRules(roleRef, namespace);
  } catch (e) {
    return { allowed: false, message: (e as Error).message, missing: [] };
  }
  return canGrant(user, rules, namespace, authorizer);
}

/**
 * Full API Forbidden message as the registry returns it, e.g.
 * `clusterroles.rbac.authorization.k8s.io "x" is forbidden: user "alice" ...`.
 */
export function forbiddenMessage(resource: 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings', name: string, detail: string): string {
  return `${resource}.rbac.authorization.k8s.io ${JSON.stringify(name)} is forbidden: ${detail}`;
}
