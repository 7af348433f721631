// Records who asked for a certificate: spec.username, uid, groups and extra of a new
// CertificateSigningRequest come from the authenticated requester, whatever the client sent
// (upstream's csrStrategy.PrepareForCreate does this from the request context; here the
// requester reaches the write through admission). Approvers and signers trust these fields.
import type { CertificateSigningRequestSpec } from 'kubernetes-types/certificates/v1.js';
import type { Mutable } from '../../apimachinery/mutable.js';
import type { AdmissionPlugin } from './types.js';

export const csrRequester: AdmissionPlugin = {
  name: 'CertificateSigningRequestRequester',
  admit(req) {
    if (req.operation !== 'CREATE' || req.def.group !== 'certificates.k8s.io' || req.def.plural !== 'certificatesigningrequests' || req.subresource) return;
    const obj = req.object;
    if (!obj) return;
    const spec = (obj.spec ??= {}) as Mutable<CertificateSigningRequestSpec>;
    delete spec.username;
    delete spec.uid;
    delete spec.groups;
    delete spec.extra;
    const user = req.user;
    if (!user) return;
    if (user.name) spec.username = user.name;
    if (user.uid) spec.uid = user.uid;
    if (user.groups.length) spec.groups = [...user.groups];
    if (user.extra && Object.keys(user.extra).length) spec.extra = structuredClone(user.extra);
  },
};
