// What the four rbac.authorization.k8s.io/v1 kinds share: upstream's pkg/apis/rbac/validation
// (rules, roleRef, subjects, path-segment names), the v1 defaults for roleRef and subjects, and
// the binding printer (printRoleBinding / printClusterRoleBinding with rbac.SubjectsStrings).
import type { PolicyRule, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import { goQuote, invalidRaw } from './go-format.js';
import { isValidPathSegmentName } from './net-validation.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import type { TableColumn } from './types.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** ValidateRBACName: roles and bindings only need to be a path segment (so `system:basic-user` is fine). */
export const validateRBACName = (name: string): string[] => isValidPathSegmentName(name);

const goStrings = (values: string[]) => `[]string{${values.map(goQuote).join(', ')}}`;

/** ValidatePolicyRule: namespaced rules (Role) may not name non-resource URLs. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (!rule.verbs?.length) out.push(fieldErrors.required(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length) {
    if (namespaced) out.push(invalidRaw(`${path}.nonResourceURLs`, goStrings(urls), 'namespaced rules cannot apply to non-resource URLs'));
    if (rule.apiGroups?.length || rule.resources?.length || rule.resourceNames?.length) {
      out.push(invalidRaw(`${path}.nonResourceURLs`, goStrings(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return out;
  }
  if (!rule.apiGroups?.length) out.push(fieldErrors.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!rule.resources?.length) out.push(fieldErrors.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return out;
}

export function validateRules(rules: PolicyRule[] | undefined, namespaced: boolean): FieldError[] {
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

/** ValidateRoleBinding / ValidateClusterRoleBinding's roleRef part. */
export function validateRoleRef(ref: RoleRef | undefined, kinds: string[]): FieldError[] {
  const out: FieldError[] = [];
  const apiGroup = ref?.apiGroup ?? '';
  const kind = ref?.kind ?? '';
  const name = ref?.name ?? '';
  if (apiGroup !== RBAC_GROUP) out.push(fieldErrors.notSupported('roleRef.apiGroup', apiGroup, [RBAC_GROUP]));
  if (!kinds.includes(kind)) out.push(fieldErrors.notSupported('roleRef.kind', kind, kinds));
  if (!name) out.push(fieldErrors.required('roleRef.name'));
  else for (const m of validateRBACName(name)) out.push(fieldErrors.invalid('roleRef.name', name, m));
  return out;
}

/** ValidateRoleBindingSubject: a ClusterRoleBinding's ServiceAccount subjects must name their namespace. */
export function validateSubject(s: Subject, namespaced: boolean, path: string): FieldError[] {
  const out: FieldError[] = [];
  const name = s.name ?? '';
  const apiGroup = s.apiGroup ?? '';
  if (!name) out.push(fieldErrors.required(`${path}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) for (const m of isDNS1123Subdomain(name)) out.push(fieldErrors.invalid(`${path}.name`, name, m));
      if (apiGroup) out.push(fieldErrors.notSupported(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !s.namespace) out.push(fieldErrors.required(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) out.push(fieldErrors.notSupported(`${path}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      out.push(fieldErrors.notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return out;
}

export function validateSubjects(subjects: Subject[] | undefined, namespaced: boolean): FieldError[] {
  return (subjects ?? []).flatMap((s, i) => validateSubject(s, namespaced, `subjects[${i}]`));
}

/** %#v of the internal rbac.RoleRef, which upstream puts in the "cannot change roleRef" error. */
function goRoleRef(ref: RoleRef | undefined): string {
  return `rbac.RoleRef{APIGroup:${goQuote(ref?.apiGroup ?? '')}, Kind:${goQuote(ref?.kind ?? '')}, Name:${goQuote(ref?.name ?? '')}}`;
}

/** ValidateRoleBindingUpdate's immutability rule. */
export function validateRoleRefUpdate(ref: RoleRef | undefined, old: RoleRef | undefined): FieldError[] {
  const same = (ref?.apiGroup ?? '') === (old?.apiGroup ?? '') && (ref?.kind ?? '') === (old?.kind ?? '') && (ref?.name ?? '') === (old?.name ?? '');
  return same ? [] : [invalidRaw('roleRef', goRoleRef(ref), 'cannot change roleRef')];
}

/** SetDefaults_RoleBinding/ClusterRoleBinding and SetDefaults_Subject (rbac/v1). */
export function defaultBinding(obj: { roleRef?: RoleRef; subjects?: Subject[] }): void {
  if (obj.roleRef && !obj.roleRef.apiGroup) (obj.roleRef as { apiGroup: string }).apiGroup = RBAC_GROUP;
  for (const s of obj.subjects ?? []) {
    if (s.apiGroup) continue;
    // a ServiceAccount's group stays "" (the core group), so only users and groups change
    if (s.kind === 'User' || s.kind === 'Group') (s as { apiGroup?: string }).apiGroup = RBAC_GROUP;
  }
}

/** rbac.SubjectsStrings: users, groups and service accounts (`namespace/name`) for display. */
export function subjectsStrings(subjects: Subject[] | undefined): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const users: string[] = [], groups: string[] = [], serviceAccounts: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return { users, groups, serviceAccounts };
}

/** printRoleBinding's columns; `what` is "roleBinding" or "clusterRoleBinding", as upstream's descriptions say. */
export function bindingColumns(what: 'roleBinding' | 'clusterRoleBinding'): TableColumn[] {
  // upstream takes these from the rbac/v1beta1 swagger docs of roleRef
  const roleRef = what === 'roleBinding'
    ? 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'
    : 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.';
  return [
    NAME_COLUMN,
    { name: 'Role', type: 'string', description: roleRef },
    AGE_COLUMN,
    { name: 'Users', type: 'string', priority: 1, description: `Users in the ${what}` },
    { name: 'Groups', type: 'string', priority: 1, description: `Groups in the ${what}` },
    { name: 'ServiceAccounts', type: 'string', priority: 1, description: `ServiceAccounts in the ${what}` },
  ];
}

/** printRoleBinding's cells (the server always renders the wide ones; kubectl hides priority 1). */
export function bindingRow(obj: { metadata?: { name?: string; creationTimestamp?: string }; roleRef?: RoleRef; subjects?: Subject[] }): unknown[] {
  const { users, groups, serviceAccounts } = subjectsStrings(obj.subjects);
  return [
    obj.metadata?.name ?? '',
    `${obj.roleRef?.kind ?? ''}/${obj.roleRef?.name ?? ''}`,
    age(obj.metadata?.creationTimestamp),
    users.join(', '),
    groups.join(', '),
    serviceAccounts.join(', '),
  ];
}

/** The default table convertor's columns, which roles get upstream (no printer of their own). */
export const CREATED_AT_COLUMN: TableColumn = {
  name: 'Created At', type: 'date',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happen-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

/** DefaultTableConvertor's cell: creationTimestamp in RFC 3339, UTC, seconds precision. */
export function createdAt(ts: string | undefined): string {
  if (!ts) return '';
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? ts : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
