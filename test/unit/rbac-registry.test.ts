import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import roles from '../../server/registry/roles.js';
import clusterroles from '../../server/registry/clusterroles.js';
import rolebindings from '../../server/registry/rolebindings.js';
import clusterrolebindings from '../../server/registry/clusterrolebindings.js';
import { rbacResources } from '../../server/registry/rbac.js';
import type { Stored } from '../../server/registry/types.js';

const G = 'rbac.authorization.k8s.io';
const texts = (errs: { field: string; detail: string }[]) => errs.map((e) => `${e.field}: ${e.detail}`);

describe('rbac resource definitions', () => {
  it('serves the four kinds, roles and rolebindings namespaced, without short names', () => {
    const byPlural = Object.fromEntries(rbacResources.map((d) => [d.plural, d]));
    expect(Object.keys(byPlural).sort()).toEqual(['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles']);
    expect(byPlural.roles.namespaced).toBe(true);
    expect(byPlural.rolebindings.namespaced).toBe(true);
    expect(byPlural.clusterroles.namespaced).toBe(false);
    expect(rbacResources.every((d) => d.group === G && d.version === 'v1' && !d.shortNames && !d.categories)).toBe(true);
  });

  it('accepts names with colons but not path-breaking ones', () => {
    expect(roles.nameValidator!('system:basic-user')).toEqual([]);
    expect(clusterroles.nameValidator!('a/b')).toEqual(["may not contain '/'"]);
    expect(rolebindings.nameValidator!('..')).toEqual(["may not be '..'"]);
    expect(clusterrolebindings.nameValidator!('x%y')).toEqual(["may not contain '%'"]);
  });
});

describe('role validation', () => {
  it('requires verbs, groups and resources on resource rules', () => {
    const role = { metadata: { name: 'r', namespace: 'ns' }, rules: [{ verbs: [] }] } as unknown as Stored<Role>;
    expect(texts(roles.strategy.validate(role))).toEqual([
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]);
  });

  it('forbids non-resource URLs in namespaced roles and mixing them with resources', () => {
    const role = { metadata: { name: 'r', namespace: 'ns' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }] } as Stored<Role>;
    expect(texts(roles.strategy.validate(role))).toEqual([
      'rules[0].nonResourceURLs: Invalid value: []string{"/metrics"}: namespaced rules cannot apply to non-resource URLs',
    ]);
    const cr = { metadata: { name: 'c' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/a', '/b'], resources: ['pods'] }] } as Stored<ClusterRole>;
    expect(texts(clusterroles.strategy.validate(cr))).toEqual([
      'rules[0].nonResourceURLs: Invalid value: []string{"/a", "/b"}: rules cannot apply to both regular resources and non-resource URLs',
    ]);
    const ok = { metadata: { name: 'c' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] } as Stored<ClusterRole>;
    expect(clusterroles.strategy.validate(ok)).toEqual([]);
  });

  it('requires a selector in an aggregationRule', () => {
    const cr = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [] } } as Stored<ClusterRole>;
    expect(texts(clusterroles.strategy.validate(cr))).toEqual([
      'aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil',
    ]);
  });
});

