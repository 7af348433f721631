import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, issueClientCertificate, pkiFiles } from '../../server/pki.js';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('pki', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'podium-pki-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = (p: string): X509Certificate => new X509Certificate(readFileSync(p));

  test('creates a CA, a serving certificate and an admin certificate that verify against it', async () => {
    const pki = await ensurePki(dir);
    expect(pki.generated).toEqual(['ca', 'apiserver', 'admin']);
    const f = pkiFiles(dir);
    const ca = read(f.caCert);
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);

    for (const [cert, key] of [[f.servingCert, f.servingKey], [f.adminCert, f.adminKey]] as const) {
      const c = read(cert);
      expect(c.ca).toBe(false);
      expect(c.checkIssued(ca)).toBe(true);
      expect(c.verify(ca.publicKey)).toBe(true);
      const pem = readFileSync(key, 'utf8');
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(c.checkPrivateKey(createPrivateKey(pem))).toBe(true);
      expect(statSync(key).mode & 0o777).toBe(0o600);
    }
    expect(statSync(f.caKey).mode & 0o777).toBe(0o600);
    expect(readFileSync(f.caKey, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(readFileSync(f.caKey)).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test('the admin certificate is kubernetes-admin in system:masters, for client auth', async () => {
    const pki = await ensurePki(dir);
    const admin = new X509Certificate(pki.adminCertPem);
    expect(admin.subject.split('\n')).toEqual(expect.arrayContaining(['CN=kubernetes-admin', 'O=system:masters']));
    expect(admin.keyUsage).toEqual([CLIENT_AUTH]);
    expect(pki.caCertPem).toBe(readFileSync(pki.files.caCert, 'utf8'));
  });

  test('the serving certificate covers loopback, the host and the kubernetes service names', async () => {
    await ensurePki(dir);
    const serving = read(pkiFiles(dir).servingCert);
    expect(serving.keyUsage).toEqual([SERVER_AUTH]);
    for (const ip of ['127.0.0.1', '::1', '10.96.0.1']) expect(serving.checkIP(ip)).toBe(ip);
    const names = ['localhost', hostname().toLowerCase(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
    for (const name of names) expect(serving.checkHost(name)).toBe(name);
    expect(serving.checkHost('example.com')).toBeUndefined();
  });

  test('a second call reuses everything, byte for byte', async () => {
    await ensurePki(dir);
    const f = pkiFiles(dir);
    const before = Object.values(f).slice(1).map((p) => readFileSync(p, 'utf8'));
    const again = await ensurePki(dir);
    expect(again.generated).toEqual([]);
    expect(Object.values(f).slice(1).map((p) => readFileSync(p, 'utf8'))).toEqual(before);
  });

  test('reissues only what is missing or no longer fits, keeping the CA', async () => {
    await ensurePki(dir);
    const f = pkiFiles(dir);
    const caBefore = readFileSync(f.caCert, 'utf8');
    const adminBefore = readFileSync(f.adminCert, 'utf8');
    unlinkSync(f.servingKey);
    expect((await ensurePki(dir)).generated).toEqual(['apiserver']);
    expect(readFileSync(f.caCert, 'utf8')).toBe(caBefore);
    expect(readFileSync(f.adminCert, 'utf8')).toBe(adminBefore);

    // A new SAN requirement (like a --tls-san) makes the serving certificate be reissued with it.
    const next = await ensurePki(dir, { extraSans: ['api.example.test', '192.0.2.10'] });
    expect(next.generated).toEqual(['apiserver']);
    const serving = read(f.servingCert);
    expect(serving.checkHost('api.example.test')).toBe('api.example.test');
    expect(serving.checkIP('192.0.2.10')).toBe('192.0.2.10');
  });

  test('leaves signed by another CA are replaced', async () => {
    await ensurePki(dir);
    const other = mkdtempSync(join(tmpdir(), 'podium-pki-other-'));
    try {
      await ensurePki(other);
      const f = pkiFiles(dir);
      const o = pkiFiles(other);
      // Simulate a copied-in admin pair from a different cluster.
      for (const [from, to] of [[o.adminCert, f.adminCert], [o.adminKey, f.adminKey]] as const) writeFileSync(to, readFileSync(from));
      expect((await ensurePki(dir)).generated).toEqual(['admin']);
      expect(read(f.adminCert).checkIssued(read(f.caCert))).toBe(true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test('refuses to replace half a CA', async () => {
    await ensurePki(dir);
    unlinkSync(pkiFiles(dir).caKey);
    await expect(ensurePki(dir)).rejects.toThrow(/ca\.crt without ca\.key/);
  });

  test('issueClientCertificate signs any user and groups with the cluster CA', async () => {
    await ensurePki(dir);
    const { certPem, keyPem } = await issueClientCertificate(dir, 'jane, doe', ['dev', 'system:authenticated']);
    const cert = new X509Certificate(certPem);
    const ca = read(pkiFiles(dir).caCert);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.subject).toContain('O=dev');
    expect(cert.subject).toContain('O=system:authenticated');
    // The comma stays inside the CN instead of splitting the name.
    expect(cert.subject.split('\n').filter((l) => l.startsWith('CN='))).toHaveLength(1);
  });

  test('a TLS server with the serving certificate authenticates the admin client certificate', async () => {
    const pki = await ensurePki(dir);
    const f = pki.files;
    const server = createServer(
      { cert: readFileSync(f.servingCert), key: readFileSync(f.servingKey), ca: pki.caCertPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.end(`${peer.subject.CN}/${peer.subject.O}`);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const body = await new Promise<string>((resolve, reject) => {
          const req = request(
            { host, port, path: '/', ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem, agent: false, servername: host === 'localhost' ? host : undefined },
            (res) => {
              let b = '';
              res.on('data', (d) => (b += d));
              res.on('end', () => resolve(b));
            },
          );
          req.on('error', reject);
          req.end();
        });
        expect(body).toBe('kubernetes-admin/system:masters');
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
