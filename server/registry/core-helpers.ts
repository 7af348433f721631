// Helpers the core/v1 registry files share: the typing bridge between kubernetes-types
// interfaces and KubeObject, field-error shapes upstream prints that apimachinery/validation.ts
// lacks, and the small validators (ports, IPs, qualified names) many kinds reuse.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { isIP } from 'node:net';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from '../../apimachinery/validation.js';

export { erase, type Stored } from './types.js';

/** field.Path's Key(): `data[tls.crt]`. */
export const keyPath = (path: string, key: string) => `${path}[${key}]`;
export const child = (path: string, name: string) => (path ? `${path}.${name}` : name);

/** Go prints non-string bad values with %v/%#v; JSON is the closest readable form. */
function goValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** field.Invalid for any value, including objects and nil pointers. */
export const invalidValue = (field: string, value: unknown, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, detail: `Invalid value: ${goValue(value)}: ${detail}` });

/** field.Invalid whose value is a fmt.Stringer (resource.Quantity): printed without quotes. */
export const invalidStringer = (field: string, value: string, detail: string): FieldError =>
  ({ type: 'FieldValueInvalid', field, detail: `Invalid value: ${value}: ${detail}` });

export const notFoundValue = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueNotFound', field, detail: `Not found: ${goValue(value)}` });

export const duplicateValue = (field: string, value: unknown): FieldError =>
  ({ type: 'FieldValueDuplicate', field, detail: `Duplicate value: ${goValue(value)}` });

export const notSupportedValue = (field: string, value: unknown, supported: string[]): FieldError =>
  ({ type: 'FieldValueNotSupported', field, detail: `Unsupported value: ${goValue(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` });

/** ValidateImmutableField. */
export function immutable(value: unknown, old: unknown, field: string): FieldError[] {
  return deepEqual(value, old) ? [] : [invalidValue(field, value, 'field is immutable')];
}

/** apiequality.Semantic.DeepEqual for JSON data: absent, null, empty list and empty map are not told apart. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v as object).length === 0;
}

export const labelErrors = (value: string, field: string): FieldError[] => isDNS1123Label(value).map((m) => fieldErrors.invalid(field, value, m));
export const subdomainErrors = (value: string, field: string): FieldError[] => isDNS1123Subdomain(value).map((m) => fieldErrors.invalid(field, value, m));
export const qualifiedNameErrors = (value: string, field: string): FieldError[] => isQualifiedName(value).map((m) => fieldErrors.invalid(field, value, m));

/** validation.IsValidPortNum. */
export const portNumErrors = (port: number): string[] => (port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive']);

/** validation.IsValidPortName (IANA_SVC_NAME). */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidatePortNumOrName for an IntOrString. */
export function portNumOrNameErrors(port: number | string | undefined, field: string): FieldError[] {
  if (typeof port === 'string') return portNameErrors(port).map((m) => fieldErrors.invalid(field, port, m));
  return portNumErrors(port ?? 0).map((m) => fieldErrors.invalid(field, port ?? 0, m));
}

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export function protocolErrors(protocol: string | undefined, field: string): FieldError[] {
  if (!protocol) return [fieldErrors.required(field)];
  return PROTOCOLS.includes(protocol) ? [] : [fieldErrors.notSupported(field, protocol, PROTOCOLS)];
}

/** validation.IsValidIPForLegacyField. */
export function ipErrors(value: string, field: string): FieldError[] {
  return isIP(value) ? [] : [fieldErrors.invalid(field, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/** ValidateNonSpecialIP / ValidateEndpointIP: addresses that make no sense as service targets. */
export function specialIPErrors(value: string, field: string, unspecifiedText = `may not be unspecified (${value})`): FieldError[] {
  const family = isIP(value);
  if (!family) return [fieldErrors.invalid(field, value, 'must be a valid IP address')];
  const errs: string[] = [];
  if (family === 4) {
    const [a, b, c] = value.split('.').map(Number);
    if (value.split('.').every((p) => Number(p) === 0)) errs.push(unspecifiedText);
    if (a === 127) errs.push('may not be in the loopback range (127.0.0.0/8, ::1/128)');
    if (a === 169 && b === 254) errs.push('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
    if (a === 224 && b === 0 && c === 0) errs.push('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  } else {
    const v = value.toLowerCase();
    if (/^[0:]+$/.test(v)) errs.push(unspecifiedText);
    if (v === '::1' || v === '0:0:0:0:0:0:0:1') errs.push('may not be in the loopback range (127.0.0.0/8, ::1/128)');
    if (/^fe[89ab]/.test(v)) errs.push('may not be in the link-local range (169.254.0.0/16, fe80::/10)');
    if (/^ff[0-9a-f]2:/.test(v)) errs.push('may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
  }
  return errs.map((m) => fieldErrors.invalid(field, value, m));
}

/** labels.FormatLabels: sorted `k=v` pairs, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/** The AGE-style column description every table shares, paraphrasing upstream's swagger text. */
export const col = (name: string, description: string, extra: { type?: 'string' | 'integer' | 'number' | 'boolean' | 'date'; priority?: number } = {}) =>
  ({ name, type: extra.type ?? 'string', description, ...(extra.priority ? { priority: extra.priority } : {}) }) as const;

/** IsNativeResource: no domain or a *kubernetes.io/ domain. */
export const isNativeResource = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
export const isHugePageResource = (name: string) => name.startsWith('hugepages-');
/** Only native resources other than hugepages may be overcommitted (requests < limits). */
export const isOvercommitAllowed = (name: string) => isNativeResource(name) && !isHugePageResource(name);

/**
 * Upstream's status strategies reset the spec from the stored object but keep the request's
 * metadata: a status write may change labels and annotations (conformance checks that an
 * annotation patched through /status sticks).
 */
export function keepRequestLabelsAndAnnotations(obj: { metadata?: ObjectMeta }, next: { metadata?: ObjectMeta }): void {
  const meta = (obj.metadata ??= {});
  const { labels, annotations } = next.metadata ?? {};
  if (labels) meta.labels = labels;
  else delete meta.labels;
  if (annotations) meta.annotations = annotations;
  else delete meta.annotations;
}
