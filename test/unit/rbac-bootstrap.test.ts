import { RBACAuthorizer, staticSource, type Attributes, type UserInfo } from '../../server/auth/rbac/authorizer.js';
import { aggregateAll } from '../../server/auth/rbac/aggregation.js';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from '../../server/auth/rbac/bootstrap-policy.js';
import { canGrant } from '../../server/auth/rbac/escalation.js';

const clusterRoles = aggregateAll(bootstrapClusterRoles());
const authz = new RBACAuthorizer(staticSource({ clusterRoles, clusterRoleBindings: bootstrapClusterRoleBindings() }));
const res = (user: UserInfo, verb: string, apiGroup: string, resource: string, namespace = 'default', subresource = ''): Attributes =>
  ({ user, verb, namespace, apiGroup, resource, subresource, name: '', resourceRequest: true, path: '' });
const url = (user: UserInfo, path: string, verb = 'get'): Attributes =>
  ({ user, verb, namespace: '', apiGroup: '', resource: '', subresource: '', name: '', resourceRequest: false, path });
const ok = (a: Attributes) => authz.authorize(a).decision === 'allow';

describe('bootstrap policy', () => {
  const admin: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  const user: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
  const anon: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

  it('labels and annotates every object as upstream', () => {
    for (const o of [...bootstrapClusterRoles(), ...bootstrapClusterRoleBindings()]) {
      expect(o.metadata?.labels?.['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
      expect(o.metadata?.annotations?.['rbac.authorization.kubernetes.io/autoupdate']).toBe('true');
    }
  });

  it('gives system:masters everything', () => {
    expect(ok(res(admin, 'delete', '', 'nodes', ''))).toBe(true);
    expect(ok(res(admin, 'escalate', 'rbac.authorization.k8s.io', 'clusterroles', ''))).toBe(true);
    expect(ok(res(admin, 'create', 'whatever.example.com', 'widgets', 'ns', 'status'))).toBe(true);
    expect(ok(url(admin, '/metrics', 'get'))).toBe(true);
    expect(authz.authorize(res(admin, 'get', '', 'pods')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"');
  });

  it('gives system:authenticated only discovery and basic-user', () => {
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps/v1', '/version', '/healthz', '/livez', '/readyz', '/openapi/v2', '/openapi/v3']) {
      expect(ok(url(user, p))).toBe(true);
    }
    expect(ok(url(user, '/metrics'))).toBe(false);
    expect(ok(url(user, '/api', 'post'))).toBe(false);
    expect(ok(res(user, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews', ''))).toBe(true);
    expect(ok(res(user, 'create', 'authorization.k8s.io', 'selfsubjectrulesreviews', 'default'))).toBe(true);
    expect(ok(res(user, 'create', 'authentication.k8s.io', 'selfsubjectreviews', ''))).toBe(true);
    expect(ok(res(user, 'create', 'authorization.k8s.io', 'subjectaccessreviews', ''))).toBe(false);
    expect(ok(res(user, 'get', '', 'pods'))).toBe(false);
    expect(ok(res(user, 'list', '', 'namespaces', ''))).toBe(false);
    const rules = authz.rulesFor(user, 'default');
    expect(rules.resourceRules.map((r) => r.resources).flat().sort()).toEqual(['selfsubjectaccessreviews', 'selfsubjectreviews', 'selfsubjectrulesreviews']);
  });

  it('unauthenticated users only see public info', () => {
    expect(ok(url(anon, '/healthz'))).toBe(true);
    expect(ok(url(anon, '/version'))).toBe(true);
    expect(ok(url(anon, '/api'))).toBe(false);
    expect(ok(res(anon, 'create', 'authorization.k8s.io', 'selfsubjectaccessreviews', ''))).toBe(false);
  });

  it('aggregates view into edit into admin', () => {
    const byName = (n: string) => clusterRoles.find((r) => r.metadata?.name === n)!;
    const a = new RBACAuthorizer(staticSource({
      clusterRoles,
      roleBindings: ['view', 'edit', 'admin'].map((r) => ({ metadata: { name: r, namespace: 'ns' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: r }, subjects: [{ kind: 'User', name: r }] })),
    }));
    const can = (u: string, verb: string, group: string, resource: string) => a.authorize(res({ name: u, groups: [] }, verb, group, resource, 'ns')).decision === 'allow';
    expect(can('view', 'list', 'apps', 'deployments')).toBe(true);
    expect(can('view', 'get', '', 'secrets')).toBe(false);
    expect(can('edit', 'get', '', 'secrets')).toBe(true);
    expect(can('edit', 'list', 'apps', 'deployments')).toBe(true);
    expect(can('edit', 'create', 'rbac.authorization.k8s.io', 'roles')).toBe(false);
    expect(can('admin', 'create', 'rbac.authorization.k8s.io', 'roles')).toBe(true);
    expect(can('admin', 'delete', 'batch', 'jobs')).toBe(true);
    expect(byName('admin').rules!.length).toBeGreaterThan(byName('edit').rules!.length);
    // a namespace admin can grant edit in their namespace, but not cluster-wide
    expect(canGrant({ name: 'admin', groups: [] }, byName('edit').rules!, 'ns', a).allowed).toBe(true);
    expect(canGrant({ name: 'admin', groups: [] }, byName('edit').rules!, '', a).allowed).toBe(false);
  });

  it('component identities get their roles', () => {
    const sched: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
    expect(ok(res(sched, 'create', '', 'pods', 'ns', 'binding'))).toBe(true);
    expect(ok(res(sched, 'watch', '', 'nodes', ''))).toBe(true);
    expect(ok(res(sched, 'delete', '', 'nodes', ''))).toBe(false);
    const kcm: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
    expect(ok(res(kcm, 'watch', 'apps', 'deployments', ''))).toBe(true);
  });
});
