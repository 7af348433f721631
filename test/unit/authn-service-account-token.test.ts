import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  DEFAULT_ISSUER, ServiceAccountTokens, boundObjectKind, boundObjectUidConflict, ensureServiceAccountKey, keyIdOf,
  validateTokenRequest, type LiveObject, type ServiceAccountKey, type ServiceAccountLookup,
} from '../../server/auth/authn/service-account-token.js';
import { StatusError } from '../../apimachinery/errors.js';

const SA = { namespace: 'team-a', name: 'builder', uid: 'sa-uid-1' };
const T0 = new Date('2026-01-02T03:04:05.678Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

class FakeLookup implements ServiceAccountLookup {
  serviceAccounts = new Map<string, LiveObject>([['team-a/builder', { uid: 'sa-uid-1' }]]);
  pods = new Map<string, LiveObject>();
  secrets = new Map<string, LiveObject>();
  nodes = new Map<string, LiveObject>();
  serviceAccount(ns: string, name: string) { return this.serviceAccounts.get(`${ns}/${name}`); }
  pod(ns: string, name: string) { return this.pods.get(`${ns}/${name}`); }
  secret(ns: string, name: string) { return this.secrets.get(`${ns}/${name}`); }
  node(name: string) { return this.nodes.get(name); }
}

describe('service account tokens', () => {
  let dir: string;
  let key: ServiceAccountKey;
  let tokens: ServiceAccountTokens;
  let lookup: FakeLookup;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'podium-sa-'));
    key = ensureServiceAccountKey(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    tokens = new ServiceAccountTokens(key);
    lookup = new FakeLookup();
  });

  test('ensureServiceAccountKey writes sa.key (PKCS8, 0600) and sa.pub (SPKI) once, then reuses them', () => {
    expect(key.generated).toBe(true);
    expect(readFileSync(join(dir, 'sa.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(readFileSync(join(dir, 'sa.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(statSync(join(dir, 'sa.key')).mode & 0o777).toBe(0o600);
    expect(createPrivateKey(key.privateKeyPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const again = ensureServiceAccountKey(dir);
    expect(again.generated).toBe(false);
    expect(again.privateKeyPem).toBe(key.privateKeyPem);
    expect(again.publicKeyPem).toBe(key.publicKeyPem);
  });

  test('issues an ES256 JWT with upstream claims and a kid derived from the public key', async () => {
    const { token, expirationTimestamp } = await tokens.issue(SA, { now: T0 });
    expect(expirationTimestamp).toBe('2026-01-02T04:04:05Z');
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'ES256', kid: keyIdOf(createPublicKey(key.publicKeyPem)) });
    expect(header.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const claims = decodeJwt(token);
    const iat = Math.floor(T0.getTime() / 1000);
    expect(claims).toEqual({
      aud: [DEFAULT_ISSUER], exp: iat + 3600, iat, nbf: iat, iss: DEFAULT_ISSUER, jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sub: 'system:serviceaccount:team-a:builder',
      'kubernetes.io': { namespace: 'team-a', serviceaccount: { name: 'builder', uid: 'sa-uid-1' } },
    });
  });

  test('round trip: verify answers the service account user', async () => {
    const { token } = await tokens.issue(SA, { now: T0 });
    const jti = decodeJwt(token).jti;
    const result = await tokens.verify(token, lookup, undefined, at(60));
    expect(result).toEqual({
      user: {
        name: 'system:serviceaccount:team-a:builder', uid: 'sa-uid-1',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${jti}`] },
      },
      audiences: [DEFAULT_ISSUER],
    });
  });

  test('expired and not-yet-valid tokens are rejected (with go-jose\'s one-minute leeway)', async () => {
    const { token } = await tokens.issue(SA, { now: T0, expirationSeconds: 600 });
    expect(await tokens.verify(token, lookup, undefined, at(600 + 59))).toBeDefined();
    expect(await tokens.verify(token, lookup, undefined, at(600 + 61))).toBeUndefined();
    expect(await tokens.verify(token, lookup, undefined, at(-61))).toBeUndefined();
  });

  test('the audience must intersect the wanted ones', async () => {
    const { token } = await tokens.issue(SA, { now: T0, audiences: ['vault', 'other'] });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
    expect(await tokens.verify(token, lookup, ['nope'], at(1))).toBeUndefined();
    expect((await tokens.verify(token, lookup, ['vault', 'x'], at(1)))?.audiences).toEqual(['vault']);
  });

  test('a service account recreated with another uid, or gone, invalidates the token', async () => {
    const { token } = await tokens.issue(SA, { now: T0 });
    lookup.serviceAccounts.set('team-a/builder', { uid: 'sa-uid-2' });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
    lookup.serviceAccounts.clear();
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
    lookup.serviceAccounts.set('team-a/builder', { uid: 'sa-uid-1', deletionTimestamp: at(-120).toISOString() });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
  });

  test('pod-bound tokens carry pod (and node) claims and die with the pod', async () => {
    lookup.pods.set('team-a/web-0', { uid: 'pod-uid' });
    const { token } = await tokens.issue(SA, { now: T0, boundObject: { kind: 'Pod', name: 'web-0', uid: 'pod-uid' }, podNode: { name: 'node-1', uid: 'node-uid' } });
    const claims = decodeJwt(token)['kubernetes.io'];
    expect(claims).toEqual({
      namespace: 'team-a', serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
      pod: { name: 'web-0', uid: 'pod-uid' }, node: { name: 'node-1', uid: 'node-uid' },
    });
    const ok = await tokens.verify(token, lookup, undefined, at(1));
    expect(ok?.user.extra).toEqual({
      'authentication.kubernetes.io/pod-name': ['web-0'],
      'authentication.kubernetes.io/pod-uid': ['pod-uid'],
      'authentication.kubernetes.io/node-name': ['node-1'],
      'authentication.kubernetes.io/node-uid': ['node-uid'],
      'authentication.kubernetes.io/credential-id': [`JTI=${decodeJwt(token).jti}`],
    });
    // Terminating within its grace period: still valid; deleted long ago: not.
    lookup.pods.set('team-a/web-0', { uid: 'pod-uid', deletionTimestamp: at(30).toISOString() });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeDefined();
    lookup.pods.set('team-a/web-0', { uid: 'pod-uid', deletionTimestamp: at(-120).toISOString() });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
    lookup.pods.set('team-a/web-0', { uid: 'other-pod' });
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
    lookup.pods.clear();
    expect(await tokens.verify(token, lookup, undefined, at(1))).toBeUndefined();
  });

  test('secret- and node-bound tokens check their object', async () => {
    lookup.secrets.set('team-a/s', { uid: 'sec-uid' });
    const bySecret = (await tokens.issue(SA, { now: T0, boundObject: { kind: 'Secret', name: 's', uid: 'sec-uid' } })).token;
    expect(await tokens.verify(bySecret, lookup, undefined, at(1))).toBeDefined();
    lookup.secrets.clear();
    expect(await tokens.verify(bySecret, lookup, undefined, at(1))).toBeUndefined();

    lookup.nodes.set('n1', { uid: 'n-uid' });
    const byNode = (await tokens.issue(SA, { now: T0, boundObject: { kind: 'Node', name: 'n1', uid: 'n-uid' } })).token;
    expect((await tokens.verify(byNode, lookup, undefined, at(1)))?.user.extra?.['authentication.kubernetes.io/node-name']).toEqual(['n1']);
    lookup.nodes.clear();
    expect(await tokens.verify(byNode, lookup, undefined, at(1))).toBeUndefined();
  });

  test('tampered, foreign and garbage tokens are undefined, never a throw', async () => {
    const { token } = await tokens.issue(SA, { now: T0 });
    const [h, p, s] = token.split('.');
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    expect(await tokens.verify(flipped, lookup, undefined, at(1))).toBeUndefined();
    // Claims changed, signature kept.
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
    expect(await tokens.verify(`${h}.${forged}.${s}`, lookup, undefined, at(1))).toBeUndefined();
    // Signed by another key.
    const otherDir = mkdtempSync(join(tmpdir(), 'podium-sa2-'));
    try {
      const other = new ServiceAccountTokens(ensureServiceAccountKey(otherDir));
      expect(await tokens.verify((await other.issue(SA, { now: T0 })).token, lookup, undefined, at(1))).toBeUndefined();
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    // Another issuer.
    const elsewhere = new ServiceAccountTokens(key, { issuer: 'https://elsewhere' });
    expect(await tokens.verify((await elsewhere.issue(SA, { now: T0 })).token, lookup, undefined, at(1))).toBeUndefined();
    for (const junk of ['', 'abc', 'a.b.c', 'Bearer x', '....']) {
      await expect(tokens.verify(junk, lookup)).resolves.toBeUndefined();
    }
  });

  test('an RSA sa.key (as kubeadm writes) signs RS256', async () => {
    const rsaDir = mkdtempSync(join(tmpdir(), 'podium-sa-rsa-'));
    try {
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(join(rsaDir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const rsa = new ServiceAccountTokens(ensureServiceAccountKey(rsaDir));
      const { token } = await rsa.issue(SA, { now: T0 });
      expect(decodeProtectedHeader(token).alg).toBe('RS256');
      expect(await rsa.verify(token, lookup, undefined, at(1))).toBeDefined();
    } finally {
      rmSync(rsaDir, { recursive: true, force: true });
    }
  });

  test('validateTokenRequest: 10 minutes to 2^32 seconds, default 3600', () => {
    const tr = (expirationSeconds?: number) => ({ spec: { audiences: [], expirationSeconds } });
    expect(validateTokenRequest(tr())).toEqual([]);
    expect(validateTokenRequest(tr(600))).toEqual([]);
    expect(validateTokenRequest(tr(599))).toEqual([{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', detail: 'Invalid value: 599: may not specify a duration less than 10 minutes' }]);
    expect(validateTokenRequest(tr(2 ** 32 + 1))).toEqual([{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', detail: 'Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds' }]);
  });

  test('boundObjectRef kinds: Pod, Secret and Node in the core group; anything else a 400', () => {
    expect(boundObjectKind({ apiVersion: 'v1', kind: 'Pod', name: 'p' })).toBe('Pod');
    expect(boundObjectKind({ kind: 'Secret', name: 's' })).toBe('Secret');
    expect(boundObjectKind({ apiVersion: 'v1', kind: 'Node', name: 'n' })).toBe('Node');
    const bad = boundObjectKind({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' });
    expect(bad).toBeInstanceOf(StatusError);
    expect((bad as StatusError).toStatus()).toMatchObject({ code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type apps/v1, Kind=Deployment' });
    expect((boundObjectKind({ apiVersion: 'v1', kind: 'ConfigMap' }) as StatusError).message).toBe('cannot bind token to object of type /v1, Kind=ConfigMap');
    expect(boundObjectUidConflict('Pod', 'web-0', 'x').toStatus()).toMatchObject({
      code: 409, reason: 'Conflict',
      message: 'Operation cannot be fulfilled on Pod "web-0": the UID in the bound object reference (x) does not match the UID in record. The object might have been deleted and then recreated',
    });
  });
});
