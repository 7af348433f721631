// metav1.LabelSelector semantics the registry needs: validation with upstream's messages
// (unversionedvalidation.ValidateLabelSelector), matching, and the string form of
// LabelSelectorAsSelector(...).String() used by Scale status and printers.
import type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isQualifiedName, isValidLabelValue, validateLabels } from '../../apimachinery/validation.js';

export interface LabelSelectorValidationOptions {
  /** Kept for selectors that were stored before label values were validated (upstream's option). */
  allowInvalidLabelValueInSelector?: boolean;
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function validateRequirement(r: LabelSelectorRequirement, path: string, opts: LabelSelectorValidationOptions): FieldError[] {
  const out: FieldError[] = [];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) out.push(fieldErrors.required(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) out.push(fieldErrors.forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      out.push(fieldErrors.invalid(`${path}.operator`, r.operator ?? '', 'not a valid selector operator'));
  }
  for (const m of isQualifiedName(r.key ?? '')) out.push(fieldErrors.invalid(`${path}.key`, r.key ?? '', m));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => {
      for (const m of isValidLabelValue(v)) out.push(fieldErrors.invalid(`${path}.values[${i}]`, v, m));
    });
  }
  return out;
}

/** Upstream's ValidateLabelSelector: a nil selector is valid here (callers require it where needed). */
export function validateLabelSelector(sel: LabelSelector | undefined | null, path: string, opts: LabelSelectorValidationOptions = {}): FieldError[] {
  if (!sel) return [];
  const out = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((r, i) => out.push(...validateRequirement(r, `${path}.matchExpressions[${i}]`, opts)));
  return out;
}

/** Whether LabelSelectorAsSelector would succeed (it rejects what the label parser rejects). */
export function isParseableSelector(sel: LabelSelector | undefined | null): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (isQualifiedName(k).length || isValidLabelValue(v ?? '').length) return false;
  }
  for (const r of sel.matchExpressions ?? []) {
    if (!OPERATORS.has(r.operator) || isQualifiedName(r.key ?? '').length) return false;
    const n = (r.values ?? []).length;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) return false;
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) return false;
    if ((r.values ?? []).some((v) => isValidLabelValue(v).length)) return false;
  }
  return true;
}

/** True when the selector selects everything: present but without requirements. */
export function selectsEverything(sel: LabelSelector | undefined | null): boolean {
  return !!sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** labels.Selector.Matches: a nil selector matches nothing, an empty one everything. */
export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return false;
  const set = labels ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(set, k);
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(k) || set[k] !== v) return false;
  }
  for (const r of sel.matchExpressions ?? []) {
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In': if (!has(r.key) || !values.includes(set[r.key])) return false; break;
      case 'NotIn': if (has(r.key) && values.includes(set[r.key])) return false; break;
      case 'Exists': if (!has(r.key)) return false; break;
      case 'DoesNotExist': if (has(r.key)) return false; break;
      default: return false;
    }
  }
  return true;
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * LabelSelectorAsSelector(sel).String(): requirements sorted by key, values sorted; "" for a
 * nil or empty selector. This is Scale's status.selector.
 */
export function selectorString(sel: LabelSelector | undefined | null): string {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const r of sel.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort(byteOrder).join(',');
    switch (r.operator) {
      case 'In': reqs.push({ key: r.key, text: `${r.key} in (${values})` }); break;
      case 'NotIn': reqs.push({ key: r.key, text: `${r.key} notin (${values})` }); break;
      case 'Exists': reqs.push({ key: r.key, text: r.key }); break;
      case 'DoesNotExist': reqs.push({ key: r.key, text: `!${r.key}` }); break;
    }
  }
  // Go's sort.Sort is not stable; a stable sort gives the same text for distinct keys.
  return reqs.sort((a, b) => byteOrder(a.key, b.key)).map((r) => r.text).join(',');
}

/** metav1.FormatLabelSelector, as printers show selectors: "<none>" when empty, "<error>" when unparseable. */
export function formatSelector(sel: LabelSelector | undefined | null): string {
  if (!isParseableSelector(sel)) return '<error>';
  return selectorString(sel) || '<none>';
}

/** labels.FormatLabels: "k=v,k2=v2" sorted, "<none>" when empty (e.g. DaemonSet node selectors). */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort(byteOrder);
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}
