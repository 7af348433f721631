// The CSR signing controller (upstream's csrsigning, kubernetes.io/kube-apiserver-client signer
// only): issues client certificates for the API server from the cluster CA to requests that are
// approved and neither denied nor failed, writing status.certificate through the status
// subresource. A request the signer will not honour gets a Failed condition instead.
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';
import type { SignOutcome } from './csr-signer.js';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

const hasCondition = (csr: CertificateSigningRequest, type: string) => (csr.status?.conditions ?? []).some((c) => c.type === type);

/** Approved, not denied or failed, not yet issued (upstream's handle() guard). */
export function needsSigning(csr: CertificateSigningRequest): boolean {
  return csr.spec?.signerName === KUBE_APISERVER_CLIENT_SIGNER && hasCondition(csr, 'Approved') && !hasCondition(csr, 'Denied')
    && !hasCondition(csr, 'Failed') && !csr.status?.certificate;
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
    const { certFile, keyFile } = this.opts;
    // The signer and the CA are loaded with the first request to sign (see csr-signer.ts).
    let signer: Promise<{ sign: (csr: CertificateSigningRequest) => Promise<SignOutcome> }> | undefined;
    const loadSigner = () => (signer ??= import('./csr-signer.js').then(async (m) => {
      const ca = await m.loadCertificateAuthority(certFile, keyFile);
      return { sign: (csr: CertificateSigningRequest) => m.signRequest(ca, csr) };
    }));
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
        outcome = await (await loadSigner()).sign(csr);
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
