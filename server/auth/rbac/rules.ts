// Policy-rule matching helpers shared by the authorizer and escalation checks.
// Semantics follow upstream Kubernetes RBAC (rbac/v1 PolicyRule).
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';

export const VERB_ALL = '*';
export const API_GROUP_ALL = '*';
export const RESOURCE_ALL = '*';
export const NON_RESOURCE_ALL = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === VERB_ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === API_GROUP_ALL || g === group);
}

/** resource is "pods" or "pods/log"; rules may use "*", "pods/log", "*\/log". */
export function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === RESOURCE_ALL || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === NON_RESOURCE_ALL || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

export interface RuleRequest {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  name: string;
  resourceRequest: boolean;
  path: string;
}

export function ruleAllows(rule: PolicyRule, req: RuleRequest): boolean {
  if (req.resourceRequest) {
    // upstream: a create with no name is not allowed by a rule restricted to resourceNames
    return verbMatches(rule, req.verb) && apiGroupMatches(rule, req.apiGroup) &&
      resourceMatches(rule, req.resource, req.subresource) && resourceNameMatches(rule, req.name);
  }
  return verbMatches(rule, req.verb) && nonResourceURLMatches(rule, req.path);
}

/** Go %q rendering of a []string: ["a" "b"] */
function q(list: string[] | undefined): string {
  return `[${(list ?? []).map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** Upstream's rbacv1helpers CompactString format. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if (rule.apiGroups && rule.apiGroups.length) parts.push(`APIGroups:${q(rule.apiGroups)}`);
  if (rule.resources && rule.resources.length) parts.push(`Resources:${q(rule.resources)}`);
  if (rule.nonResourceURLs && rule.nonResourceURLs.length) parts.push(`NonResourceURLs:${q(rule.nonResourceURLs)}`);
  if (rule.resourceNames && rule.resourceNames.length) parts.push(`ResourceNames:${q(rule.resourceNames)}`);
  if (rule.verbs && rule.verbs.length) parts.push(`Verbs:${q(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

export function rulesEqual(a: PolicyRule, b: PolicyRule): boolean {
  const eq = (x?: string[], y?: string[]) => {
    const xs = x ?? [], ys = y ?? [];
    return xs.length === ys.length && xs.every((v, i) => v === ys[i]);
  };
  return eq(a.verbs, b.verbs) && eq(a.apiGroups, b.apiGroups) && eq(a.resources, b.resources) &&
    eq(a.resourceNames, b.resourceNames) && eq(a.nonResourceURLs, b.nonResourceURLs);
}
