import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { RBACAuthorizer, staticSource, type UserInfo } from '../../server/auth/rbac/authorizer.js';
import { aggregateAll, aggregateRules } from '../../server/auth/rbac/aggregation.js';
import { canGrant, checkBindingEscalation, checkRoleEscalation, covers } from '../../server/auth/rbac/escalation.js';

const G = 'rbac.authorization.k8s.io';

describe('ClusterRole aggregation', () => {
  const a: ClusterRole = { metadata: { name: 'a', labels: { agg: 'yes' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
  const b: ClusterRole = { metadata: { name: 'b', labels: { agg: 'yes', tier: 'x' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }] };
  const c: ClusterRole = { metadata: { name: 'c', labels: { other: 'true' } }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] };
  const top: ClusterRole = { metadata: { name: 'top', labels: { agg: 'yes' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'yes' } }, { matchExpressions: [{ key: 'other', operator: 'Exists' }] }] }, rules: [{ apiGroups: ['x'], resources: ['stale'], verbs: ['get'] }] };

  it('unions (deduplicated) rules of matching roles, excluding itself and prior rules', () => {
    expect(aggregateRules(top, [c, b, a, top])).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    ]);
    expect(aggregateRules(a, [a, b])).toBeNull();
  });

  it('aggregateAll resolves chained aggregation', () => {
    const admin: ClusterRole = { metadata: { name: 'admin' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'to-admin': 'true' } }] } };
    const edit: ClusterRole = { metadata: { name: 'edit', labels: { 'to-admin': 'true' } }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'to-edit': 'true' } }] } };
    const e1: ClusterRole = { metadata: { name: 'e1', labels: { 'to-edit': 'true' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }] };
    const out = aggregateAll([admin, edit, e1]);
    expect(out.find((r) => r.metadata?.name === 'admin')?.rules).toEqual(e1.rules);
    expect(admin.rules).toBeUndefined();
  });
});

describe('escalation prevention', () => {
  const podsGet: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
  const roles: Role[] = [{ metadata: { name: 'r', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['*/log', 'pods/*'], verbs: ['get'] }] }];
  const clusterRoles: ClusterRole[] = [
    { metadata: { name: 'big' }, rules: [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'delete'] }] },
    { metadata: { name: 'escalator' }, rules: [{ apiGroups: [G], resources: ['clusterroles'], verbs: ['escalate'] }] },
    { metadata: { name: 'binder' }, rules: [{ apiGroups: [G], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['big'] }] },
    { metadata: { name: 'ns-escalator' }, rules: [{ apiGroups: [G], resources: ['roles'], verbs: ['escalate'] }] },
  ];
  const rb = (name: string, kind: 'Role' | 'ClusterRole', role: string, user: string): RoleBinding =>
    ({ metadata: { name, namespace: 'ns1' }, roleRef: { apiGroup: G, kind, name: role }, subjects: [{ kind: 'User', name: user }] });
  const crb = (name: string, role: string, user: string): ClusterRoleBinding =>
    ({ metadata: { name }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: user }] });
  const authz = new RBACAuthorizer(staticSource({
    roles, clusterRoles,
    roleBindings: [rb('alice', 'Role', 'r', 'alice'), rb('dave', 'ClusterRole', 'ns-escalator', 'dave')],
    clusterRoleBindings: [crb('carol-esc', 'escalator', 'carol'), crb('erin-bind', 'binder', 'erin')],
  }));
  const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };

  it('covers handles wildcards, subresources and resourceNames', () => {
    expect(covers([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], [{ apiGroups: ['x'], resources: ['y/z'], verbs: ['q'], resourceNames: ['n'] }]).covered).toBe(true);
    expect(covers([{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }], [{ apiGroups: [''], resources: ['pods/status'], verbs: ['get'] }]).covered).toBe(true);
    expect(covers([{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]).covered).toBe(false);
    expect(covers([{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a', 'b'] }], [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], resourceNames: ['a'] }]).covered).toBe(true);
    expect(covers([{ nonResourceURLs: ['/api/*'], verbs: ['get'] }], [{ nonResourceURLs: ['/api/v1'], verbs: ['get'] }]).covered).toBe(true);
    expect(covers([{ nonResourceURLs: ['/api/*'], verbs: ['get'] }], [{ nonResourceURLs: ['/apis'], verbs: ['get'] }]).covered).toBe(false);
  });

  it('allows granting what the user holds', () => {
    expect(canGrant(alice, [podsGet, { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }], 'ns1', authz).allowed).toBe(true);
    expect(checkRoleEscalation(alice, 'Role', 'new', 'ns1', [podsGet], authz).allowed).toBe(true);
    // "pods/*" is not a wildcard upstream (only "*" and "*/sub" are)
    expect(canGrant(alice, [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }], 'ns1', authz).allowed).toBe(false);
    expect(checkBindingEscalation(alice, { apiGroup: G, kind: 'Role', name: 'r' }, 'ns1', authz).allowed).toBe(true);
  });

  it('forbids granting more, with the upstream message', () => {
    const res = canGrant(alice, [{ apiGroups: ['', 'apps'], resources: ['pods', 'deployments'], verbs: ['get', 'delete'] }], 'ns1', authz);
    expect(res.allowed).toBe(false);
    expect(res.message).toBe('user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["deployments"], Verbs:["get" "delete"]}\n' +
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n' +
      '{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "delete"]}\n' +
      '{APIGroups:["apps"], Resources:["pods"], Verbs:["get" "delete"]}');
    // holding in ns1 does not help in ns2
    expect(canGrant(alice, [podsGet], 'ns2', authz).message).toBe(
      'user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get"]}');
    expect(checkRoleEscalation(alice, 'ClusterRole', 'x', '', [podsGet], authz).allowed).toBe(false);
    const bind = checkBindingEscalation(alice, { apiGroup: G, kind: 'ClusterRole', name: 'big' }, 'ns1', authz);
    expect(bind.allowed).toBe(false);
    expect(bind.message).toContain('{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "delete"]}');
    expect(checkBindingEscalation(alice, { apiGroup: G, kind: 'ClusterRole', name: 'nope' }, 'ns1', authz).message)
      .toBe('clusterrole.rbac.authorization.k8s.io "nope" not found');
  });

  it('allows with escalate or bind, and for system:masters', () => {
    const carol: UserInfo = { name: 'carol', groups: [] };
    expect(checkRoleEscalation(carol, 'ClusterRole', 'x', '', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], authz).allowed).toBe(true);
    const dave: UserInfo = { name: 'dave', groups: [] };
    expect(checkRoleEscalation(dave, 'Role', 'x', 'ns1', [podsGet], authz).allowed).toBe(true);
    expect(checkRoleEscalation(dave, 'Role', 'x', 'ns2', [podsGet], authz).allowed).toBe(false);
    const erin: UserInfo = { name: 'erin', groups: [] };
    expect(checkBindingEscalation(erin, { apiGroup: G, kind: 'ClusterRole', name: 'big' }, 'ns1', authz).allowed).toBe(true);
    expect(checkBindingEscalation(erin, { apiGroup: G, kind: 'ClusterRole', name: 'big' }, '', authz).allowed).toBe(true);
    expect(checkBindingEscalation(erin, { apiGroup: G, kind: 'ClusterRole', name: 'escalator' }, '', authz).allowed).toBe(false);
    const root: UserInfo = { name: 'root', groups: ['system:masters'] };
    expect(checkRoleEscalation(root, 'ClusterRole', 'x', '', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], authz).allowed).toBe(true);
  });
});
