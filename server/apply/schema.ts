// How server-side apply sees each part of an object. Upstream converts the OpenAPI schema into
// structured-merge-diff types (kube-openapi's schemaconv); these shapes are the same facts, read
// from the type graph and the patch metadata table.
import { definition, definitionNameFor, type FieldType } from '../../openapi/type-graph.js';
import { definitionMapType, fieldPatchMetadata, type FieldPatchMetadata } from '../../openapi/patch-metadata.js';

export interface SchemaRef { group: string; version: string; kind: string }

export type Shape =
  /** A scalar, or anything owned and replaced as a whole (atomic lists, maps and structs). */
  | { readonly kind: 'leaf' }
  /** A struct with named fields, each owned on its own (one shape per definition, caching its fields). */
  | { readonly kind: 'struct'; readonly def: string; readonly fields: Map<string, Shape | null> }
  /** A granular map: each key owned on its own. */
  | { readonly kind: 'map'; readonly values: Shape }
  /** x-kubernetes-list-type=map: items identified by their key fields (`k:{…}`), in name order. */
  | { readonly kind: 'assoc'; readonly keys: readonly string[]; readonly keyJson: readonly string[]; readonly items: Shape; readonly defaults?: Readonly<Record<string, unknown>> }
  /** x-kubernetes-list-type=set: scalar items identified by value (`v:…`). */
  | { readonly kind: 'set'; readonly items: Shape }
  /** No schema: upstream's deduced type (objects are granular maps, lists and scalars leaves). */
  | { readonly kind: 'deduced' }
  /** Never tracked, merged or compared (metadata.managedFields itself). */
  | { readonly kind: 'ignored' };

export type ListShape = Extract<Shape, { kind: 'assoc' | 'set' }>;

export const LEAF: Shape = { kind: 'leaf' };
export const DEDUCED: Shape = { kind: 'deduced' };
const DEDUCED_MAP: Shape = { kind: 'map', values: DEDUCED };
const IGNORED: Shape = { kind: 'ignored' };

export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
/** The root of kinds the type graph does not know (custom resources): typed metadata, the rest deduced. */
const CUSTOM_ROOT = '#custom';

/**
 * Key fields upstream's schema gives a default, so an item may omit them (the OpenAPI served to
 * clients drops `default`, but the schema structured-merge-diff uses has them).
 */
const KEY_DEFAULTS: Record<string, Record<string, unknown>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
};

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** An own property, never one inherited from Object.prototype ("constructor" is a valid label key). */
export function own(o: Record<string, unknown>, k: string): unknown {
  return hasOwn(o, k) ? o[k] : undefined;
}

const structs = new Map<string, Shape>();

function structShape(def: string): Shape {
  let s = structs.get(def);
  if (!s) structs.set(def, (s = { kind: 'struct', def, fields: new Map() }));
  return s;
}

export function rootShape(schema: SchemaRef): Shape {
  return structShape(definitionNameFor(schema.group, schema.version, schema.kind) ?? CUSTOM_ROOT);
}

/** The shape a walker uses for `value`: a deduced part takes its shape from the value itself. */
export function resolve(shape: Shape, value: unknown): Shape {
  if (shape.kind !== 'deduced') return shape;
  return isObject(value) ? DEDUCED_MAP : LEAF;
}

/** The shape of a struct's field; undefined when the struct does not declare it. */
export function structField(def: string, name: string): Shape | undefined {
  return fieldOf(structShape(def) as Extract<Shape, { kind: 'struct' }>, name);
}

function fieldOf(shape: Extract<Shape, { kind: 'struct' }>, name: string): Shape | undefined {
  let f = shape.fields.get(name);
  if (f === undefined) shape.fields.set(name, (f = computeField(shape.def, name)));
  return f ?? undefined;
}

function computeField(def: string, name: string): Shape | null {
  if (def === CUSTOM_ROOT) {
    if (name === 'metadata') return structShape(OBJECT_META);
    return name === 'apiVersion' || name === 'kind' ? LEAF : null;
  }
  if (def === OBJECT_META && name === 'managedFields') return IGNORED;
  const props = definition(def)?.properties;
  // Own properties only: a field named `constructor` is unknown, not Object.prototype's.
  const prop = props && Object.hasOwn(props, name) ? props[name] : undefined;
  return prop ? shapeOf(prop.type, fieldPatchMetadata(def, name)) : null;
}

const NO_META: FieldPatchMetadata = {};

/** schemaconv's rules: list-type first, else a merge patch strategy makes a keyed list or a set, else atomic. */
function shapeOf(t: FieldType, meta: FieldPatchMetadata): Shape {
  switch (t.kind) {
    case 'ref': {
      const def = definition(t.ref);
      if (!def || def.type !== 'object' || def.open) return LEAF;
      return (meta.mapType ?? definitionMapType(t.ref)) === 'atomic' ? LEAF : structShape(t.ref);
    }
    case 'map':
      return meta.mapType === 'atomic' ? LEAF : { kind: 'map', values: shapeOf(t.values, NO_META) };
    case 'array': {
      const items = shapeOf(t.items, NO_META);
      const itemDef = t.items.kind === 'ref' ? t.items.ref : '';
      let keys: string[] | undefined;
      if (meta.listType === 'map') keys = meta.listMapKeys ?? [];
      else if (meta.listType === 'set') keys = [];
      else if (!meta.listType && meta.patchStrategy?.split(',').includes('merge')) keys = meta.patchMergeKey ? [meta.patchMergeKey] : [];
      if (!keys) return LEAF;
      if (keys.length === 0) return { kind: 'set', items };
      // Key fields are compared in name order, as upstream's sorted key field list.
      const sorted = [...keys].sort();
      return { kind: 'assoc', keys: sorted, keyJson: sorted.map(goJson), items, defaults: KEY_DEFAULTS[itemDef] };
    }
    default:
      return LEAF;
  }
}

/** The shape of `key` inside a struct or map, and whether it is a declared struct field. */
export function childShape(shape: Shape, key: string): { shape: Shape; declared: boolean } {
  if (shape.kind === 'struct') {
    const f = fieldOf(shape, key);
    return f ? { shape: f, declared: true } : { shape: DEDUCED, declared: false };
  }
  return { shape: shape.kind === 'map' ? shape.values : DEDUCED, declared: false };
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/** The JSON of a value inside a path element, as Go's encoder writes it (<, > and & escaped too). */
export function goJson(v: unknown): string {
  // Path elements are built for every list item on every write: plain strings and numbers skip the encoder.
  if (typeof v === 'string' && !NEEDS_ESCAPE.test(v)) return `"${v}"`;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Why a list item has no path element (upstream's wording), thrown by itemElement. */
export class ItemError extends Error {}

/** The path element of a list item: `k:{"name":"x"}` for keyed lists, `v:"x"` for sets. */
export function itemElement(shape: ListShape, item: unknown): string {
  if (shape.kind === 'set') {
    if (typeof item === 'object' && item !== null) {
      throw new ItemError(`associative list without keys has an element that's a ${Array.isArray(item) ? 'list' : 'map'} type`);
    }
    return `v:${goJson(item)}`;
  }
  if (!isObject(item)) throw new ItemError('associative list with keys may not have non-map elements');
  let out = 'k:{';
  for (let i = 0; i < shape.keys.length; i++) {
    const k = shape.keys[i];
    let v = own(item, k);
    if (v === undefined) v = shape.defaults?.[k];
    if (v === undefined) throw new ItemError(`associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`);
    out += `${i ? ',' : ''}${shape.keyJson[i]}:${goJson(v)}`;
  }
  return `${out}}`;
}
