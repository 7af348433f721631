// Upstream's small validators for network-ish strings (k8s.io/apimachinery/pkg/util/validation
// and friends): IPs and CIDRs, port names and numbers, wildcard hosts, domain-prefixed paths and
// path segment names — each with upstream's message text.
import { isIP } from 'node:net';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain } from '../../apimachinery/validation.js';

const PORT_NAME_CHARSET = /^[-a-z0-9]+$/;
const PORT_NAME_ONE_LETTER = /[a-z]/;

/** validation.IsValidPortName (IANA service names). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push('must be no more than 15 characters');
  if (!PORT_NAME_CHARSET.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!PORT_NAME_ONE_LETTER.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

const WILDCARD_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD = new RegExp(`^${WILDCARD_FMT}$`);

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push('must be no more than 253 characters');
  if (!WILDCARD.test(value)) {
    errs.push(`a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '${WILDCARD_FMT}')`);
  }
  return errs;
}

/** path.IsValidPathSegmentName: names that can be a segment of a REST path. */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsDomainPrefixedPath, e.g. an IngressClass controller "example.com/ingress". */
export function isDomainPrefixedPath(path: string, value: string): FieldError[] {
  if (value.length === 0) return [fieldErrors.required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || !host || !rest) return [fieldErrors.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const out = isDNS1123Subdomain(host).map((m) => fieldErrors.invalid(path, host, m));
  if (!HTTP_PATH.test(rest)) out.push(fieldErrors.invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`));
  return out;
}

// ---- IP addresses and CIDRs ----

/** The address as a bigint plus its bit width, or undefined when it is not an IP. */
function ipBits(ip: string): { value: bigint; bits: number } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    return { value: ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n), bits: 32 };
  }
  if (family === 6) {
    let text = ip;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
    if (v4) {
      const n = ipBits(v4[1])!.value;
      text = text.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = text.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  return undefined;
}

export interface ParsedCIDR { value: bigint; bits: number; prefix: number }

/** netutils.ParseCIDRSloppy: accepts leading zeros; the network is masked. */
export function parseCIDR(cidr: string): ParsedCIDR | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const addr = cidr.slice(0, slash).split('.').map((p) => (/^\d+$/.test(p) ? String(Number(p)) : p)).join('.');
  const ip = ipBits(addr);
  const prefixText = cidr.slice(slash + 1);
  if (!ip || !/^\d+$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > ip.bits) return undefined;
  const mask = ((1n << BigInt(ip.bits)) - 1n) ^ ((1n << BigInt(ip.bits - prefix)) - 1n);
  return { value: ip.value & mask, bits: ip.bits, prefix };
}

export function cidrContains(outer: ParsedCIDR, inner: ParsedCIDR): boolean {
  if (outer.bits !== inner.bits) return false;
  const shift = BigInt(outer.bits - outer.prefix);
  return inner.value >> shift === outer.value >> shift;
}

export function isValidCIDR(path: string, value: string): FieldError[] {
  return parseCIDR(value) ? [] : [fieldErrors.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

export function isValidIPv4Address(path: string, value: string): FieldError[] {
  return isIP(value) === 4 ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv4 address')];
}

export function isValidIPv6Address(path: string, value: string): FieldError[] {
  return isIP(value) === 6 ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv6 address')];
}

/** apivalidation.ValidateNonSpecialIP: endpoints may not point at these ranges. */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const ip = ipBits(value);
  if (!ip) return [];
  const inRange = (cidr: string) => {
    const c = parseCIDR(cidr)!;
    return cidrContains(c, { value: ip.value, bits: ip.bits, prefix: ip.bits });
  };
  const v4 = ip.bits === 32;
  if (ip.value === 0n) return [fieldErrors.invalid(path, value, `may not be unspecified (${v4 ? '0.0.0.0' : '::'})`)];
  if (inRange(v4 ? '127.0.0.0/8' : '::1/128')) return [fieldErrors.invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (inRange(v4 ? '169.254.0.0/16' : 'fe80::/10')) return [fieldErrors.invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (inRange(v4 ? '224.0.0.0/24' : 'ff02::/16')) return [fieldErrors.invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

export const isIPAddress = (value: string) => isIP(value) !== 0;
