// The cluster PKI, laid out like kubeadm's /etc/kubernetes/pki: one CA that signs
// the API server's serving certificate and the client certificates users
// authenticate with (CN = user name, O = groups, as the API server reads them).
// Created on first start; later starts reuse whatever is still valid and only
// reissue a leaf certificate that is missing, expiring, no longer covers the
// required names, or was signed by a different CA.
import './reflect-shim.js';
import type * as X509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';

// Imported only after the shim has run: under jest, statically imported CommonJS is
// evaluated at link time, before the shim module's body.
const x509: typeof X509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle;

const DAY_MS = 24 * 3600 * 1000;
const CA_VALIDITY_DAYS = 3650;
const LEAF_VALIDITY_DAYS = 365;
// Renew leaves well before they lapse, so a cluster restarted now and then never serves an expired certificate.
const RENEW_BEFORE_DAYS = 30;
// Tolerate clocks of clients that run a little behind ours.
const BACKDATE_MS = 5 * 60 * 1000;

const LEAF_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const LEAF_SIGNING = { name: 'ECDSA', hash: 'SHA-256' };

export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUPS = ['system:masters'];

export interface PkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
}

export interface Pki {
  files: PkiFiles;
  caCertPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** What this call had to (re)create: any of "ca", "apiserver", "admin". Empty on a clean reuse. */
  generated: string[];
}

export interface EnsurePkiOptions {
  /** Additional serving-certificate names or IPs (like kube-apiserver's --tls-san in k3s). */
  extraSans?: string[];
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

export function pkiFiles(dir: string): PkiFiles {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
  };
}

/** The names the serving certificate must cover: loopback, the host, and the in-cluster `kubernetes` Service. */
export function servingSans(extra: string[] = []): string[] {
  const names = [
    '127.0.0.1',
    '::1',
    'localhost',
    hostname().toLowerCase(),
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    '10.96.0.1',
    ...extra,
  ];
  return [...new Set(names.filter((n) => n.length > 0))];
}

