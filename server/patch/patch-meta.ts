// Where the strategic merge patch learns the type at each path: upstream's LookupPatchMeta, served
// from the type graph (shapes) and the patch metadata table (strategies and merge keys).
import { definition, definitionNameFor, type FieldType } from '../../openapi/type-graph.js';
import { fieldPatchMetadata } from '../../openapi/patch-metadata.js';

/** The schema at a path; undefined when unknown or free-form (merge-patch semantics apply there). */
export type PatchSchema = FieldType | undefined;

export interface PatchMeta {
  /** `merge`, `replace`, `retainKeys`, or two of them (`merge,retainKeys`). */
  strategies: string[];
  mergeKey: string;
}

export interface Lookup { schema: PatchSchema; meta: PatchMeta }

const NO_META: PatchMeta = { strategies: [], mergeKey: '' };

/** The root schema of a kind, or undefined when the type graph does not know it. */
export function rootSchema(group: string, version: string, kind: string): PatchSchema {
  const name = definitionNameFor(group, version, kind);
  return name ? { kind: 'ref', ref: name } : undefined;
}

/** The type and patch metadata of `key` inside an object (a struct or a map) at `schema`. */
export function lookupForStruct(schema: PatchSchema, key: string): Lookup {
  if (!schema) return { schema: undefined, meta: NO_META };
  if (schema.kind === 'map') return { schema: schema.values, meta: NO_META };
  if (schema.kind !== 'ref') return { schema: undefined, meta: NO_META };
  const def = definition(schema.ref);
  // Own properties only: a patch key named `constructor` is unknown, not Object.prototype's.
  const prop = def && def.type === 'object' && !def.open && Object.hasOwn(def.properties, key) ? def.properties[key] : undefined;
  if (!prop) return { schema: undefined, meta: NO_META };
  const m = fieldPatchMetadata(schema.ref, key);
  return {
    schema: prop.type,
    meta: { strategies: m.patchStrategy ? m.patchStrategy.split(',') : [], mergeKey: m.patchMergeKey ?? '' },
  };
}

/** Like lookupForStruct for a list field, but the schema returned is the element's. */
export function lookupForSlice(schema: PatchSchema, key: string): Lookup {
  const found = lookupForStruct(schema, key);
  if (found.schema?.kind === 'array') return { schema: found.schema.items, meta: found.meta };
  return { schema: undefined, meta: found.schema ? NO_META : found.meta };
}

/** What upstream's error messages call the element type (reflect kind of the Go type). */
export function schemaName(schema: PatchSchema): string {
  if (!schema) return 'interface';
  switch (schema.kind) {
    case 'ref': {
      const def = definition(schema.ref);
      return def?.type === 'object' ? 'struct' : def?.type ?? 'interface';
    }
    case 'map': return 'map';
    case 'array': return 'slice';
    case 'any': return 'interface';
    default: return schema.kind;
  }
}

/**
 * upstream's extractRetainKeysPatchStrategy: retainKeys is driven by the `$retainKeys` directive a
 * client sends, so only the other strategy matters when merging.
 */
export function mergeStrategy(strategies: string[]): string {
  switch (strategies.length) {
    case 0: return '';
    case 1: return strategies[0] === 'retainKeys' ? '' : strategies[0];
    case 2:
      if (strategies[0] === 'retainKeys') return strategies[1];
      if (strategies[1] === 'retainKeys') return strategies[0];
  }
  throw new Error(`unexpected patch strategy: [${strategies.join(' ')}]`);
}
