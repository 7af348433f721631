// The CSR signing controller (upstream's csrsigning, kubernetes.io/kube-apiserver-client signer
// only): issues client certificates for the API server from the cluster CA to requests that are
// approved and neither denied nor failed, writing status.certificate through the status
// subresource. A request the signer will not honour gets a Failed condition instead.
import '../server/reflect-shim.js';
import type * as X509 from '@peculiar/x509';
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1.js';
import { loadCertificateAuthority, signCertificate, type CertificateAuthority } from '../server/pki.js';
import { parseCertificateRequest } from '../server/registry/csr-request.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';

const x509: typeof X509 = await import('@peculiar/x509');

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

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

const hasCondition = (csr: CertificateSigningRequest, type: string) => (csr.status?.conditions ?? []).some((c) => c.type === type);

/** Approved, not denied or failed, not yet issued (upstream's handle() guard). */
export function needsSigning(csr: CertificateSigningRequest): boolean {
  return csr.spec?.signerName === KUBE_APISERVER_CLIENT_SIGNER && hasCondition(csr, 'Approved') && !hasCondition(csr, 'Denied')
    && !hasCondition(csr, 'Failed') && !csr.status?.certificate;
}

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

export interface CSRSigningOptions {
  /** --cluster-signing-cert-file / --cluster-signing-key-file; without both the controller does nothing. */
  certFile?: string;
  keyFile?: string;
}

export class CSRSigningController implements Controller {
  readonly name = 'csrsigning';
  private readonly queue = new WorkQueue();

  constructor(private readonly opts: CSRSigningOptions = {}) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    if (!this.opts.certFile || !this.opts.keyFile) {
      ctx.log.info('no --cluster-signing-cert-file/--cluster-signing-key-file: not starting the kubernetes.io/kube-apiserver-client signer');
      return;
    }
    const ca = await loadCertificateAuthority(this.opts.certFile, this.opts.keyFile);
    const informer = ctx.informers.for<CertificateSigningRequest>(CSR_PATH);
    const enqueue = (csr: CertificateSigningRequest): void => { if (needsSigning(csr)) this.queue.add(csr.metadata!.name!); };
    informer.on('add', enqueue);
    informer.on('update', enqueue);
    await informer.start(ctx.signal);
    await runWorkers(this.queue, workers, async (name) => {
      const csr = informer.get(name);
      if (!csr || !needsSigning(csr)) return;
      let outcome: SignOutcome;
      try {
        outcome = await signRequest(ca, csr);
      } catch (e) {
        // A request that does not parse passed validation only if the object is legacy; retried like upstream.
        throw new Error(`unable to sign csr "${name}": ${(e as Error).message}`);
      }
      const status = { ...(csr.status ?? {}) };
      if ('failure' in outcome) {
        const failed: CertificateSigningRequestCondition = {
          type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: outcome.failure, lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        };
        status.conditions = [...(status.conditions ?? []), failed];
        ctx.log.info('refusing to sign', { csr: name, reason: outcome.failure });
      } else {
        status.certificate = Buffer.from(outcome.certificate).toString('base64');
        ctx.log.info('signed certificate', { csr: name, user: csr.spec?.username });
      }
      await ctx.client.update(`${CSR_PATH}/${name}/status`, { ...csr, apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', status });
    }, ctx.signal, ctx.log);
  }
}
