// upstream's certificates validation (ValidateCertificateSigningRequest{Create,Update,StatusUpdate,
// ApprovalUpdate}): each write path may touch only its own part of the object, and problems
// already present in the stored object are tolerated for compatibility.
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from 'kubernetes-types/certificates/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Label, isDNS1123Subdomain } from '../../apimachinery/validation.js';
import type { Stored } from './types.js';
import { parseCertificateRequest } from './csr-request.js';

export type CSR = Stored<CertificateSigningRequest>;

export const APPROVED = 'Approved';
export const DENIED = 'Denied';
export const FAILED = 'Failed';
/** Kept readable by old clients; v1 refuses to create it. */
const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
/** Condition types that may only be "True". */
const TRUE_ONLY = new Set([APPROVED, DENIED, FAILED]);
const ALL_STATUSES = ['False', 'True', 'Unknown'];

/** upstream's allValidUsages, sorted as its sets.List() prints them. */
export const KNOWN_USAGES = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only',
  'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement',
  'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
];

/** Which write path is validating (upstream's certificateValidationOptions). */
export interface WritePath {
  allowSettingApprovalConditions?: boolean;
  allowSettingCertificate?: boolean;
}

interface Options extends WritePath {
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowUnknownUsages: boolean;
  allowDuplicateUsages: boolean;
}

const conditionsOf = (csr: CSR | undefined): CertificateSigningRequestCondition[] => csr?.status?.conditions ?? [];
const typesOf = (csr: CSR | undefined) => conditionsOf(csr).map((c) => c.type);

/** What the stored object already gets away with, it may keep (upstream's getValidationOptions). */
function optionsFor(csr: CSR, old: CSR | undefined, path: WritePath): Options {
  const oldTypes = typesOf(old);
  const oldUsages = old?.spec?.usages ?? [];
  return {
    ...path,
    allowBothApprovedAndDenied: oldTypes.includes(APPROVED) && oldTypes.includes(DENIED),
    allowLegacySignerName: old?.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: new Set(oldTypes).size !== oldTypes.length,
    allowEmptyConditionType: oldTypes.some((t) => !t),
    allowArbitraryCertificate: !!old && ((csr.status?.certificate ?? '') === (old.status?.certificate ?? '') || certificateError(old.status?.certificate) !== undefined),
    allowUnknownUsages: oldUsages.some((u) => !KNOWN_USAGES.includes(u)),
    allowDuplicateUsages: new Set(oldUsages).size !== oldUsages.length,
  };
}

export function validateCreate(csr: CSR): FieldError[] {
  return validateCSR(csr, optionsFor(csr, undefined, {}));
}

export function validateUpdate(csr: CSR, old: CSR, path: WritePath = {}): FieldError[] {
  const opts = optionsFor(csr, old, path);
  const errs = validateCSR(csr, opts);
  const count = (o: CSR, t: string) => conditionsOf(o).filter((c) => c.type === t);
  for (const t of [APPROVED, DENIED, FAILED]) {
    if (count(csr, t).length < count(old, t).length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const t of [APPROVED, DENIED]) {
      const before = count(old, t);
      const after = count(csr, t);
      if (after.length > before.length) errs.push(fieldErrors.forbidden('status.conditions', `updates may not add a condition of type "${t}"`));
      else if (after.length === before.length && !isDeepStrictEqual(before, after)) {
        errs.push(fieldErrors.forbidden('status.conditions', `updates may not modify a condition of type "${t}"`));
      }
    }
  }
  const cert = csr.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  if (cert !== oldCert) {
    if (!opts.allowSettingCertificate) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert) errs.push(fieldErrors.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

function validateCSR(csr: CSR, opts: Options): FieldError[] {
  const spec = csr.spec ?? ({} as CSR['spec']);
  const errs: FieldError[] = [];
  try {
    parseCertificateRequest(spec.request);
  } catch (e) {
    errs.push(fieldErrors.invalid('spec.request', spec.request ?? '', (e as Error).message));
  }
  const usages = spec.usages ?? [];
  if (!usages.length) errs.push(fieldErrors.required('spec.usages'));
  if (!opts.allowUnknownUsages) {
    usages.forEach((u, i) => { if (!KNOWN_USAGES.includes(u)) errs.push(fieldErrors.notSupported(`spec.usages[${i}]`, u, KNOWN_USAGES)); });
  }
  if (!opts.allowDuplicateUsages) {
    usages.forEach((u, i) => { if (usages.indexOf(u) !== i) errs.push(fieldErrors.duplicate(`spec.usages[${i}]`, u)); });
  }
  if (!opts.allowLegacySignerName && spec.signerName === LEGACY_UNKNOWN_SIGNER) {
    errs.push(fieldErrors.invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName('spec.signerName', spec.signerName ?? ''));
  }
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600) {
    errs.push(fieldErrors.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, opts));
  if (!opts.allowArbitraryCertificate) {
    const err = certificateError(csr.status?.certificate);
    if (err) errs.push({ type: 'FieldValueInvalid', field: 'status.certificate', detail: `Invalid value: "<certificate data>": ${err}` });
  }
  return errs;
}

function validateConditions(csr: CSR, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(csr).forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    if (!opts.allowEmptyConditionType && !c.type) errs.push(fieldErrors.required(`${at}.type`));
    const allowed = TRUE_ONLY.has(c.type) ? ['True'] : ALL_STATUSES;
    if (!c.status) errs.push(fieldErrors.required(`${at}.status`));
    else if (!allowed.includes(c.status)) errs.push(fieldErrors.notSupported(`${at}.status`, c.status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (c.type === APPROVED) {
        approved = true;
        if (denied) errs.push(fieldErrors.invalid(`${at}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === DENIED) {
        denied = true;
        if (approved) errs.push(fieldErrors.invalid(`${at}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(fieldErrors.duplicate(`${at}.type`, c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

/** status.certificate: empty, or only CERTIFICATE PEM blocks, each parsing (upstream's validateCertificate). */
function certificateError(certificate: string | undefined): string | undefined {
  const text = Buffer.from(certificate ?? '', 'base64').toString('latin1');
  if (!text) return undefined;
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g)];
  if (!blocks.length) return 'must contain at least one CERTIFICATE PEM block';
  for (const [, type, body] of blocks) {
    if (type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${type}"`;
    if (/^[\w-]+:/m.test(body)) return 'no PEM block headers are permitted';
    try {
      new X509Certificate(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
    } catch {
      return 'x509: malformed certificate';
    }
  }
  return undefined;
}

/** upstream's ValidateSignerName: `<domain with a dot>/<path of DNS-1123 subdomains>`, at most 571 characters. */
export function validateSignerName(field: string, signerName: string): FieldError[] {
  if (!signerName) return [fieldErrors.required(field)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [fieldErrors.invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments;
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push(fieldErrors.tooLong(field, 253));
  const labels = domain.split('.');
  for (const label of labels) {
    const bad = isDNS1123Label(label);
    if (bad.length) {
      for (const m of bad) errs.push(fieldErrors.invalid(field, domain, `validating label "${label}": ${m}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(fieldErrors.invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  for (const label of path.split('.')) {
    const bad = isDNS1123Subdomain(label);
    if (bad.length) {
      for (const m of bad) errs.push(fieldErrors.invalid(field, path, `validating label "${label}": ${m}`));
      break;
    }
  }
  if (signerName.length > 253 + 253 + 63 + 2) errs.push(fieldErrors.tooLong(field, 571));
  return errs;
}
