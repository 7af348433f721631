// Field selectors: `key=value`, `key==value`, `key!=value`, comma-joined, matched against
// the per-kind field set the registry exposes (upstream's GetAttrs).
import { badRequest } from './errors.js';

export interface FieldRequirement { field: string; operator: '=' | '!='; value: string }

export function parseFieldSelector(input: string | undefined): FieldRequirement[] {
  if (!input || !input.trim()) return [];
  return input.split(',').map((term) => {
    const m = term.match(/^\s*([^=!]+?)\s*(==|!=|=)\s*(.*?)\s*$/);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${term}'`);
    return { field: m[1], operator: m[2] === '!=' ? '!=' : '=', value: unescapeValue(m[3]) };
  });
}

// Field selector values escape '\', ',' and '=' with a backslash.
function unescapeValue(v: string): string {
  return v.replace(/\\([\\,=])/g, '$1');
}

export function matchesFields(reqs: FieldRequirement[], fields: (name: string) => string | undefined): boolean {
  for (const r of reqs) {
    const v = fields(r.field) ?? '';
    if (r.operator === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
