// Real PKCS#10 requests for the certificates API tests, made the way a client would: a fresh
// key pair and a self-signed request naming the user (CN) and groups (O).
import '../../server/reflect-shim.js';
import type * as X509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

const x509: typeof X509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface GeneratedRequest {
  /** PEM text of the CERTIFICATE REQUEST. */
  pem: string;
  /** spec.request as sent over JSON (base64 of the PEM). */
  request: string;
  keyPem: string;
}

export async function generateRequest(user: string, groups: string[] = [], algorithm: 'ECDSA' | 'RSA' = 'ECDSA'): Promise<GeneratedRequest> {
  const alg = algorithm === 'ECDSA'
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [user] }, ...groups.map((g) => ({ O: [g] }))],
    keys,
    signingAlgorithm: alg,
  });
  const pem = csr.toString('pem') + '\n';
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
  return { pem, request: Buffer.from(pem).toString('base64'), keyPem };
}
