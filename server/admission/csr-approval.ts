// The signer-name checks of the certificates API (upstream's CertificateApproval and
// CertificateSigning admission plugins): approving a request needs `approve`, and writing the
// issued certificate needs `sign`, on the `signers` resource of certificates.k8s.io named by
// the request's signerName, or by its `<domain>/*` wildcard.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { isDeepStrictEqual } from 'node:util';
import { forbidden } from '../../apimachinery/errors.js';
import type { Authorizer, UserInfo } from '../auth/types.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

const GROUP = 'certificates.k8s.io';
const CSRS = { group: GROUP, resource: 'certificatesigningrequests' };

/** upstream's IsAuthorizedForSignerName: the exact signer name first, then `<domain>/*`. */
export function authorizedForSignerName(authorizer: Authorizer, user: UserInfo, verb: 'approve' | 'sign', signerName: string): boolean {
  const ask = (name: string) => authorizer.authorize({
    user, verb, namespace: '', apiGroup: GROUP, resource: 'signers', subresource: '', name, resourceRequest: true, path: '',
  }).decision === 'allow';
  if (ask(signerName)) return true;
  const slash = signerName.indexOf('/');
  return slash >= 0 && ask(`${signerName.slice(0, slash)}/*`);
}

const isCSR = (req: AdmissionRequest) => req.def.group === GROUP && req.def.plural === 'certificatesigningrequests';
const failedConditions = (csr: CertificateSigningRequest | undefined) => (csr?.status?.conditions ?? []).filter((c) => c.type === 'Failed');

export function csrSignerAuthorization(authorizer: Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateApproval',
    validate(req) {
      if (!isCSR(req) || req.operation !== 'UPDATE' || !req.user) return;
      // Checked against the new object, as upstream: a request cannot be re-pointed to dodge it.
      const csr = req.object as CertificateSigningRequest | undefined;
      const old = req.oldObject as CertificateSigningRequest | undefined;
      const signerName = csr?.spec?.signerName ?? '';
      if (req.subresource === 'approval' && !authorizedForSignerName(authorizer, req.user, 'approve', signerName)) {
        throw forbidden(CSRS, req.name, `user not permitted to approve requests with signerName "${signerName}"`);
      }
      if (req.subresource === 'status') {
        // Only writes that issue a certificate or report a failure are a signer's.
        const signs = (csr?.status?.certificate ?? '') !== (old?.status?.certificate ?? '') || !isDeepStrictEqual(failedConditions(csr), failedConditions(old));
        if (signs && !authorizedForSignerName(authorizer, req.user, 'sign', signerName)) {
          throw forbidden(CSRS, req.name, `user not permitted to sign requests with signerName "${signerName}"`);
        }
      }
    },
  };
}
