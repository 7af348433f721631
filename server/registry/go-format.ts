// Upstream's field errors print the bad value with Go's %#v when it is not a plain scalar
// (field.Error.ErrorBody), so clients see e.g. `map[string]string{"app":"x"}`. These helpers
// render the few shapes the workload validators report in that same form.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';

/** Go's %q of a string; JSON quoting agrees for everything but exotic control characters. */
export const goQuote = (s: string) => JSON.stringify(s);

const goStringSlice = (values: string[] | undefined) =>
  values === undefined ? '[]string(nil)' : `[]string{${values.map(goQuote).join(', ')}}`;

/** %#v of a map[string]string: keys sorted, as Go's fmt prints maps. */
export function goStringMap(m: Record<string, string> | undefined | null): string {
  if (m === undefined || m === null) return 'map[string]string(nil)';
  const keys = Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(m[k] ?? '')}`).join(', ')}}`;
}

/** %#v of a metav1.LabelSelector (pointers are dereferenced by ErrorBody; nil prints "null"). */
export function goLabelSelector(sel: LabelSelector | undefined | null): string {
  if (!sel) return 'null';
  const exprs = sel.matchExpressions === undefined
    ? '[]v1.LabelSelectorRequirement(nil)'
    : `[]v1.LabelSelectorRequirement{${sel.matchExpressions
      .map((e) => `v1.LabelSelectorRequirement{Key:${goQuote(e.key)}, Operator:${goQuote(e.operator)}, Values:${goStringSlice(e.values)}}`)
      .join(', ')}}`;
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** %#v of an intstr.IntOrString (its String method has a pointer receiver, so fmt dumps the struct). */
export function goIntOrString(v: number | string | undefined): string {
  if (typeof v === 'string') return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`;
  return `intstr.IntOrString{Type:0, IntVal:${v ?? 0}, StrVal:""}`;
}

/** A FieldValueInvalid whose value is already rendered (Go syntax, not JSON). */
export function invalidRaw(field: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, detail: `Invalid value: ${rendered}${detail ? `: ${detail}` : ''}` };
}

/** A FieldValueNotSupported whose value is already rendered. */
export function notSupportedRaw(field: string, rendered: string, supported: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, detail: `Unsupported value: ${rendered}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}` };
}

/** FieldValueTooMany as upstream words it: "must have at most N items". */
export function tooMany(field: string, actual: number, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, detail: `Too many: ${actual}: must have at most ${max} items` };
}

/**
 * Renders any JSON value for an "Invalid value" where upstream would dump a Go struct we do not
 * model field by field; the JSON form carries the same information.
 */
export function goValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}
