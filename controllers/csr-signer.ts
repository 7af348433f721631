// The kube-apiserver-client signer's work on one request: usage rules, lifetime, and the
// certificate itself from the cluster CA. Apart from the controller (csr-signing.ts) because it
// needs @peculiar/x509, about 15 MB resident once loaded: the controller manager loads it with
// the first request to sign, not at start.
import '../server/reflect-shim.js';
import type * as X509 from '@peculiar/x509';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { loadCertificateAuthority, signCertificate, type CertificateAuthority } from '../server/pki.js';
import { loadCertificateRequestParser, parseCertificateRequest } from '../server/registry/csr-request.js';

const x509: typeof X509 = await import('@peculiar/x509');
await loadCertificateRequestParser();

export { loadCertificateAuthority, type CertificateAuthority };

const MINUTE_MS = 60_000;
/** upstream's --cluster-signing-duration default. */
const MAX_TTL_MS = 365 * 24 * 60 * MINUTE_MS;
const MIN_TTL_MS = 10 * MINUTE_MS;
/** Tolerates clients whose clocks run a little behind. */
const BACKDATE_MS = 5 * MINUTE_MS;
/** Certificates shorter than this are not backdated at the end (upstream's PermissiveSigningPolicy.Short). */
const SHORT_MS = 8 * 60 * MINUTE_MS;

const F = x509.KeyUsageFlags;
const KEY_USAGES: Record<string, X509.KeyUsageFlags> = {
  signing: F.digitalSignature,
  'digital signature': F.digitalSignature,
  'content commitment': F.nonRepudiation,
  'key encipherment': F.keyEncipherment,
  'key agreement': F.keyAgreement,
  'data encipherment': F.dataEncipherment,
  'cert sign': F.keyCertSign,
  'crl sign': F.cRLSign,
  'encipher only': F.encipherOnly,
  'decipher only': F.decipherOnly,
};
const EXT_KEY_USAGES: Record<string, string> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};
const SUBJECT_ALT_NAME = '2.5.29.17';

/** The kube-apiserver-client signer's rule: client auth required; digital signature and key encipherment allowed. */
export function validateClientUsages(usages: readonly string[]): string | undefined {
  for (const u of usages) {
    if (u !== 'digital signature' && u !== 'key encipherment' && u !== 'client auth') return `invalid usage for client certificate: ${u}`;
  }
  if (!usages.includes('client auth')) return 'missing required usage for client certificate: client auth';
  return undefined;
}

/** The requested duration, held between 10 minutes and the signer's maximum (upstream's signer.duration). */
export function certificateTTL(expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined) return MAX_TTL_MS;
  return Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, expirationSeconds * 1000));
}

export type SignOutcome = { certificate: string } | { failure: string };

/** Validates and signs one request: the issued PEM, or why the signer refuses it. */
export async function signRequest(ca: CertificateAuthority, csr: CertificateSigningRequest, now = new Date()): Promise<SignOutcome> {
  const usages = csr.spec?.usages ?? [];
  const failure = validateClientUsages(usages);
  if (failure) return { failure };
  const request = parseCertificateRequest(csr.spec?.request);
  const ttl = certificateTTL(csr.spec?.expirationSeconds);
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const notAfter = new Date((ttl < SHORT_MS ? now.getTime() : notBefore.getTime()) + ttl);
  let keyUsages = 0;
  const extendedKeyUsages: string[] = [];
  for (const u of usages) {
    if (KEY_USAGES[u]) keyUsages |= KEY_USAGES[u];
    else if (EXT_KEY_USAGES[u] && !extendedKeyUsages.includes(EXT_KEY_USAGES[u])) extendedKeyUsages.push(EXT_KEY_USAGES[u]);
  }
  // Go's signer copies the request's names (DNS, IP, email, URI) into the certificate.
  const sans = request.getExtension(SUBJECT_ALT_NAME);
  const certificate = await signCertificate(ca, {
    subject: request.subjectName,
    publicKey: request.publicKey,
    notBefore,
    notAfter,
    keyUsages,
    extendedKeyUsages,
    extensions: sans ? [new x509.Extension(SUBJECT_ALT_NAME, false, sans.value)] : [],
  });
  return { certificate };
}

