import type { ClusterRole, ClusterRoleBinding, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { authorizationResources } from '../../server/registry/authorization.js';
import { RBACAuthorizer, staticSource, type UserInfo } from '../../server/auth/rbac/authorizer.js';
import type { AuthServices } from '../../server/auth/types.js';
import type { KubeObject, ReviewContext } from '../../server/registry/types.js';
import { StatusError } from '../../apimachinery/errors.js';

const G = 'rbac.authorization.k8s.io';
const rbac = new RBACAuthorizer(staticSource({
  clusterRoles: [{ metadata: { name: 'view' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }] } as ClusterRole],
  roleBindings: [{ metadata: { name: 'v', namespace: 'ns' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', apiGroup: G, name: 'alice' }] } as RoleBinding],
  clusterRoleBindings: [{ metadata: { name: 'g' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'viewers' }] } as ClusterRoleBinding],
}));
const auth: AuthServices = {
  authorizer: rbac,
  rulesFor: (u, ns) => rbac.rulesFor(u, ns),
  authenticateToken: async () => undefined,
  requestToken: async () => ({}),
};
const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const ctx = (namespace = '', user: UserInfo = alice): ReviewContext => ({ user, namespace, auth });
const review = (plural: string) => authorizationResources.find((d) => d.plural === plural)!;
const call = async (plural: string, body: KubeObject, c: ReviewContext) => review(plural).review!(body, c);
async function failure(p: Promise<unknown>): Promise<StatusError> {
  try { await p; } catch (e) { if (e instanceof StatusError) return e; throw e; }
  throw new Error('expected a failure');
}

describe('authorization.k8s.io review definitions', () => {
  it('are create-only, LocalSubjectAccessReview alone namespaced', () => {
    expect(authorizationResources.map((d) => [d.kind, d.namespaced, d.verbs])).toEqual([
      ['LocalSubjectAccessReview', true, ['create']], ['SelfSubjectAccessReview', false, ['create']],
      ['SelfSubjectRulesReview', false, ['create']], ['SubjectAccessReview', false, ['create']],
    ]);
  });
});

describe('SelfSubjectAccessReview', () => {
  it('answers for the requester', async () => {
    const out = await call('selfsubjectaccessreviews', { metadata: { creationTimestamp: null }, spec: { resourceAttributes: { namespace: 'ns', verb: 'list', resource: 'pods' } } } as unknown as KubeObject, ctx());
    expect(out.status).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "v/ns" of ClusterRole "view" to User "alice"' });
    expect(out.kind).toBe('SelfSubjectAccessReview');
    const denied = await call('selfsubjectaccessreviews', { spec: { resourceAttributes: { namespace: 'other', verb: 'list', resource: 'pods' } } }, ctx());
    expect(denied.status).toEqual({ allowed: false });
    const url = await call('selfsubjectaccessreviews', { spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } }, ctx('', { name: 'x', groups: ['viewers'] }));
    expect((url.status as { allowed: boolean }).allowed).toBe(true);
  });

  it('needs exactly one kind of attributes', async () => {
    const err = await failure(call('selfsubjectaccessreviews', { spec: {} }, ctx()));
    expect(err.code).toBe(422);
    expect(err.message).toBe('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
    const both = await failure(call('selfsubjectaccessreviews', { spec: { resourceAttributes: {}, nonResourceAttributes: { path: '/x', verb: 'get' } } }, ctx()));
    expect(both.message).toContain('spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/x", Verb:"get"}: cannot be specified in combination with resourceAttributes');
  });
});

describe('SubjectAccessReview', () => {
  it('answers for the user in the spec', async () => {
    const out = await call('subjectaccessreviews', { spec: { user: 'bob', groups: ['viewers'], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'any' } } }, ctx());
    expect(out.status).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "g" of ClusterRole "view" to Group "viewers"' });
    const no = await call('subjectaccessreviews', { spec: { user: 'bob', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'ns' } } }, ctx());
    expect(no.status).toEqual({ allowed: false });
  });

  it('needs a user or a group', async () => {
    const err = await failure(call('subjectaccessreviews', { spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }, ctx()));
    expect(err.code).toBe(422);
    expect(err.message).toBe('SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified');
    const meta = await failure(call('subjectaccessreviews', { metadata: { name: 'x' }, spec: { user: 'a', resourceAttributes: {} } }, ctx()));
    expect(meta.message).toContain('metadata: Invalid value: {"name":"x"}: must be empty');
  });
});

describe('LocalSubjectAccessReview', () => {
  it('answers within the path namespace', async () => {
    const out = await call('localsubjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { namespace: 'ns', verb: 'watch', resource: 'pods' } } }, ctx('ns'));
    expect((out.status as { allowed: boolean }).allowed).toBe(true);
    expect(out.metadata?.namespace).toBe('ns');
  });

  it('refuses another namespace in the attributes', async () => {
    const err = await failure(call('localsubjectaccessreviews', { spec: { user: 'alice', resourceAttributes: { namespace: 'other', verb: 'get', resource: 'pods' } } }, ctx('ns')));
    expect(err.code).toBe(422);
    expect(err.message).toBe('LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace');
    const url = await failure(call('localsubjectaccessreviews', { spec: { user: 'alice', nonResourceAttributes: { path: '/x', verb: 'get' } } }, ctx('ns')));
    expect(url.message).toContain('spec.nonResourceAttributes: Invalid value: authorization.NonResourceAttributes{Path:"/x", Verb:"get"}: disallowed on this kind of request');
    const body = await failure(call('localsubjectaccessreviews', { metadata: { namespace: 'a' }, spec: { user: 'alice', resourceAttributes: { namespace: 'a' } } }, ctx('ns')));
    expect(body.code).toBe(400);
  });
});

describe('SelfSubjectRulesReview', () => {
  it('lists the rules of the namespace as kubectl auth can-i --list reads them', async () => {
    const out = await call('selfsubjectrulesreviews', { spec: { namespace: 'ns' } }, ctx());
    expect(out.status).toEqual({
      resourceRules: [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      incomplete: false,
    });
    expect(out.spec).toEqual({});
    const elsewhere = await call('selfsubjectrulesreviews', { spec: { namespace: 'other' } }, ctx());
    expect((elsewhere.status as { resourceRules: unknown[] }).resourceRules).toEqual([]);
  });

  it('needs a namespace', async () => {
    const err = await failure(call('selfsubjectrulesreviews', { spec: {} }, ctx()));
    expect([err.code, err.message]).toEqual([400, 'no namespace on request']);
  });
});
