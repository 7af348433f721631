// The request authenticator end to end over real TLS: client certificates from the cluster
// CA, a foreign CA, bearer tokens and anonymous access.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, issueClientCertificate, pkiFiles } from '../../server/pki.js';
import { RequestAuthenticator, bearerToken } from '../../server/auth/authn/authenticator.js';
import { StaticTokenAuthenticator } from '../../server/auth/authn/token-file.js';
import { ServiceAccountTokens, ensureServiceAccountKey, type LiveObject } from '../../server/auth/authn/service-account-token.js';
import { userFromCertificate } from '../../server/auth/authn/x509.js';
import { isStatusError } from '../../apimachinery/errors.js';

interface Answer { status: number; body: Record<string, unknown> }

describe('request authentication over TLS', () => {
  let dir: string;
  let foreignDir: string;
  let caPem: string;
  let server: Server;
  let port: number;
  let authenticator: RequestAuthenticator;
  let saTokens: ServiceAccountTokens;
  const serviceAccounts = new Map<string, LiveObject>([['default/robot', { uid: 'robot-uid' }]]);

  function start(anonymous: boolean): void {
    authenticator = new RequestAuthenticator({
      staticTokens: StaticTokenAuthenticator.fromCsv('static-token,tess,t-1,"readers"\n'),
      serviceAccountTokens: saTokens,
      lookup: { serviceAccount: (ns, n) => serviceAccounts.get(`${ns}/${n}`), pod: () => undefined, secret: () => undefined },
      anonymous,
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'podium-authn-'));
    foreignDir = mkdtempSync(join(tmpdir(), 'podium-authn-foreign-'));
    const pki = await ensurePki(dir);
    caPem = pki.caCertPem;
    saTokens = new ServiceAccountTokens(ensureServiceAccountKey(dir));
    const f = pkiFiles(dir);
    server = createServer(
      { cert: readFileSync(f.servingCert), key: readFileSync(f.servingKey), ca: caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        authenticator.authenticate(req).then(
          (user) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ user, certUser: userFromCertificate(req.socket as TLSSocket) ?? null, authorization: req.headers.authorization ?? null })); },
          (e: unknown) => {
            if (!isStatusError(e)) { res.writeHead(500); res.end(String(e)); return; }
            res.writeHead(e.code, { 'content-type': 'application/json' });
            res.end(JSON.stringify(e.toStatus()));
          },
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
    rmSync(foreignDir, { recursive: true, force: true });
  });

  function get(opts: { cert?: string; key?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api', ca: caPem, cert: opts.cert, key: opts.key, headers: opts.headers, agent: false, servername: 'localhost' }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => { data += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

  test('a cluster-CA client certificate: CN is the user, every O a group, plus system:authenticated', async () => {
    start(false);
    const { certPem, keyPem } = await issueClientCertificate(dir, 'jane', ['dev', 'ops']);
    const answer = await get({ cert: certPem, key: keyPem });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toEqual({ name: 'jane', groups: ['dev', 'ops', 'system:authenticated'] });
    const single = await issueClientCertificate(dir, 'solo', ['only']);
    expect((await get({ cert: single.certPem, key: single.keyPem })).body.user).toEqual({ name: 'solo', groups: ['only', 'system:authenticated'] });
    const none = await issueClientCertificate(dir, 'nogroups', []);
    expect((await get({ cert: none.certPem, key: none.keyPem })).body.user).toEqual({ name: 'nogroups', groups: ['system:authenticated'] });
  });

  test('no credentials: 401 Unauthorized, or system:anonymous when anonymous auth is on', async () => {
    start(false);
    expect(await get()).toEqual({ status: 401, body: UNAUTHORIZED });
    start(true);
    expect((await get()).body.user).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
    // A non-bearer Authorization header is no credential at all.
    expect((await get({ headers: { authorization: 'Basic dTpw' } })).body.user).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });

  test('a certificate from another CA is never trusted, and never falls back to anonymous', async () => {
    start(true);
    const foreign = await ensurePki(foreignDir);
    const answer = await get({ cert: foreign.adminCertPem, key: foreign.adminKeyPem });
    expect(answer).toEqual({ status: 401, body: UNAUTHORIZED });
    // A valid token still authenticates such a request.
    const withToken = await get({ cert: foreign.adminCertPem, key: foreign.adminKeyPem, headers: { authorization: 'Bearer static-token' } });
    expect(withToken.body.user).toEqual({ name: 'tess', uid: 't-1', groups: ['readers', 'system:authenticated'] });
  });

  test('bearer tokens: static file, then service-account JWTs; a bad token is 401 even with anonymous on', async () => {
    start(true);
    const stat = await get({ headers: { authorization: 'Bearer static-token' } });
    expect(stat.body.user).toEqual({ name: 'tess', uid: 't-1', groups: ['readers', 'system:authenticated'] });
    // The used credential is not passed on.
    expect(stat.body.authorization).toBeNull();
    const { token } = await saTokens.issue({ namespace: 'default', name: 'robot', uid: 'robot-uid' });
    const sa = await get({ headers: { authorization: `bearer ${token}` } });
    expect(sa.body.user).toMatchObject({ name: 'system:serviceaccount:default:robot', uid: 'robot-uid', groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'] });
    expect(await get({ headers: { authorization: 'Bearer wrong' } })).toEqual({ status: 401, body: UNAUTHORIZED });
    serviceAccounts.clear();
    expect(await get({ headers: { authorization: `Bearer ${token}` } })).toEqual({ status: 401, body: UNAUTHORIZED });
    serviceAccounts.set('default/robot', { uid: 'robot-uid' });
  });

  test('client certificates win over bearer tokens (upstream order)', async () => {
    start(false);
    const { certPem, keyPem } = await issueClientCertificate(dir, 'jane', ['dev']);
    const answer = await get({ cert: certPem, key: keyPem, headers: { authorization: 'Bearer static-token' } });
    expect((answer.body.user as { name: string }).name).toBe('jane');
  });

  test('authenticateToken answers with the audiences it was judged for', async () => {
    start(false);
    expect(await authenticator.authenticateToken('static-token', ['a'])).toEqual({ user: { name: 'tess', uid: 't-1', groups: ['readers', 'system:authenticated'] }, audiences: ['a'] });
    expect((await authenticator.authenticateToken('static-token'))?.audiences).toEqual(['https://kubernetes.default.svc.cluster.local']);
    const { token } = await saTokens.issue({ namespace: 'default', name: 'robot', uid: 'robot-uid' }, { audiences: ['vault'] });
    expect(await authenticator.authenticateToken(token)).toBeUndefined();
    expect((await authenticator.authenticateToken(token, ['vault']))?.audiences).toEqual(['vault']);
    expect(await authenticator.authenticateToken('garbage')).toBeUndefined();
  });

  test('bearer header parsing follows upstream', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('  bearer abc  ')).toBe('abc');
    expect(bearerToken('Bearer abc def')).toBe('abc');
    expect(bearerToken('Bearer  abc')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
