// Label selectors: the string syntax of `-l` (equality and set-based), parsed once and
// matched many times, with upstream's parse errors.
import { badRequest } from './errors.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

export type Operator = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';
export interface Requirement { key: string; operator: Operator; values: string[] }
export type Selector = Requirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, input: string): void {
  if (!KEY.test(key) || key.length > 316) throw badRequest(`unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  void input;
}
function checkValue(value: string): void {
  if (!VALUE.test(value) || value.length > 63) throw badRequest(`unable to parse requirement: values[0]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(input: string | undefined): Selector {
  if (!input || !input.trim()) return [];
  const reqs: Requirement[] = [];
  for (const raw of splitTerms(input)) {
    const term = raw.trim();
    if (!term) throw badRequest(`unable to parse requirement: found '', expected: identifier`);
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^!\s*(\S+)$/))) {
      checkKey(m[1], input);
      reqs.push({ key: m[1], operator: '!', values: [] });
    } else if ((m = term.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      checkKey(m[1], input);
      const values = m[3].split(',').map((v) => v.trim());
      values.forEach(checkValue);
      reqs.push({ key: m[1], operator: m[2] as Operator, values });
    } else if ((m = term.match(/^([^=!<>\s]+)\s*(==|!=|=|>|<)\s*(.*)$/))) {
      checkKey(m[1], input);
      const value = m[3].trim();
      const op = m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : (m[2] as Operator);
      if (op === 'gt' || op === 'lt') {
        if (!/^-?\d+$/.test(value)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
      } else checkValue(value);
      reqs.push({ key: m[1], operator: op, values: [value] });
    } else if ((m = term.match(/^(\S+)$/))) {
      checkKey(m[1], input);
      reqs.push({ key: m[1], operator: 'exists', values: [] });
    } else {
      throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return reqs;
}

export function matchesLabels(selector: Selector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels![r.key] : undefined;
    switch (r.operator) {
      case '=': case '==': case 'in': if (!has || !r.values.includes(v!)) return false; break;
      case '!=': case 'notin': if (has && r.values.includes(v!)) return false; break;
      case 'exists': if (!has) return false; break;
      case '!': if (has) return false; break;
      case 'gt': if (!has || !(Number(v) > Number(r.values[0]))) return false; break;
      case 'lt': if (!has || !(Number(v) < Number(r.values[0]))) return false; break;
    }
  }
  return true;
}

/** A metav1.LabelSelector as a Selector; an empty selector matches everything, as upstream. */
export function fromLabelSelector(sel: LabelSelector | undefined): Selector {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key, operator: '=', values: [value] });
  for (const e of sel?.matchExpressions ?? []) {
    const operator = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as const)[e.operator as 'In'];
    if (!operator) throw badRequest(`"${e.operator}" is not a valid label selector operator`);
    reqs.push({ key: e.key, operator, values: e.values ?? [] });
  }
  return reqs;
}