export async function ensurePki(dir: string, opts: EnsurePkiOptions = {}): Promise<Pki> {
  const files = pkiFiles(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const generated: string[] = [];

  const hasCert = existsSync(files.caCert);
  const hasKey = existsSync(files.caKey);
  if (hasCert !== hasKey) {
    // Never replace half of a CA: clients may already trust the certificate that is there.
    throw new Error(`${dir}: found ${hasCert ? 'ca.crt without ca.key' : 'ca.key without ca.crt'}; restore the missing file or remove both`);
  }
  if (!hasCert) {
    await createCa(files);
    generated.push('ca');
  }
  const ca = await loadSigner(files.caCert, files.caKey);

  const sans = servingSans(opts.extraSans);
  const serving = await readPair(files.servingCert, files.servingKey);
  if (!serving || !leafUsable(serving, ca, (c) => sans.every((n) => covers(c, n)))) {
    const issued = await issue(ca, {
      subject: [{ CN: ['kube-apiserver'] }],
      usage: x509.ExtendedKeyUsage.serverAuth,
      sans,
    });
    await writePair(files.servingCert, files.servingKey, issued);
    generated.push('apiserver');
  }

  let admin = await readPair(files.adminCert, files.adminKey);
  if (!admin || !leafUsable(admin, ca, isAdmin)) {
    admin = await issue(ca, {
      subject: clientSubject(ADMIN_USER, ADMIN_GROUPS),
      usage: x509.ExtendedKeyUsage.clientAuth,
    });
    await writePair(files.adminCert, files.adminKey, admin);
    generated.push('admin');
  }

  return { files, caCertPem: ca.certPem, adminCertPem: admin.certPem, adminKeyPem: admin.keyPem, generated };
}

/**
 * Signs a client certificate for `user` in `groups` with the CA under `pkiDir`.
 * Nothing is written: the caller embeds the result in a kubeconfig.
 */
/** Signs a serving certificate (e.g. a node agent's endpoint) for `sans` with the CA under `pkiDir`. */
export async function issueServingCertificate(pkiDir: string, commonName: string, sans: string[]): Promise<IssuedCertificate> {
  const files = pkiFiles(pkiDir);
  const ca = await loadSigner(files.caCert, files.caKey);
  return issue(ca, { subject: [{ CN: [commonName] }], usage: x509.ExtendedKeyUsage.serverAuth, sans });
}

export async function issueClientCertificate(pkiDir: string, user: string, groups: string[]): Promise<IssuedCertificate> {
  if (!user) throw new Error('a client certificate needs a user name');
  const files = pkiFiles(pkiDir);
  const ca = await loadSigner(files.caCert, files.caKey);
  return issue(ca, { subject: clientSubject(user, groups), usage: x509.ExtendedKeyUsage.clientAuth });
}

/**
 * Signs a certificate for a key the CA never sees (the CSR signer): the caller decides subject,
 * validity and usages; a validity past the CA's own end is cut to it.
 */
export interface CertificateTemplate {
  subject: X509.Name;
  publicKey: X509.PublicKey;
  notBefore: Date;
  notAfter: Date;
  keyUsages: X509.KeyUsageFlags;
  /** OIDs. */
  extendedKeyUsages: string[];
  /** Further extensions taken over from the request (subject alternative names). */
  extensions?: X509.Extension[];
}

/** The cluster CA as a signer loads it (--cluster-signing-cert-file, --cluster-signing-key-file). */
export type CertificateAuthority = Signer;

export function loadCertificateAuthority(certFile: string, keyFile: string): Promise<CertificateAuthority> {
  return loadSigner(certFile, keyFile);
}

export async function signCertificate(ca: CertificateAuthority, t: CertificateTemplate): Promise<string> {
  const extensions: X509.Extension[] = [new x509.BasicConstraintsExtension(false, undefined, true)];
  if (t.keyUsages) extensions.push(new x509.KeyUsagesExtension(t.keyUsages, true));
  if (t.extendedKeyUsages.length) extensions.push(new x509.ExtendedKeyUsageExtension(t.extendedKeyUsages));
  extensions.push(await authorityKeyId(ca), ...(t.extensions ?? []));
  const cert = await x509.X509CertificateGenerator.create({
    subject: t.subject,
    issuer: ca.cert.subjectName,
    publicKey: t.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.signing,
    notBefore: t.notBefore,
    notAfter: new Date(Math.min(t.notAfter.getTime(), ca.cert.notAfter.getTime())),
    extensions,
  });
  return cert.toString('pem') + '\n';
}

interface Signer {
  certPem: string;
  cert: X509.X509Certificate;
  nodeCert: X509Certificate;
  key: CryptoKey;
  signing: Algorithm | EcdsaParams;
}

async function createCa(files: PkiFiles): Promise<void> {
  const keys = (await subtle.generateKey(LEAF_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    // A timestamp in the name, as k3s does, keeps a regenerated CA distinguishable from the one it replaced.
    name: [{ CN: [`podium-ca@${Math.floor(notBefore.getTime() / 1000)}`] }],
    keys,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: LEAF_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writePair(files.caCert, files.caKey, { certPem: cert.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) });
}

// Accepts any PEM key Node can parse (PKCS#8, SEC1, PKCS#1), so a CA supplied by the operator works too.
async function loadSigner(certPath: string, keyPath: string): Promise<Signer> {
  const certPem = await readFile(certPath, 'utf8');
  const keyObject = createPrivateKey(await readFile(keyPath, 'utf8'));
  const nodeCert = new X509Certificate(certPem);
  if (!nodeCert.ca) throw new Error(`${certPath} is not a CA certificate`);
  if (!nodeCert.checkPrivateKey(keyObject)) throw new Error(`${keyPath} does not match ${certPath}`);
  const { importAlgorithm, signing } = algorithmsFor(keyObject);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const key = (await subtle.importKey('pkcs8', der, importAlgorithm, false, ['sign'])) as CryptoKey;
  return { certPem, cert: new x509.X509Certificate(certPem), nodeCert, key, signing };
}

function algorithmsFor(key: KeyObject): { importAlgorithm: EcKeyImportParams | RsaHashedImportParams; signing: EcdsaParams | Algorithm } {
  if (key.asymmetricKeyType === 'ec') {
    const curves: Record<string, [string, string]> = {
      prime256v1: ['P-256', 'SHA-256'],
      secp384r1: ['P-384', 'SHA-384'],
      secp521r1: ['P-521', 'SHA-512'],
    };
    const found = curves[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!found) throw new Error(`unsupported CA key curve ${key.asymmetricKeyDetails?.namedCurve}`);
    return { importAlgorithm: { name: 'ECDSA', namedCurve: found[0] }, signing: { name: 'ECDSA', hash: found[1] } };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return {
      importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      signing: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
    };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

interface LeafRequest {
  subject: X509.JsonName;
  usage: X509.ExtendedKeyUsage;
  sans?: string[];
}

async function issue(ca: Signer, req: LeafRequest): Promise<IssuedCertificate> {
  const keys = (await subtle.generateKey(LEAF_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const caNotAfter = ca.cert.notAfter.getTime();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([req.usage]),
    await authorityKeyId(ca),
  ];
  if (req.sans?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(req.sans.map((n): X509.JsonGeneralName => ({ type: isIP(n) ? 'ip' : 'dns', value: n }))),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: req.subject,
    // The CA's own encoded name, not a re-parsed string: Go matches issuer to subject byte for byte.
    issuer: ca.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.signing,
    notBefore,
    // A leaf outliving its CA would only fail verification later, and more confusingly.
    notAfter: new Date(Math.min(notBefore.getTime() + LEAF_VALIDITY_DAYS * DAY_MS, caNotAfter)),
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await pkcs8Pem(keys.privateKey) };
}

async function authorityKeyId(ca: Signer): Promise<X509.AuthorityKeyIdentifierExtension> {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey);
}

function clientSubject(user: string, groups: string[]): X509.JsonName {
  // JSON names, not a "CN=..,O=.." string: user and group names may contain commas or '='.
  return [{ CN: [user] }, ...groups.map((g) => ({ O: [g] }))];
}

function leafUsable(pair: IssuedCertificate, ca: Signer, fits: (cert: X509Certificate) => boolean): boolean {
  try {
    const cert = new X509Certificate(pair.certPem);
    const remaining = new x509.X509Certificate(pair.certPem).notAfter.getTime() - Date.now();
    return (
      cert.checkIssued(ca.nodeCert) &&
      cert.verify(ca.nodeCert.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(pair.keyPem)) &&
      remaining > RENEW_BEFORE_DAYS * DAY_MS &&
      fits(cert)
    );
  } catch {
    return false; // unparsable files are replaced like missing ones
  }
}

function covers(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name, { wildcards: false }) !== undefined;
}

function isAdmin(cert: X509Certificate): boolean {
  const lines = cert.subject.split('\n');
  return lines.includes(`CN=${ADMIN_USER}`) && ADMIN_GROUPS.every((g) => lines.includes(`O=${g}`));
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

async function readPair(certPath: string, keyPath: string): Promise<IssuedCertificate | undefined> {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { certPem: await readFile(certPath, 'utf8'), keyPem: await readFile(keyPath, 'utf8') };
}

// Write-then-rename, so a crash mid-write never leaves a truncated key that the next start would trip over.
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

async function writePair(certPath: string, keyPath: string, pair: IssuedCertificate): Promise<void> {
  await writeAtomic(keyPath, pair.keyPem, 0o600);
  await writeAtomic(certPath, pair.certPem, 0o644);
}
