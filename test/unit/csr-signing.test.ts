// The kube-apiserver-client signer on its own: real requests signed by a real CA, the issued
// certificate read back with node:crypto.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { ensurePki, loadCertificateAuthority, pkiFiles, type CertificateAuthority } from '../../server/pki.js';
import { needsSigning } from '../../controllers/csr-signing.js';
import { certificateTTL, signRequest, validateClientUsages } from '../../controllers/csr-signer.js';
import { generateRequest } from '../support/csr.js';

const HOUR = 3600_000;

describe('csrsigning: kubernetes.io/kube-apiserver-client', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let caCert: X509Certificate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'csr-signing-'));
    const pki = await ensurePki(dir);
    caCert = new X509Certificate(pki.caCertPem);
    const files = pkiFiles(dir);
    ca = await loadCertificateAuthority(files.caCert, files.caKey);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const csr = (request: string, spec: Partial<CertificateSigningRequest['spec']> = {}, types: string[] = ['Approved']): CertificateSigningRequest => ({
    metadata: { name: 'alice' },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'key encipherment', 'client auth'], ...spec },
    status: { conditions: types.map((type) => ({ type, status: 'True' })) },
  });

  test('signs the request\'s subject and key for client auth, issued by the CA', async () => {
    const req = await generateRequest('alice', ['dev', 'ops']);
    const now = new Date();
    const out = await signRequest(ca, csr(req.request, { expirationSeconds: 3600 }), now);
    if (!('certificate' in out)) throw new Error(out.failure);
    const cert = new X509Certificate(out.certificate);
    expect(cert.subject).toBe('CN=alice\nO=dev\nO=ops');
    expect(cert.issuer).toBe(caCert.subject);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    // The key is the requester's: it matches the private key the client kept.
    expect(cert.checkPrivateKey(createPrivateKey(req.keyPem))).toBe(true);
    // Short-lived: not before now-5m, not after now+1h.
    expect(Math.abs(new Date(cert.validFrom).getTime() - (now.getTime() - 5 * 60_000))).toBeLessThan(2000);
    expect(Math.abs(new Date(cert.validTo).getTime() - (now.getTime() + HOUR))).toBeLessThan(2000);
  });

  test('refuses usages the signer does not issue', async () => {
    const req = await generateRequest('alice');
    expect(await signRequest(ca, csr(req.request, { usages: ['client auth', 'server auth'] }))).toEqual({ failure: 'invalid usage for client certificate: server auth' });
    expect(await signRequest(ca, csr(req.request, { usages: ['digital signature'] }))).toEqual({ failure: 'missing required usage for client certificate: client auth' });
    expect(validateClientUsages(['client auth'])).toBeUndefined();
  });

  test('duration: the request\'s, between 10 minutes and a year', () => {
    expect(certificateTTL(undefined)).toBe(365 * 24 * HOUR);
    expect(certificateTTL(10 * 365 * 24 * 3600)).toBe(365 * 24 * HOUR);
    expect(certificateTTL(7200)).toBe(2 * HOUR);
  });

  test('only approved, undenied, unfailed, unissued requests of this signer', () => {
    expect(needsSigning(csr('x'))).toBe(true);
    expect(needsSigning(csr('x', {}, []))).toBe(false);
    expect(needsSigning(csr('x', {}, ['Approved', 'Denied']))).toBe(false);
    expect(needsSigning(csr('x', {}, ['Approved', 'Failed']))).toBe(false);
    expect(needsSigning(csr('x', { signerName: 'example.com/other' }))).toBe(false);
    expect(needsSigning({ ...csr('x'), status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'abc' } })).toBe(false);
  });
});
