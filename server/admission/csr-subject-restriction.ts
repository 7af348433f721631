// upstream's CertificateSubjectRestriction: a client certificate for the API server naming the
// system:masters group would bypass authorization entirely, so such requests are refused at
// creation, whoever might later approve them.
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { forbidden } from '../../apimachinery/errors.js';
import { parseCertificateRequest } from '../registry/csr-request.js';
import type { AdmissionPlugin } from './types.js';

export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

export const csrSubjectRestriction: AdmissionPlugin = {
  name: 'CertificateSubjectRestriction',
  validate(req) {
    if (req.operation !== 'CREATE' || req.subresource || req.def.group !== 'certificates.k8s.io' || req.def.plural !== 'certificatesigningrequests') return;
    const csr = req.object as CertificateSigningRequest | undefined;
    if (csr?.spec?.signerName !== KUBE_APISERVER_CLIENT_SIGNER) return;
    const gr = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };
    let organizations: string[];
    try {
      organizations = parseCertificateRequest(csr.spec.request).subjectName.getField('O');
    } catch (e) {
      throw forbidden(gr, req.name, `failed to parse CSR: ${(e as Error).message}`);
    }
    if (organizations.includes('system:masters')) {
      throw forbidden(gr, req.name, `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with system:masters group is not allowed`);
    }
  },
};
