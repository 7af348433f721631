import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { impersonate, splitServiceAccountUsername } from '../../server/auth/authn/impersonation.js';
import type { Attributes, Authorizer, UserInfo } from '../../server/auth/types.js';
import { failure } from '../support/errors.js';

const bob: UserInfo = { name: 'bob', groups: ['system:authenticated'] };

/** Allows what `allow` matches and records every question. */
function fakeAuthorizer(allow: (a: Attributes) => boolean = () => true, reason = ''): Authorizer & { seen: Attributes[] } {
  const seen: Attributes[] = [];
  return {
    seen,
    authorize(a) {
      seen.push(a);
      return allow(a) ? { decision: 'allow', reason: '' } : { decision: 'no-opinion', reason };
    },
  };
}


describe('impersonation', () => {
  test('no Impersonate-* headers: undefined and no authorization question', () => {
    const authz = fakeAuthorizer();
    expect(impersonate({ authorization: 'Bearer x', accept: 'application/json' }, bob, authz)).toBeUndefined();
    expect(authz.seen).toEqual([]);
  });

  test('a user with groups, extras and a uid, each checked as upstream asks', () => {
    const authz = fakeAuthorizer();
    const user = impersonate({
      'impersonate-user': 'alice',
      'impersonate-group': ['dev', 'ops'],
      'impersonate-uid': '1234',
      'impersonate-extra-scopes': ['view', 'edit'],
      'impersonate-extra-example.com%2fteam': 'red',
    }, bob, authz);
    expect(user).toEqual({
      name: 'alice', uid: '1234', groups: ['dev', 'ops', 'system:authenticated'],
      extra: { scopes: ['view', 'edit'], 'example.com/team': ['red'] },
    });
    const asked = authz.seen.map((a) => [a.verb, a.apiGroup, a.resource, a.subresource, a.namespace, a.name, a.resourceRequest, a.user.name]);
    expect(asked).toEqual([
      ['impersonate', '', 'users', '', '', 'alice', true, 'bob'],
      ['impersonate', '', 'groups', '', '', 'dev', true, 'bob'],
      ['impersonate', '', 'groups', '', '', 'ops', true, 'bob'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', '', 'view', true, 'bob'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'scopes', '', 'edit', true, 'bob'],
      ['impersonate', 'authentication.k8s.io', 'userextras', 'example.com/team', '', 'red', true, 'bob'],
      ['impersonate', 'authentication.k8s.io', 'uids', '', '', '1234', true, 'bob'],
    ]);
  });

  test('a service account username is checked as serviceaccounts in its namespace and gets its groups', () => {
    const authz = fakeAuthorizer();
    const user = impersonate({ 'impersonate-user': 'system:serviceaccount:kube-system:deployer' }, bob, authz);
    expect(user).toEqual({ name: 'system:serviceaccount:kube-system:deployer', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] });
    expect(authz.seen[0]).toMatchObject({ resource: 'serviceaccounts', apiGroup: '', namespace: 'kube-system', name: 'deployer' });
  });

  test('given groups replace a service account\'s fixed groups', () => {
    const user = impersonate({ 'impersonate-user': 'system:serviceaccount:ns:sa', 'impersonate-group': 'custom' }, bob, fakeAuthorizer());
    expect(user?.groups).toEqual(['custom', 'system:authenticated']);
  });

  test('a malformed service account username is an ordinary user', () => {
    expect(splitServiceAccountUsername('system:serviceaccount:ns:sa')).toEqual(['ns', 'sa']);
    expect(splitServiceAccountUsername('system:serviceaccount:ns:sa:extra')).toBeUndefined();
    expect(splitServiceAccountUsername('system:serviceaccount:Bad_NS:sa')).toBeUndefined();
    const authz = fakeAuthorizer();
    impersonate({ 'impersonate-user': 'system:serviceaccount:a:b:c' }, bob, authz);
    expect(authz.seen[0]).toMatchObject({ resource: 'users', name: 'system:serviceaccount:a:b:c' });
  });

  test('system:authenticated is not added when authenticated or unauthenticated is given; anonymous gets unauthenticated', () => {
    expect(impersonate({ 'impersonate-user': 'x', 'impersonate-group': 'system:unauthenticated' }, bob, fakeAuthorizer())?.groups).toEqual(['system:unauthenticated']);
    expect(impersonate({ 'impersonate-user': 'x', 'impersonate-group': ['a', 'system:authenticated'] }, bob, fakeAuthorizer())?.groups).toEqual(['a', 'system:authenticated']);
    expect(impersonate({ 'impersonate-user': 'system:anonymous' }, bob, fakeAuthorizer())).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
    expect(impersonate({ 'impersonate-user': 'system:anonymous', 'impersonate-group': 'g' }, bob, fakeAuthorizer())?.groups).toEqual(['g', 'system:unauthenticated']);
  });

  test('a denied attribute is upstream\'s 403, naming the first thing refused', () => {
    const authz = fakeAuthorizer((a) => a.resource === 'users');
    const err = failure(() => impersonate({ 'impersonate-user': 'alice', 'impersonate-group': 'system:masters' }, bob, authz));
    expect(err.toStatus()).toMatchObject({
      code: 403, reason: 'Forbidden',
      message: 'groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope',
      details: { name: 'system:masters', kind: 'groups' },
    });
    const denyAll = fakeAuthorizer(() => false, 'no RBAC policy matched');
    expect(failure(() => impersonate({ 'impersonate-user': 'alice' }, bob, denyAll)).message)
      .toBe('users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope: no RBAC policy matched');
    expect(failure(() => impersonate({ 'impersonate-user': 'system:serviceaccount:ns:sa' }, bob, fakeAuthorizer(() => false))).message)
      .toBe('serviceaccounts "sa" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "ns"');
    expect(failure(() => impersonate({ 'impersonate-user': 'a', 'impersonate-extra-scopes': 'x' }, bob, fakeAuthorizer((a) => a.resource === 'users'))).message)
      .toBe('userextras.authentication.k8s.io "x" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope');
    expect(failure(() => impersonate({ 'impersonate-user': 'a', 'impersonate-uid': '42' }, bob, fakeAuthorizer((a) => a.resource === 'users'))).message)
      .toBe('uids.authentication.k8s.io "42" is forbidden: User "bob" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope');
  });

  test('groups, extras or a uid without a user: upstream\'s internal error', () => {
    for (const headers of [{ 'impersonate-group': 'g' }, { 'impersonate-extra-k': 'v' }, { 'impersonate-uid': 'u' }]) {
      const authz = fakeAuthorizer();
      const err = failure(() => impersonate(headers, bob, authz));
      expect(err.code).toBe(500);
      expect(err.message).toMatch(/without impersonating a user$/);
      expect(authz.seen).toEqual([]);
    }
    expect(failure(() => impersonate({ 'impersonate-group': 'g' }, bob, fakeAuthorizer())).message)
      .toBe('Internal error occurred: requested [{Group  g    }] without impersonating a user');
  });

  test('repeated Impersonate-Group headers (kubectl --as-group twice) stay separate through req.headersDistinct', async () => {
    const seen: (UserInfo | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(impersonate(req.headersDistinct, bob, fakeAuthorizer()));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1', port: (server.address() as AddressInfo).port, agent: false,
          // An array value is sent as one header line per element.
          headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': ['a', 'b, c'], 'Impersonate-Extra-Scopes': 'x' },
        }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', reject);
        req.end();
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(seen).toEqual([{ name: 'alice', groups: ['a', 'b, c', 'system:authenticated'], extra: { scopes: ['x'] } }]);
  });
});
