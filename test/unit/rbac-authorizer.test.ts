import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { RBACAuthorizer, staticSource, type Attributes, type UserInfo } from '../../server/auth/rbac/authorizer.js';

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const bob: UserInfo = { name: 'bob', groups: ['devs', 'system:authenticated'] };
const sa: UserInfo = { name: 'system:serviceaccount:ns1:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] };

function req(user: UserInfo, verb: string, resource: string, extra: Partial<Attributes> = {}): Attributes {
  return { user, verb, namespace: 'ns1', apiGroup: '', resource, subresource: '', name: '', resourceRequest: true, path: '', ...extra };
}
function nonRes(user: UserInfo, verb: string, path: string): Attributes {
  return { user, verb, namespace: '', apiGroup: '', resource: '', subresource: '', name: '', resourceRequest: false, path };
}

const roles: Role[] = [
  { metadata: { name: 'pod-reader', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  { metadata: { name: 'logs', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }] },
  { metadata: { name: 'named', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'], verbs: ['get', 'update', 'create'] }] },
];
const clusterRoles: ClusterRole[] = [
  { metadata: { name: 'deploy-admin' }, rules: [{ apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['*'] }] },
  { metadata: { name: 'status-reader' }, rules: [{ apiGroups: ['*'], resources: ['*/status'], verbs: ['get'] }] },
  { metadata: { name: 'health' }, rules: [{ nonResourceURLs: ['/healthz', '/metrics/*'], verbs: ['get'] }] },
  { metadata: { name: 'secrets-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
];
const roleBindings: RoleBinding[] = [
  { metadata: { name: 'alice-pods', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
  { metadata: { name: 'devs-deploy', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'deploy-admin' }, subjects: [{ kind: 'Group', name: 'devs' }] },
  { metadata: { name: 'sa-logs', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'logs' }, subjects: [{ kind: 'ServiceAccount', name: 'builder' }] },
  { metadata: { name: 'named', namespace: 'ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'named' }, subjects: [{ kind: 'User', name: 'alice' }] },
  { metadata: { name: 'all-sas', namespace: 'ns2' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secrets-reader' }, subjects: [{ kind: 'Group', name: 'system:serviceaccounts:ns1' }] },
  { metadata: { name: 'dangling', namespace: 'ns3' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'missing' }, subjects: [{ kind: 'User', name: 'alice' }] },
];
const clusterRoleBindings: ClusterRoleBinding[] = [
  { metadata: { name: 'bob-status' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'status-reader' }, subjects: [{ kind: 'User', name: 'bob' }] },
  { metadata: { name: 'health' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'health' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }] },
  { metadata: { name: 'sa-ns1' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'deploy-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace: 'ns9' }] },
];

const authz = new RBACAuthorizer(staticSource({ roles, clusterRoles, roleBindings, clusterRoleBindings }));
const allowed = (a: Attributes) => authz.authorize(a).decision === 'allow';

describe('RBACAuthorizer', () => {
  it('allows via Role in its namespace only', () => {
    expect(allowed(req(alice, 'get', 'pods'))).toBe(true);
    expect(allowed(req(alice, 'list', 'pods'))).toBe(true);
    expect(allowed(req(alice, 'delete', 'pods'))).toBe(false);
    expect(allowed(req(alice, 'get', 'pods', { namespace: 'ns2' }))).toBe(false);
    expect(allowed(req(alice, 'get', 'pods', { namespace: '' }))).toBe(false);
    expect(allowed(req(bob, 'get', 'pods'))).toBe(false);
  });

  it('gives reasons in upstream format and no-opinion otherwise', () => {
    expect(authz.authorize(req(alice, 'get', 'pods'))).toEqual({
      decision: 'allow', reason: 'RBAC: allowed by RoleBinding "alice-pods/ns1" of Role "pod-reader" to User "alice"',
    });
    expect(authz.authorize(nonRes(alice, 'get', '/healthz')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "health" of ClusterRole "health" to Group "system:authenticated"');
    expect(authz.authorize(req(alice, 'delete', 'pods')).decision).toBe('no-opinion');
    const dangling = authz.authorize(req(alice, 'get', 'pods', { namespace: 'ns3' }));
    expect(dangling.decision).toBe('no-opinion');
    expect(dangling.reason).toContain('role.rbac.authorization.k8s.io "missing" not found');
  });

  it('RoleBinding to a ClusterRole grants only within the binding namespace', () => {
    expect(allowed(req(bob, 'delete', 'deployments', { apiGroup: 'apps' }))).toBe(true);
    expect(allowed(req(bob, 'update', 'deployments', { apiGroup: 'apps', subresource: 'scale' }))).toBe(true);
    expect(allowed(req(bob, 'get', 'deployments', { apiGroup: 'apps', namespace: 'ns2' }))).toBe(false);
    expect(allowed(req(bob, 'get', 'deployments', { apiGroup: 'extensions' }))).toBe(false);
    expect(authz.authorize(req(bob, 'get', 'deployments', { apiGroup: 'apps' })).reason).toBe(
      'RBAC: allowed by RoleBinding "devs-deploy/ns1" of ClusterRole "deploy-admin" to Group "devs"');
  });

  it('ClusterRoleBinding grants in every namespace and cluster scope', () => {
    for (const ns of ['ns1', 'other', '']) {
      expect(allowed(req(bob, 'get', 'pods', { namespace: ns, subresource: 'status' }))).toBe(true);
      expect(allowed(req(bob, 'get', 'deployments', { namespace: ns, apiGroup: 'apps', subresource: 'status' }))).toBe(true);
    }
    expect(allowed(req(bob, 'get', 'pods', { namespace: 'other' }))).toBe(false);
    expect(allowed(req(bob, 'update', 'pods', { subresource: 'status' }))).toBe(false);
  });

  it('matches ServiceAccount subjects and SA groups', () => {
    expect(allowed(req(sa, 'get', 'pods', { subresource: 'log' }))).toBe(true);
    expect(authz.authorize(req(sa, 'get', 'pods', { subresource: 'log' })).reason).toBe(
      'RBAC: allowed by RoleBinding "sa-logs/ns1" of Role "logs" to ServiceAccount "builder/ns1"');
    expect(allowed(req(sa, 'get', 'pods'))).toBe(false);
    // ServiceAccount subject with explicit other namespace does not match
    expect(allowed(req(sa, 'get', 'deployments', { apiGroup: 'apps' }))).toBe(false);
    // a user named like the SA in ns9 does match
    const sa9: UserInfo = { name: 'system:serviceaccount:ns9:builder', groups: [] };
    expect(allowed(req(sa9, 'get', 'deployments', { apiGroup: 'apps', namespace: 'x' }))).toBe(true);
    // group system:serviceaccounts:ns1 bound in ns2
    expect(allowed(req(sa, 'get', 'secrets', { namespace: 'ns2' }))).toBe(true);
    expect(allowed(req(sa, 'get', 'secrets', { namespace: 'ns1' }))).toBe(false);
  });

  it('subresources are distinct from their parent resource', () => {
    expect(allowed(req(alice, 'get', 'pods', { subresource: 'log' }))).toBe(false);
    expect(allowed(req(sa, 'get', 'pods', { subresource: 'exec' }))).toBe(false);
  });

  it('resourceNames restrict to named objects (and never match nameless create/list)', () => {
    expect(allowed(req(alice, 'get', 'configmaps', { name: 'cfg' }))).toBe(true);
    expect(allowed(req(alice, 'update', 'configmaps', { name: 'cfg' }))).toBe(true);
    expect(allowed(req(alice, 'get', 'configmaps', { name: 'other' }))).toBe(false);
    expect(allowed(req(alice, 'create', 'configmaps'))).toBe(false);
    expect(allowed(req(alice, 'list', 'configmaps'))).toBe(false);
  });

  it('matches nonResourceURLs exactly or by trailing-* prefix', () => {
    expect(allowed(nonRes(alice, 'get', '/healthz'))).toBe(true);
    expect(allowed(nonRes(alice, 'get', '/healthz/etcd'))).toBe(false);
    expect(allowed(nonRes(alice, 'get', '/metrics/cadvisor'))).toBe(true);
    expect(allowed(nonRes(alice, 'get', '/metrics'))).toBe(false);
    expect(allowed(nonRes(alice, 'post', '/healthz'))).toBe(false);
    // resource rules never grant non-resource requests and vice versa
    expect(allowed(nonRes(bob, 'get', '/api'))).toBe(false);
  });

  it('rulesFor returns SelfSubjectRulesReview-style rules', () => {
    const r = authz.rulesFor(alice, 'ns1');
    expect(r.incomplete).toBe(false);
    expect(r.resourceRules).toEqual(expect.arrayContaining([
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['get', 'update', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] },
    ]));
    expect(r.nonResourceRules).toEqual([{ verbs: ['get'], nonResourceURLs: ['/healthz', '/metrics/*'] }]);
    const r3 = authz.rulesFor(alice, 'ns3');
    expect(r3.incomplete).toBe(true);
    expect(r3.resourceRules).toEqual([]);
  });

  it('reads the source lazily (watch-cache backed)', () => {
    const crbs: ClusterRoleBinding[] = [];
    const a = new RBACAuthorizer({ getRoles: () => [], getClusterRoles: () => clusterRoles, getRoleBindings: () => [], getClusterRoleBindings: () => crbs });
    expect(a.authorize(req(alice, 'get', 'secrets')).decision).toBe('no-opinion');
    crbs.push({ metadata: { name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'secrets-reader' }, subjects: [{ kind: 'User', name: 'alice' }] });
    expect(a.authorize(req(alice, 'get', 'secrets')).decision).toBe('allow');
  });
});