describe('binding validation', () => {
  const rb = (over: Partial<RoleBinding>): Stored<RoleBinding> => ({
    metadata: { name: 'b', namespace: 'ns' }, roleRef: { apiGroup: G, kind: 'Role', name: 'r' }, ...over,
  } as Stored<RoleBinding>);

  it('defaults roleRef.apiGroup and user/group subject groups', () => {
    const obj = rb({ roleRef: { kind: 'Role', name: 'r' } as RoleBinding['roleRef'], subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'sa' }] });
    rolebindings.strategy.defaults!(obj);
    expect(obj.roleRef.apiGroup).toBe(G);
    expect(obj.subjects![0].apiGroup).toBe(G);
    expect(obj.subjects![1].apiGroup).toBeUndefined();
    expect(rolebindings.strategy.validate(obj)).toEqual([]);
  });

  it('checks the roleRef', () => {
    expect(texts(rolebindings.strategy.validate(rb({ roleRef: { apiGroup: 'x', kind: 'Foo', name: '' } })))).toEqual([
      'roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"',
      'roleRef.kind: Unsupported value: "Foo": supported values: "Role", "ClusterRole"',
      'roleRef.name: Required value',
    ]);
    const crb = { metadata: { name: 'b' }, roleRef: { apiGroup: G, kind: 'Role', name: 'r' } } as Stored<ClusterRoleBinding>;
    expect(texts(clusterrolebindings.strategy.validate(crb))).toEqual(['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']);
  });

  it('checks subjects', () => {
    const subjects = [
      { kind: 'ServiceAccount', name: 'sa', apiGroup: G },
      { kind: 'User', name: 'u', apiGroup: 'other' },
      { kind: 'Robot', name: 'r' },
      { kind: 'Group', name: '', apiGroup: G },
      { kind: 'ServiceAccount', name: 'Bad_Name' },
    ];
    expect(texts(rolebindings.strategy.validate(rb({ subjects })))).toEqual([
      'subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""',
      'subjects[1].apiGroup: Unsupported value: "other": supported values: "rbac.authorization.k8s.io"',
      'subjects[2].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      'subjects[3].name: Required value',
      expect.stringContaining('subjects[4].name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'),
    ]);
    // a ClusterRoleBinding's ServiceAccount has no binding namespace to fall back on
    const crb = { metadata: { name: 'b' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] } as Stored<ClusterRoleBinding>;
    expect(texts(clusterrolebindings.strategy.validate(crb))).toEqual(['subjects[0].namespace: Required value']);
    expect(rolebindings.strategy.validate(rb({ subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }))).toEqual([]);
  });

  it('refuses to change the roleRef', () => {
    const old = rb({});
    const next = rb({ roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' } });
    expect(texts(rolebindings.strategy.validateUpdate!(next, old))).toEqual([
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: cannot change roleRef',
    ]);
    expect(rolebindings.strategy.validateUpdate!(rb({ subjects: [{ kind: 'User', name: 'x', apiGroup: G }] }), old)).toEqual([]);
  });
});

describe('printers', () => {
  it('roles show NAME and CREATED AT', () => {
    expect(roles.table.columns.map((c) => [c.name, c.type])).toEqual([['Name', 'string'], ['Created At', 'date']]);
    const row = clusterroles.table.row({ metadata: { name: 'view', creationTimestamp: '2024-05-01T10:00:00Z' } } as Stored<ClusterRole>);
    expect(row).toEqual(['view', '2024-05-01T10:00:00Z']);
  });

  it('bindings show ROLE and AGE, then users, groups and service accounts when wide', () => {
    expect(rolebindings.table.columns.map((c) => [c.name, c.priority ?? 0])).toEqual([
      ['Name', 0], ['Role', 0], ['Age', 0], ['Users', 1], ['Groups', 1], ['ServiceAccounts', 1],
    ]);
    const created = new Date(Date.now() - 90_000).toISOString();
    const row = rolebindings.table.row({
      metadata: { name: 'read', namespace: 'ns', creationTimestamp: created },
      roleRef: { apiGroup: G, kind: 'Role', name: 'pod-reader' },
      subjects: [
        { kind: 'User', name: 'alice', apiGroup: G }, { kind: 'User', name: 'bob', apiGroup: G },
        { kind: 'Group', name: 'devs', apiGroup: G }, { kind: 'ServiceAccount', name: 'sa', namespace: 'ns' },
      ],
    } as Stored<RoleBinding>);
    expect(row).toEqual(['read', 'Role/pod-reader', '90s', 'alice, bob', 'devs', 'ns/sa']);
    expect(clusterrolebindings.table.columns[3].description).toBe('Users in the clusterRoleBinding');
  });
});
