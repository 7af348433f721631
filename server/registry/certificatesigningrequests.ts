// certificates.k8s.io/v1 CertificateSigningRequest: cluster-scoped requests for a certificate
// from a named signer. The main resource may change only metadata once created; approvers write
// Approved/Denied conditions through `approval`, signers the certificate through `status`
// (upstream's csrStrategy, csrStatusStrategy, csrApprovalStrategy). The requester's identity in
// spec.username/uid/groups/extra is filled by the CSRRequester admission plugin.
import type { CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age, humanDuration } from './printing.js';
import { APPROVED, DENIED, FAILED, validateCreate, validateUpdate, type CSR } from './csr-validation.js';
import { loadCertificateRequestParser } from './csr-request.js';

export const CERTIFICATES_GROUP = 'certificates.k8s.io';

/** upstream's ValidateCertificateRequestName accepts any name; only what a URL path segment cannot hold is refused. */
function validatePathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const out: string[] = [];
  for (const c of ['/', '%']) if (name.includes(c)) out.push(`may not contain '${c}'`);
  return out;
}

/** v1 SetDefaults_CertificateSigningRequestCondition: a condition without a status is "True". */
function defaults(obj: CSR): void {
  for (const c of obj.status?.conditions ?? []) (c as { status: string }).status ||= 'True';
}

/**
 * Stamps lastUpdateTime on conditions without one, and lastTransitionTime from the stored
 * condition of the same type and status, or now (upstream's populateConditionTimestamps).
 */
function populateConditionTimestamps(obj: CSR, old: CSR): void {
  const now = nowTimestamp();
  for (const c of (obj.status?.conditions ?? []) as CertificateSigningRequestCondition[]) {
    const m = c as { lastUpdateTime?: string; lastTransitionTime?: string };
    m.lastUpdateTime ||= now;
    if (!m.lastTransitionTime) {
      const same = old.status?.conditions?.find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime);
      m.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
}

/** The CONDITION cell: Denied over Approved over Pending, then Failed and Issued (upstream's extractCSRStatus). */
export function csrCondition(obj: CSR): string {
  const types = new Set((obj.status?.conditions ?? []).map((c) => c.type));
  let out = types.has(DENIED) ? 'Denied' : types.has(APPROVED) ? 'Approved' : 'Pending';
  if (types.has(FAILED)) out += ',Failed';
  if (obj.status?.certificate) out += ',Issued';
  return out;
}

const certificatesigningrequests: ResourceDefinition<CSR> = {
  group: CERTIFICATES_GROUP,
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  namespaced: false,
  shortNames: ['csr'],
  nameValidator: validatePathSegmentName,
  subresources: { status: true, approval: true },
  loadForWrites: loadCertificateRequestParser,
  fieldSelectors: { 'spec.signerName': (obj) => obj.spec?.signerName ?? '' },
  strategy: {
    defaults,
    prepareForCreate(obj) {
      const spec = (obj.spec ??= {} as CSR['spec']) as { username?: string; uid?: string; groups?: string[]; extra?: unknown };
      // Who asks is the server's to say, never the client's.
      delete spec.username;
      delete spec.uid;
      delete spec.groups;
      delete spec.extra;
      // Users cannot create pre-approved (or pre-issued) requests.
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      // Immutable but for metadata: the subresources own everything else.
      obj.spec = old.spec;
      if (old.status) obj.status = old.status;
      else delete obj.status;
    },
    validate: validateCreate,
    validateUpdate: (obj, old) => validateUpdate(obj, old),
    prepareForStatusUpdate(obj, _next, old) {
      populateConditionTimestamps(obj, old);
    },
    validateStatusUpdate: (obj, old) => validateUpdate(obj, old, { allowSettingCertificate: true }),
    prepareForApprovalUpdate(obj, next, old) {
      // Only the conditions come from the request.
      obj.status = { ...(old.status ?? {}), conditions: (next.status as CSR['status'])?.conditions };
      if (!obj.status.conditions) delete obj.status.conditions;
      populateConditionTimestamps(obj, old);
    },
    validateApprovalUpdate: (obj, old) => validateUpdate(obj, old, { allowSettingApprovalConditions: true }),
  },
  table: {
    columns: [
      NAME_COLUMN,
      AGE_COLUMN,
      { name: 'SignerName', type: 'string', description: 'Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it\'s a kubelet client certificate, it is assigned\n    "kubernetes.io/kube-apiserver-client-kubelet".\n 2. If it\'s a kubelet serving certificate, it is assigned\n    "kubernetes.io/kubelet-serving".\n 3. Otherwise, it is assigned "kubernetes.io/legacy-unknown".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.' },
      { name: 'Requestor', type: 'string', description: 'Name of the user which made this request.' },
      { name: 'RequestedDuration', type: 'string', description: 'expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.' },
      { name: 'Condition', type: 'string', description: 'Current condition of the signing request.' },
    ],
    row: (obj) => [
      obj.metadata?.name ?? '',
      age(obj.metadata?.creationTimestamp),
      obj.spec?.signerName || '<none>',
      obj.spec?.username ?? '',
      obj.spec?.expirationSeconds !== undefined ? humanDuration(obj.spec.expirationSeconds * 1000) : '<none>',
      csrCondition(obj),
    ],
  },
};

export default certificatesigningrequests;
