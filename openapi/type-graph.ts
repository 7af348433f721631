// The schema type graph: every API definition by its upstream OpenAPI name, its properties with
// their types, required-ness and descriptions, and which definition is the root of each
// group/version/kind. Generated from kubernetes-types by scripts/generate-type-graph.mjs; the
// facts TypeScript cannot carry (patch strategies, merge keys, list types) are in patch-metadata.ts.
import { readFileSync } from 'node:fs';

/** A property's type. `ref` names another definition (which may itself be a scalar such as Quantity). */
export type FieldType =
  | { kind: 'string' | 'integer' | 'number' | 'boolean' | 'any' }
  | { kind: 'ref'; ref: string }
  | { kind: 'array'; items: FieldType }
  | { kind: 'map'; values: FieldType };

export interface PropertyDefinition {
  type: FieldType;
  /** Not optional in kubernetes-types (upstream's `required` list). */
  required: boolean;
  description?: string;
}

export interface Definition {
  name: string;
  description?: string;
  /**
   * `object` definitions have properties; `string`/`integer`/`boolean`/`number` ones are scalars on
   * the wire (Quantity, Time, IntOrString); `any` holds any JSON value.
   */
  type: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'any';
  /** OpenAPI format of a scalar definition: `date-time`, `int-or-string`. */
  format?: string;
  /** An object whose members are free-form (RawExtension, FieldsV1). */
  open?: boolean;
  properties: Record<string, PropertyDefinition>;
}

export interface GroupVersionKind { group: string; version: string; kind: string }

interface RawDefinition {
  description?: string;
  type?: Definition['type'];
  format?: string;
  open?: boolean;
  properties?: Record<string, { type: string; required?: boolean; description?: string }>;
}
interface RawGraph { kinds: [string, string, string, string][]; definitions: Record<string, RawDefinition> }

const SCALARS = new Set(['string', 'integer', 'number', 'boolean', 'any']);

/** Parses the generated type spelling: "[]T", "map[string]T", a scalar, or a definition name. */
export function parseFieldType(spelling: string): FieldType {
  if (spelling.startsWith('[]')) return { kind: 'array', items: parseFieldType(spelling.slice(2)) };
  if (spelling.startsWith('map[string]')) return { kind: 'map', values: parseFieldType(spelling.slice('map[string]'.length)) };
  if (SCALARS.has(spelling)) return { kind: spelling as 'string' };
  return { kind: 'ref', ref: spelling };
}

/**
 * Kinds every served group version accepts although one meta/v1 definition backs them all
 * (upstream lists each of them under every group version).
 */
const META_KINDS: Record<string, string> = {
  DeleteOptions: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  WatchEvent: 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
};

class TypeGraph {
  private readonly defs = new Map<string, Definition>();
  private readonly byKind = new Map<string, string>();
  private readonly groupVersions = new Set<string>();
  readonly kinds: ReadonlyArray<GroupVersionKind & { definition: string }>;

  constructor(raw: RawGraph) {
    for (const [name, d] of Object.entries(raw.definitions)) {
      const properties: Record<string, PropertyDefinition> = {};
      for (const [field, p] of Object.entries(d.properties ?? {})) {
        properties[field] = { type: parseFieldType(p.type), required: p.required === true, description: p.description };
      }
      this.defs.set(name, { name, description: d.description, type: d.type ?? 'object', format: d.format, open: d.open, properties });
    }
    this.kinds = raw.kinds.map(([group, version, kind, definition]) => ({ group, version, kind, definition }));
    for (const k of this.kinds) {
      this.byKind.set(gvkKey(k.group, k.version, k.kind), k.definition);
      this.groupVersions.add(`${k.group}/${k.version}`);
    }
  }

  definition(name: string): Definition | undefined {
    return this.defs.get(name);
  }

  definitionNameFor(group: string, version: string, kind: string): string | undefined {
    const direct = this.byKind.get(gvkKey(group, version, kind));
    if (direct) return direct;
    if (META_KINDS[kind] && this.groupVersions.has(`${group}/${version}`)) return META_KINDS[kind];
    return undefined;
  }

  definitions(): IterableIterator<Definition> {
    return this.defs.values();
  }
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

let graph: TypeGraph | undefined;

function load(): TypeGraph {
  if (!graph) {
    // Read lazily: most processes (agents, controllers) never need the 900 kB graph.
    const text = readFileSync(new URL('./generated/types.json', import.meta.url), 'utf8');
    graph = new TypeGraph(JSON.parse(text) as RawGraph);
  }
  return graph;
}

/** A definition by its upstream name, e.g. `io.k8s.api.core.v1.PodSpec`. */
export function definition(name: string): Definition | undefined {
  return load().definition(name);
}

/** The root definition name of a kind, e.g. (`apps`, `v1`, `Deployment`) -> `io.k8s.api.apps.v1.Deployment`. */
export function definitionNameFor(group: string, version: string, kind: string): string | undefined {
  return load().definitionNameFor(group, version, kind);
}

/** The root definition of a kind. */
export function definitionFor(group: string, version: string, kind: string): Definition | undefined {
  const name = definitionNameFor(group, version, kind);
  return name ? definition(name) : undefined;
}

/** The type of one property of a definition, or undefined when the definition has no such field. */
export function fieldType(definitionName: string, field: string): FieldType | undefined {
  return definition(definitionName)?.properties[field]?.type;
}

/** Every kind with a root definition, in group/version/kind order. */
export function kinds(): ReadonlyArray<GroupVersionKind & { definition: string }> {
  return load().kinds;
}

/** Every definition, in name order. */
export function definitions(): IterableIterator<Definition> {
  return load().definitions();
}

/** The definitions reachable from the given ones through properties (the closure, roots included). */
export function reachableDefinitions(roots: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  const visit = (t: FieldType): void => {
    if (t.kind === 'ref') stack.push(t.ref);
    else if (t.kind === 'array') visit(t.items);
    else if (t.kind === 'map') visit(t.values);
  };
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    const def = definition(name);
    if (!def) continue;
    seen.add(name);
    for (const p of Object.values(def.properties)) visit(p.type);
  }
  return seen;
}
