// Parsing and checking the PKCS#10 request a CertificateSigningRequest carries (upstream's
// certificates.ParseCSR plus x509's CheckSignature), shared by validation and the signer.
// The signature is checked with node:crypto so validation stays synchronous: @peculiar/x509
// only verifies through WebCrypto, which is asynchronous.
import '../reflect-shim.js';
import type * as X509 from '@peculiar/x509';
import { createPublicKey, constants, verify } from 'node:crypto';

let x509: typeof X509 | undefined;

/**
 * Loads @peculiar/x509 (about 10 MB resident) with the first CSR written or signed, not when the
 * process starts: parseCertificateRequest needs it loaded. Imported after the shim has run
 * (see server/pki.ts).
 */
export async function loadCertificateRequestParser(): Promise<void> {
  x509 ??= await import('@peculiar/x509');
}

export type CertificateRequest = X509.Pkcs10CertificateRequest;

/**
 * Decodes spec.request (a []byte: base64 in JSON) holding a PEM CERTIFICATE REQUEST, parses it
 * and verifies its self-signature. Throws with upstream's wording.
 */
export function parseCertificateRequest(request: string | undefined): CertificateRequest {
  const pem = Buffer.from(request ?? '', 'base64').toString('latin1');
  const block = firstPemBlock(pem);
  if (!block || block.type !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  if (!x509) throw new Error('internal error: loadCertificateRequestParser() was not awaited');
  let csr: CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(new Uint8Array(block.der));
  } catch {
    throw new Error('x509: malformed certificate request');
  }
  checkSignature(csr, block.der);
  return csr;
}

/** The first PEM block, as Go's pem.Decode finds it (text before it is skipped). */
function firstPemBlock(text: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  // Headers ("Key: value" lines) precede a blank line; CSRs have none, so everything is base64.
  return { type: m[1], der: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') };
}

function checkSignature(csr: CertificateRequest, der: Buffer): void {
  const tbs = firstElement(der);
  const alg = csr.signatureAlgorithm as X509.HashedAlgorithm & { saltLength?: number };
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  const signature = Buffer.from(csr.signature);
  const hash = alg.hash?.name?.replace('-', '').toLowerCase();
  let ok: boolean;
  let failure: string;
  switch (alg.name) {
    case 'ECDSA':
      ok = verify(hash ?? null, tbs, key, signature);
      failure = 'x509: ECDSA verification failure';
      break;
    case 'RSASSA-PKCS1-v1_5':
      ok = verify(hash ?? null, tbs, key, signature);
      failure = 'crypto/rsa: verification error';
      break;
    case 'RSA-PSS':
      ok = verify(hash ?? null, tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? constants.RSA_PSS_SALTLEN_AUTO }, signature);
      failure = 'crypto/rsa: verification error';
      break;
    case 'Ed25519':
      ok = verify(null, tbs, key, signature);
      failure = 'ed25519: invalid signature';
      break;
    default:
      throw new Error('x509: cannot verify signature: algorithm unimplemented');
  }
  if (!ok) throw new Error(failure);
}

/** The raw bytes of the first element inside an outer DER SEQUENCE (the certificationRequestInfo). */
function firstElement(der: Buffer): Buffer {
  const outer = headerLength(der, 0);
  const start = outer.header;
  const inner = headerLength(der, start);
  return der.subarray(start, start + inner.header + inner.length);
}

function headerLength(buf: Buffer, at: number): { header: number; length: number } {
  const first = buf[at + 1];
  if (first < 0x80) return { header: 2, length: first };
  const n = first & 0x7f;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + buf[at + 2 + i];
  return { header: 2 + n, length };
}
