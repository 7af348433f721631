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

  it('gives the scheduler volume-scheduler access for claims and volumes', () => {
    const sched: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
    expect(ok(res(sched, 'patch', '', 'pods', 'ns', 'status'))).toBe(true);
    expect(ok(res(sched, 'create', '', 'events', 'ns'))).toBe(true);
    expect(ok(res(sched, 'update', '', 'persistentvolumes', ''))).toBe(true);
    expect(ok(res(sched, 'patch', '', 'persistentvolumeclaims', 'ns'))).toBe(true);
    expect(ok(res(sched, 'list', 'storage.k8s.io', 'storageclasses', ''))).toBe(true);
    expect(ok(res(sched, 'delete', '', 'persistentvolumes', ''))).toBe(false);
    expect(authz.authorize(res(sched, 'update', '', 'persistentvolumes', '')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "system:volume-scheduler" of ClusterRole "system:volume-scheduler" to User "system:kube-scheduler"');
  });

  describe('the controller manager (all controllers under one identity)', () => {
    const kcm: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
    const lease = (verb: string, name: string): Attributes =>
      ({ ...res(kcm, verb, 'coordination.k8s.io', 'leases', 'kube-system'), name });
    // The Podium role alone, without upstream's system:kube-controller-manager beside it.
    const alone = new RBACAuthorizer(staticSource({
      clusterRoles,
      clusterRoleBindings: bootstrapClusterRoleBindings().filter((b) => b.metadata?.name === 'system:podium:controller-manager'),
    }));
    const podium = (a: Attributes) => alone.authorize(a).decision === 'allow';

    it('can do what its controllers do', () => {
      for (const [verb, group, resource, sub] of [
        ['create', '', 'pods', ''], ['delete', '', 'pods', ''], ['patch', '', 'pods', ''], ['patch', '', 'pods', 'status'],
        ['create', 'apps', 'replicasets', ''], ['update', 'apps', 'deployments', 'status'], ['create', 'apps', 'controllerrevisions', ''],
        ['create', 'batch', 'jobs', ''], ['update', 'batch', 'cronjobs', 'status'], ['create', '', 'endpoints', ''],
        ['create', 'discovery.k8s.io', 'endpointslices', ''], ['create', '', 'configmaps', ''], ['create', '', 'serviceaccounts', ''],
        ['create', '', 'persistentvolumeclaims', ''], ['create', '', 'persistentvolumes', ''], ['update', '', 'persistentvolumes', 'status'],
        ['create', 'storage.k8s.io', 'storageclasses', ''], ['update', 'policy', 'poddisruptionbudgets', 'status'],
        ['patch', 'apps', 'deployments', 'scale'], ['update', 'autoscaling', 'horizontalpodautoscalers', 'status'],
        ['update', '', 'namespaces', 'finalize'], ['deletecollection', 'example.com', 'widgets', ''], ['patch', 'example.com', 'widgets', ''],
        ['patch', '', 'nodes', ''], ['patch', '', 'nodes', 'status'], ['create', '', 'events', ''], ['patch', 'events.k8s.io', 'events', ''],
        ['escalate', 'rbac.authorization.k8s.io', 'clusterroles', ''], ['update', 'rbac.authorization.k8s.io', 'clusterroles', ''],
        ['watch', 'certificates.k8s.io', 'certificatesigningrequests', ''], ['update', 'certificates.k8s.io', 'certificatesigningrequests', 'status'],
      ]) {
        expect([verb, group, resource, sub, podium(res(kcm, verb, group, resource, 'ns', sub))]).toEqual([verb, group, resource, sub, true]);
      }
      expect(podium(lease('create', ''))).toBe(true);
      expect(podium(lease('update', 'kube-controller-manager'))).toBe(true);
      // csrsigning signs for the kube-apiserver-client signer only, and approves nothing.
      const signer = (verb: string, name: string): Attributes => ({ ...res(kcm, verb, 'certificates.k8s.io', 'signers', ''), name });
      expect(podium(signer('sign', 'kubernetes.io/kube-apiserver-client'))).toBe(true);
      expect(podium(signer('sign', 'kubernetes.io/kubelet-serving'))).toBe(false);
      expect(podium(signer('approve', 'kubernetes.io/kube-apiserver-client'))).toBe(false);
      // (any other lease too: the garbage collector's update on */* covers it, as upstream's role does)
    });

    it('holds no cluster-admin power', () => {
      expect(podium(res(kcm, 'create', '', 'secrets', 'ns'))).toBe(false);
      for (const [verb, group, resource] of [
        ['create', 'rbac.authorization.k8s.io', 'rolebindings'], ['create', 'rbac.authorization.k8s.io', 'clusterrolebindings'],
        ['create', 'rbac.authorization.k8s.io', 'clusterroles'], ['bind', 'rbac.authorization.k8s.io', 'clusterroles'],
        ['escalate', 'rbac.authorization.k8s.io', 'roles'], ['impersonate', '', 'users'], ['impersonate', '', 'serviceaccounts'],
        ['create', 'apps', 'deployments'], ['create', '', 'services'], ['create', '', 'nodes'],
      ]) {
        expect([verb, resource, ok(res(kcm, verb, group, resource, 'ns'))]).toEqual([verb, resource, false]);
      }
      expect(ok(res(kcm, 'create', '', 'pods', 'ns', 'exec'))).toBe(false);
      expect(ok(url(kcm, '/metrics'))).toBe(false);
    });
  });
});
