import { authenticationResources } from '../../server/registry/authentication.js';
import type { AuthServices, UserInfo } from '../../server/auth/types.js';
import type { KubeObject, ResourceDefinition, ReviewContext } from '../../server/registry/types.js';
import { StatusError } from '../../apimachinery/errors.js';

function find(kind: string, version: string): ResourceDefinition {
  const def = authenticationResources.find((d) => d.kind === kind && d.version === version);
  if (!def) throw new Error(`no ${kind} ${version}`);
  return def;
}

function services(tokens: Record<string, { user: UserInfo; audiences: string[] }> = {}): AuthServices & { asked: [string, string[] | undefined][] } {
  const asked: [string, string[] | undefined][] = [];
  return {
    asked,
    authorizer: { authorize: () => ({ decision: 'no-opinion', reason: '' }) },
    rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
    authenticateToken: (token, audiences) => {
      asked.push([token, audiences]);
      return Promise.resolve(tokens[token]);
    },
    requestToken: () => Promise.reject(new Error('not used by these reviews')),
  };
}

const jane: UserInfo = { name: 'jane', uid: 'j-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'] } };

describe('authentication.k8s.io review resources', () => {
  test('definitions: cluster-scoped, create-only, authentication.k8s.io', () => {
    expect(authenticationResources.map((d) => `${d.group}/${d.version} ${d.kind} ${d.plural}`).sort()).toEqual([
      'authentication.k8s.io/v1 SelfSubjectReview selfsubjectreviews',
      'authentication.k8s.io/v1 TokenReview tokenreviews',
      'authentication.k8s.io/v1beta1 SelfSubjectReview selfsubjectreviews',
    ]);
    for (const d of authenticationResources) {
      expect(d.namespaced).toBe(false);
      expect(d.verbs).toEqual(['create']);
      expect(typeof d.review).toBe('function');
      expect(d.table.columns.map((c) => c.name)).toEqual(['Name', 'Age']);
    }
  });

  test('SelfSubjectReview answers the requesting user', async () => {
    for (const version of ['v1', 'v1beta1']) {
      const ctx: ReviewContext = { user: jane, namespace: '', auth: services() };
      const out = await find('SelfSubjectReview', version).review!({ apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview', metadata: { name: 'ignored' } }, ctx);
      expect(out).toEqual({
        apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview',
        metadata: { creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
        status: { userInfo: { username: 'jane', uid: 'j-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'] } } },
      });
    }
    const anon = await find('SelfSubjectReview', 'v1').review!({}, { user: { name: 'system:anonymous', groups: ['system:unauthenticated'] }, namespace: '', auth: services() });
    expect((anon as { status: unknown }).status).toEqual({ userInfo: { username: 'system:anonymous', groups: ['system:unauthenticated'] } });
  });

  test('TokenReview: a valid token', async () => {
    const auth = services({ good: { user: jane, audiences: ['https://kubernetes.default.svc.cluster.local'] } });
    const input: KubeObject = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: 'good' } };
    const out = await find('TokenReview', 'v1').review!(input, { user: jane, namespace: '', auth });
    expect(auth.asked).toEqual([['good', undefined]]);
    expect(out).toEqual({
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token: 'good' },
      status: {
        authenticated: true, audiences: ['https://kubernetes.default.svc.cluster.local'],
        user: { username: 'jane', uid: 'j-1', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'] } },
      },
    });
  });

  test('TokenReview: an invalid token is a 201 with authenticated unset and an error', async () => {
    const out = await find('TokenReview', 'v1').review!({ spec: { token: 'bad', audiences: ['x'] } }, { user: jane, namespace: '', auth: services() });
    expect((out as { status: unknown }).status).toEqual({ user: {}, error: 'invalid bearer token' });
  });

  test('TokenReview: requested audiences are passed on and must be honoured', async () => {
    const auth = services({ t: { user: jane, audiences: ['vault'] }, wrong: { user: jane, audiences: ['other'] } });
    const out = await find('TokenReview', 'v1').review!({ spec: { token: 't', audiences: ['vault'] } }, { user: jane, namespace: '', auth });
    expect(auth.asked[0]).toEqual(['t', ['vault']]);
    expect((out as { status: { audiences: string[] } }).status.audiences).toEqual(['vault']);
    await expect(find('TokenReview', 'v1').review!({ spec: { token: 'wrong', audiences: ['vault'] } }, { user: jane, namespace: '', auth }))
      .rejects.toMatchObject({ code: 500, message: 'Internal error occurred: error validating audiences' });
  });

  test('TokenReview: a missing token is upstream\'s 400', async () => {
    const def = find('TokenReview', 'v1');
    for (const obj of [{ spec: {} }, { spec: { token: '' } }, {}]) {
      const err = await Promise.resolve(def.review!(obj, { user: jane, namespace: '', auth: services() })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).toStatus()).toMatchObject({ code: 400, reason: 'BadRequest', message: 'token is required for TokenReview in authentication' });
    }
  });
});
