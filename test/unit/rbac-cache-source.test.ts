import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { WatchCache } from '../../server/storage/watch-cache.js';
import { CachedRbacSource, BindingIndex } from '../../server/auth/rbac/cache-source.js';
import { RBACAuthorizer, staticSource, type Attributes, type UserInfo } from '../../server/auth/rbac/authorizer.js';

const G = 'rbac.authorization.k8s.io';
type Obj = { metadata?: { name?: string; namespace?: string } };
const keyOf = (o: Obj) => (o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata!.name!);

function cacheOf(type: string, objs: Obj[]): WatchCache {
  const c = new WatchCache(type, 100);
  c.reset(1, new Map(objs.map((o) => [keyOf(o), { rev: 1, json: JSON.stringify(o) }])));
  return c;
}

const roles: Role[] = [{ metadata: { name: 'reader', namespace: 'ns1' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }];
const clusterRoles: ClusterRole[] = [
  { metadata: { name: 'view' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
  { metadata: { name: 'secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
];
const roleBindings: RoleBinding[] = [
  { metadata: { name: 'rb', namespace: 'ns1' }, roleRef: { apiGroup: G, kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'bob' }] },
  { metadata: { name: 'rb2', namespace: 'ns2' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'secrets' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'devs' }] },
];
const clusterRoleBindings: ClusterRoleBinding[] = [
  { metadata: { name: 'viewers' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }, { kind: 'Group', apiGroup: G, name: 'devs' }] },
  { metadata: { name: 'missing' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'nope' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'devs' }] },
];

function caches() {
  return {
    roles: cacheOf('rbac.authorization.k8s.io/roles', roles),
    clusterRoles: cacheOf('rbac.authorization.k8s.io/clusterroles', clusterRoles),
    roleBindings: cacheOf('rbac.authorization.k8s.io/rolebindings', roleBindings),
    clusterRoleBindings: cacheOf('rbac.authorization.k8s.io/clusterrolebindings', clusterRoleBindings),
  };
}

const attrs = (user: UserInfo, verb: string, resource: string, namespace = ''): Attributes =>
  ({ user, verb, namespace, apiGroup: '', resource, subresource: '', name: '', resourceRequest: true, path: '' });

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const bob: UserInfo = { name: 'system:serviceaccount:ns1:bob', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] };
const carol: UserInfo = { name: 'carol', groups: ['devs', 'system:authenticated'] };

describe('BindingIndex', () => {
  it('finds bindings by user, group and service account, in list order without duplicates', () => {
    const idx = new BindingIndex(clusterRoleBindings, '');
    expect(idx.for(alice).map((b) => b.metadata?.name)).toEqual(['viewers']);
    expect(idx.for({ name: 'alice', groups: ['devs'] }).map((b) => b.metadata?.name)).toEqual(['viewers', 'missing']);
    expect(idx.for({ name: 'nobody', groups: [] })).toEqual([]);
    const ns = new BindingIndex(roleBindings.slice(0, 1), 'ns1');
    expect(ns.for(bob).map((b) => b.metadata?.name)).toEqual(['rb']);
  });
});

describe('CachedRbacSource', () => {
  it('answers as a static source over the same objects would', () => {
    const cached = new RBACAuthorizer(new CachedRbacSource(caches()));
    const plain = new RBACAuthorizer(staticSource({ roles, clusterRoles, roleBindings, clusterRoleBindings }));
    const cases: Attributes[] = [
      attrs(alice, 'get', 'configmaps'), attrs(alice, 'get', 'secrets', 'ns2'),
      attrs(bob, 'list', 'pods', 'ns1'), attrs(bob, 'list', 'pods', 'ns2'),
      attrs(carol, 'get', 'secrets', 'ns2'), attrs(carol, 'get', 'secrets', 'ns1'), attrs(carol, 'delete', 'pods', 'ns2'),
    ];
    for (const a of cases) expect(cached.authorize(a)).toEqual(plain.authorize(a));
    expect(cached.authorize(attrs(bob, 'list', 'pods', 'ns1')).decision).toBe('allow');
    expect(cached.authorize(attrs(carol, 'delete', 'pods', 'ns2'))).toEqual({
      decision: 'no-opinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "nope" not found',
    });
    expect(cached.rulesFor(carol, 'ns2')).toEqual(plain.rulesFor(carol, 'ns2'));
  });

  it('looks roles up by key and sees changes as the caches apply them', () => {
    const c = caches();
    const source = new CachedRbacSource(c);
    const authz = new RBACAuthorizer(source);
    expect(source.getRole('ns1', 'reader')?.metadata?.name).toBe('reader');
    expect(source.getClusterRole('view')?.rules).toHaveLength(1);
    expect(authz.authorize(attrs(alice, 'get', 'secrets')).decision).toBe('no-opinion');
    const grant: ClusterRoleBinding = { metadata: { name: 'alice-secrets' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'secrets' }, subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }] };
    c.clusterRoleBindings.apply([{ rev: 2, type: 'ADDED', key: 'alice-secrets', json: JSON.stringify(grant) }]);
    expect(source.getClusterRoleBindings()).toHaveLength(3);
    expect(authz.authorize(attrs(alice, 'get', 'secrets')).decision).toBe('allow');
    c.clusterRoleBindings.apply([{ rev: 3, type: 'DELETED', key: 'alice-secrets', json: JSON.stringify(grant) }]);
    expect(authz.authorize(attrs(alice, 'get', 'secrets')).decision).toBe('no-opinion');
    // a relist (reset) has no events for listeners; the revision check still notices it
    c.roleBindings.reset(10, new Map());
    expect(authz.authorize(attrs(bob, 'list', 'pods', 'ns1')).decision).toBe('no-opinion');
    source.close();
  });

  it('keeps authorization cheap with a hundred bindings', () => {
    const many: ClusterRoleBinding[] = Array.from({ length: 100 }, (_, i) => ({
      metadata: { name: `b${i}` }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', apiGroup: G, name: `user${i}` }, { kind: 'Group', apiGroup: G, name: `group${i}` }],
    }));
    const manyRBs: RoleBinding[] = Array.from({ length: 100 }, (_, i) => ({
      metadata: { name: `rb${i}`, namespace: `ns${i % 10}` }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: `sa${i}` }],
    }));
    const source = new CachedRbacSource({
      roles: cacheOf('r', []), clusterRoles: cacheOf('cr', clusterRoles),
      roleBindings: cacheOf('rb', manyRBs), clusterRoleBindings: cacheOf('crb', many),
    });
    const authz = new RBACAuthorizer(source);
    const user: UserInfo = { name: 'user99', groups: ['group50', 'system:authenticated'] };
    const a = attrs(user, 'list', 'pods', 'ns3');
    for (let i = 0; i < 1000; i++) authz.authorize(a);
    const n = 20000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) authz.authorize(a);
    const perCallUs = Number(process.hrtime.bigint() - start) / n / 1000;
    // ~1 µs compiled (a cached GET costs ~100 µs); jest's transform slows it several-fold, so the
    // bound only catches gross regressions such as rebuilding the indexes per request
    expect(perCallUs).toBeLessThan(25);
  });
});
