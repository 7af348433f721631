// Checks a decoded body against the kind's schema the way Go's typed decoding would: a value of
// the wrong JSON type is a 400 (never a crash further in), and unknown fields are collected for
// fieldValidation (Strict rejects them, Warn reports them).
import { definition, definitionNameFor, type FieldType } from '../../openapi/type-graph.js';
import { badRequest } from '../../apimachinery/errors.js';

export interface TypeCheckResult { unknownFields: string[] }

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return 'number';
  return typeof v;
}

class Checker {
  readonly unknownFields: string[] = [];
  constructor(private readonly kind: string, private readonly version: string) {}

  fail(value: unknown, path: string, goType: string): never {
    throw badRequest(`${this.kind} in version "${this.version}" cannot be handled as a ${this.kind}: json: cannot unmarshal ${jsonTypeOf(value)} into Go struct field ${path} of type ${goType}`);
  }

  value(v: unknown, t: FieldType, path: string): void {
    switch (t.kind) {
      case 'string': if (typeof v !== 'string') this.fail(v, path, 'string'); return;
      case 'boolean': if (typeof v !== 'boolean') this.fail(v, path, 'bool'); return;
      case 'integer': if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(v, path, 'int64'); return;
      case 'number': if (typeof v !== 'number') this.fail(v, path, 'float64'); return;
      case 'any': return;
      case 'array':
        if (!Array.isArray(v)) this.fail(v, path, 'array');
        v.forEach((item, i) => this.value(item, t.items, `${path}[${i}]`));
        return;
      case 'map':
        if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(v, path, 'map');
        for (const [k, item] of Object.entries(v)) this.value(item, t.values, `${path}[${k}]`);
        return;
      case 'ref': return this.ref(v, t.ref, path);
    }
  }

  ref(v: unknown, name: string, path: string): void {
    if (name === QUANTITY) {
      if (typeof v !== 'string' && typeof v !== 'number') this.fail(v, path, 'resource.Quantity');
      return;
    }
    if (name === INT_OR_STRING) {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) this.fail(v, path, 'intstr.IntOrString');
      return;
    }
    const def = definition(name);
    if (!def || def.type === 'any' || def.open) return;
    if (def.type !== 'object') return this.value(v, { kind: def.type }, path);
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(v, path, name.split('.').slice(-2).join('.'));
    for (const [field, fv] of Object.entries(v)) {
      // Own properties only: a body field named `constructor` or `toString` is unknown, not Object's.
      const p = Object.hasOwn(def.properties, field) ? def.properties[field] : undefined;
      const fieldPath = path ? `${path}.${field}` : field;
      if (!p) {
        this.unknownFields.push(fieldPath);
        continue;
      }
      this.value(fv, p.type, fieldPath);
    }
  }
}

/** Throws 400 on a wrongly typed value; returns the unknown field paths. Kinds without a schema pass. */
export function typeCheck(obj: Record<string, unknown>, group: string, version: string, kind: string): TypeCheckResult {
  const name = definitionNameFor(group, version, kind);
  if (!name) return { unknownFields: [] };
  const checker = new Checker(kind, version);
  checker.ref(obj, name, '');
  return { unknownFields: checker.unknownFields };
}
