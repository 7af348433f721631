// Client-certificate authentication (upstream's x509 request authenticator with
// CommonNameUserConversion): the TLS layer has already verified the chain against the
// cluster CA; the subject's CN is the user name and every O is a group.
import type { TLSSocket, PeerCertificate } from 'node:tls';
import type { UserInfo } from '../types.js';
import { withAuthenticatedGroup } from './groups.js';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

/** Node gives a repeated subject attribute as an array and a single one as a string. */
function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** True when the peer sent a certificate at all (getPeerCertificate answers {} when it did not). */
function presented(cert: PeerCertificate | undefined): cert is PeerCertificate {
  return !!cert && Object.keys(cert).length > 0;
}

/**
 * The user a verified client certificate names, or undefined when there is none (no TLS, no
 * certificate, a certificate the CA did not sign, or no CN, which upstream treats as "not mine").
 */
export function userFromCertificate(socket: TLSSocket): UserInfo | undefined {
  // requestCert with rejectUnauthorized:false lets unverified peers through the handshake, so
  // `authorized` is the only proof the chain ends at the cluster CA.
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!presented(cert)) return undefined;
  // upstream verifies with KeyUsages=[ClientAuth]; a certificate without the extension may be
  // used for anything, as Go's x509 treats it.
  const ekus = cert.ext_key_usage;
  if (ekus && ekus.length > 0 && !ekus.includes(CLIENT_AUTH_EKU) && !ekus.includes(ANY_EKU)) return undefined;
  const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
  const cns = values(subject.CN);
  // Go's pkix.Name keeps the last CN when a subject repeats it.
  const name = cns[cns.length - 1];
  if (!name) return undefined;
  return withAuthenticatedGroup({ name, groups: values(subject.O) });
}

/**
 * True when the client offered a certificate the CA did not verify: upstream's x509
 * authenticator then fails the request (with an error, so anonymous does not apply) unless
 * another credential succeeds.
 */
export function hasUnverifiedCertificate(socket: TLSSocket): boolean {
  if (socket.authorized) return false;
  return presented(socket.getPeerCertificate());
}
