import type { ClusterRole, ClusterRoleBinding, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { rbacEscalation } from '../../server/admission/rbac-escalation.js';
import type { AdmissionRequest, Operation } from '../../server/admission/types.js';
import { RBACAuthorizer, staticSource, type UserInfo } from '../../server/auth/rbac/authorizer.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { Registry } from '../../server/generic/registry.js';
import type { KubeObject } from '../../server/registry/types.js';
import { rbacResources } from '../../server/registry/rbac.js';

const G = 'rbac.authorization.k8s.io';
const def = (plural: string) => rbacResources.find((d) => d.plural === plural)!;

const clusterRoles: ClusterRole[] = [
  { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  { metadata: { name: 'secret-reader' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] },
  { metadata: { name: 'rbac-writer' }, rules: [{ apiGroups: [G], resources: ['*'], verbs: ['create', 'update'] }] },
  { metadata: { name: 'binder' }, rules: [{ apiGroups: [G], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['secret-reader'] }] },
  { metadata: { name: 'escalator' }, rules: [{ apiGroups: [G], resources: ['clusterroles'], verbs: ['escalate'] }] },
  { metadata: { name: 'everything' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
];
const bob: UserInfo = { name: 'system:serviceaccount:ns:bob', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'] };
const binding = (name: string, role: string, subject: string, ns?: string): RoleBinding => ({
  metadata: { name, ...(ns ? { namespace: ns } : {}) }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: role },
  subjects: [{ kind: 'User', apiGroup: G, name: subject }],
});
const roleBindings: RoleBinding[] = [
  { ...binding('bob-pods', 'pod-reader', ''), metadata: { name: 'bob-pods', namespace: 'ns' }, subjects: [{ kind: 'ServiceAccount', name: 'bob' }] },
  { ...binding('bob-rbac', 'rbac-writer', ''), metadata: { name: 'bob-rbac', namespace: 'ns' }, subjects: [{ kind: 'ServiceAccount', name: 'bob' }] },
];
const clusterRoleBindings: ClusterRoleBinding[] = [
  binding('carol-rbac', 'rbac-writer', 'carol') as ClusterRoleBinding,
  binding('carol-binder', 'binder', 'carol') as ClusterRoleBinding,
  binding('dave-rbac', 'rbac-writer', 'dave') as ClusterRoleBinding,
  binding('dave-esc', 'escalator', 'dave') as ClusterRoleBinding,
  binding('root', 'everything', 'root') as ClusterRoleBinding,
];
const plugin = rbacEscalation(new RBACAuthorizer(staticSource({ clusterRoles, roleBindings, clusterRoleBindings })));

function request(plural: string, obj: KubeObject, user: UserInfo | undefined, operation: Operation = 'CREATE', oldObject?: KubeObject): AdmissionRequest {
  return {
    operation, def: def(plural), subresource: '', namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '',
    object: obj, oldObject, dryRun: false, registry: {} as Registry, user,
  };
}
function run(req: AdmissionRequest): StatusError | undefined {
  try {
    plugin.validate!(req);
    return undefined;
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
}
const role = (name: string, rules: ClusterRole['rules'], ns?: string): KubeObject =>
  ({ metadata: { name, ...(ns ? { namespace: ns } : {}) }, rules }) as unknown as KubeObject;
const user = (name: string): UserInfo => ({ name, groups: ['system:authenticated'] });

describe('RBAC escalation admission', () => {
  it('refuses a role granting what the user lacks, with upstream message', () => {
    const err = run(request('roles', role('grab', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'ns'), bob));
    expect(err?.code).toBe(403);
    expect(err?.message).toBe(
      'roles.rbac.authorization.k8s.io "grab" is forbidden: user "system:serviceaccount:ns:bob" (groups=["system:serviceaccounts" "system:serviceaccounts:ns" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
  });

  it('allows a role within the permissions held, and the server itself', () => {
    expect(run(request('roles', role('ok', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], 'ns'), bob))).toBeUndefined();
    expect(run(request('clusterroles', role('any', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), undefined))).toBeUndefined();
    expect(run(request('clusterroles', role('any', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]), { name: 'x', groups: ['system:masters'] }))).toBeUndefined();
  });

  it('lets holders of escalate write any role', () => {
    expect(run(request('clusterroles', role('big', [{ apiGroups: [''], resources: ['secrets'], verbs: ['*'] }]), user('dave')))).toBeUndefined();
    expect(run(request('clusterroles', role('big', [{ apiGroups: [''], resources: ['secrets'], verbs: ['*'] }]), user('carol')))?.code).toBe(403);
  });

  it('needs full authority for an aggregationRule', () => {
    const agg = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } } as unknown as KubeObject;
    expect(run(request('clusterroles', agg, user('carol')))?.message).toBe(
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    );
    expect(run(request('clusterroles', agg, user('root')))).toBeUndefined();
  });

  it('checks bindings against the referenced role or bind permission', () => {
    const toSecrets = binding('b', 'secret-reader', 'eve') as unknown as KubeObject;
    expect(run(request('clusterrolebindings', toSecrets, user('dave')))?.message).toBe(
      'clusterrolebindings.rbac.authorization.k8s.io "b" is forbidden: user "dave" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    expect(run(request('clusterrolebindings', toSecrets, user('carol')))).toBeUndefined();
    expect(run(request('rolebindings', binding('rb', 'pod-reader', 'eve', 'ns') as unknown as KubeObject, bob))).toBeUndefined();
    const missing = run(request('clusterrolebindings', binding('m', 'nope', 'eve') as unknown as KubeObject, user('carol')));
    expect(missing?.code).toBe(404);
    expect(missing?.message).toBe('clusterrole.rbac.authorization.k8s.io "nope" not found');
  });

  it('lets the garbage collector touch ownerReferences and finalizers, but not rules', () => {
    const old = role('grab', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'ns');
    const gcOnly = { ...old, metadata: { ...old.metadata, finalizers: ['x'] } } as unknown as KubeObject;
    expect(run(request('roles', gcOnly, bob, 'UPDATE', old))).toBeUndefined();
    const more = role('grab', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }], 'ns');
    expect(run(request('roles', more, bob, 'UPDATE', old))?.code).toBe(403);
  });

  it('ignores other resources and deletes', () => {
    const req = request('roles', role('grab', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'ns'), bob, 'DELETE');
    expect(run(req)).toBeUndefined();
    expect(run({ ...req, operation: 'CREATE', def: { ...req.def, group: 'other' } })).toBeUndefined();
  });
});
