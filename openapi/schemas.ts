// OpenAPI schema objects for the type graph's definitions, in the shape upstream's kube-openapi
// emits them: v2 under `#/definitions/`, v3 under `#/components/schemas/` (a described reference
// is wrapped in `allOf`, since OpenAPI 3.0 ignores siblings of `$ref`). The type graph carries
// what TypeScript knows; the patch metadata table and the small tables here add what it cannot:
// integer widths, byte strings, unions and the group/version/kinds of each root definition.
import { definition, kinds, reachableDefinitions, type Definition, type FieldType } from './type-graph.js';
import { definitionMapType, fieldPatchMetadata } from './patch-metadata.js';

export type OpenApiVersion = 'v2' | 'v3';
export type Schema = Record<string, unknown>;
export interface Gvk { group: string; version: string; kind: string }

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const CORE = 'io.k8s.api.core.v1.';

export function refPrefix(v: OpenApiVersion): string {
  return v === 'v2' ? '#/definitions/' : '#/components/schemas/';
}

export function schemaRef(v: OpenApiVersion, name: string): Schema {
  return { $ref: refPrefix(v) + name };
}

/**
 * Go's int64 fields, by field name wherever the name occurs in the served types. TypeScript has
 * one number type, so the width must come from the Go types; every other integer is int32.
 */
const INT64_FIELD_NAMES = new Set([
  'activeDeadlineSeconds', 'deletionGracePeriodSeconds', 'expirationSeconds', 'fsGroup', 'generation',
  'gracePeriodSeconds', 'observedGeneration', 'remainingItemCount', 'runAsGroup', 'runAsUser', 'sizeBytes',
  'startingDeadlineSeconds', 'terminationGracePeriodSeconds', 'tolerationSeconds',
]);

/** int64 fields whose names are int32 elsewhere, by definition. */
const INT64_FIELDS: Record<string, string[]> = {
  'io.k8s.api.apps.v1.ControllerRevision': ['revision'],
  [`${CORE}PodSecurityContext`]: ['supplementalGroups'],
  [`${CORE}SleepAction`]: ['seconds'],
  [`${CORE}LinuxContainerUser`]: ['uid', 'gid', 'supplementalGroups'],
  [`${CORE}NodeSwapStatus`]: ['capacity'],
};

/** int32 fields whose names are int64 elsewhere, by definition. */
const INT32_FIELDS: Record<string, string[]> = {
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': ['expirationSeconds'],
};

/** Go `[]byte` values: base64 strings on the wire (`format: byte`). */
const BYTE_FIELDS: Record<string, string[]> = {
  [`${CORE}Secret`]: ['data'],
  [`${CORE}ConfigMap`]: ['binaryData'],
  'io.k8s.api.admissionregistration.v1.WebhookClientConfig': ['caBundle'],
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': ['request'],
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': ['certificate'],
};

/**
 * `+listType=atomic` on meta/v1 types outside the patch table, which covers what patches touch:
 * discovery documents, DeleteOptions and Status are never patched but upstream marks them too.
 */
const META_ATOMIC_LISTS: Record<string, string[]> = {
  [`${META}APIGroup`]: ['serverAddressByClientCIDRs', 'versions'],
  [`${META}APIGroupList`]: ['groups'],
  [`${META}APIResource`]: ['categories', 'shortNames'],
  [`${META}APIResourceList`]: ['resources'],
  [`${META}APIVersions`]: ['serverAddressByClientCIDRs', 'versions'],
  [`${META}DeleteOptions`]: ['dryRun'],
  [`${META}StatusDetails`]: ['causes'],
};

/** `+union` markers: the discriminated unions upstream declares on the served types. */
const localhostProfileUnion = [{ discriminator: 'type', 'fields-to-discriminateBy': { localhostProfile: 'LocalhostProfile' } }];
const UNIONS: Record<string, unknown[]> = {
  [`${CORE}SeccompProfile`]: localhostProfileUnion,
  [`${CORE}AppArmorProfile`]: localhostProfileUnion,
};

/** Kinds the type graph has no root for: the Status every group version returns. */
const EXTRA_KINDS: Record<string, Gvk[]> = {
  [`${META}Status`]: [{ group: '', version: 'v1', kind: 'Status' }],
};

/** Definitions every served group version registers under its own group/version (upstream lists them all). */
const PER_GROUP_VERSION_KINDS: Record<string, string> = {
  [`${META}DeleteOptions`]: 'DeleteOptions',
  [`${META}WatchEvent`]: 'WatchEvent',
};

const compareGvk = (a: Gvk, b: Gvk): number =>
  a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.kind.localeCompare(b.kind);

/**
 * Builds schema objects for one OpenAPI version, memoized: the documents of one server share the
 * same objects (serialized once per document, never mutated).
 */
export class SchemaBuilder {
  private readonly cache = new Map<string, Schema>();
  private readonly gvks = new Map<string, Gvk[]>();

  /** `servedGroupVersions`: every `group/version` the server serves (core as `/v1`). */
  constructor(readonly version: OpenApiVersion, servedGroupVersions: Iterable<{ group: string; version: string }>) {
    for (const k of kinds()) this.addGvk(k.definition, { group: k.group, version: k.version, kind: k.kind });
    for (const [name, list] of Object.entries(EXTRA_KINDS)) for (const g of list) this.addGvk(name, g);
    const seen = new Set<string>();
    for (const gv of servedGroupVersions) {
      if (seen.has(`${gv.group}/${gv.version}`)) continue;
      seen.add(`${gv.group}/${gv.version}`);
      for (const [name, kind] of Object.entries(PER_GROUP_VERSION_KINDS)) this.addGvk(name, { group: gv.group, version: gv.version, kind });
    }
    for (const list of this.gvks.values()) list.sort(compareGvk);
  }

  private addGvk(name: string, gvk: Gvk): void {
    const list = this.gvks.get(name) ?? [];
    if (!list.some((g) => compareGvk(g, gvk) === 0)) list.push(gvk);
    this.gvks.set(name, list);
  }

  /** The kinds a definition is the root of, as `x-kubernetes-group-version-kind` lists them. */
  groupVersionKinds(name: string): Gvk[] | undefined {
    return this.gvks.get(name);
  }

  /** The schema of a named definition; throws for a name the type graph does not have. */
  schema(name: string): Schema {
    let s = this.cache.get(name);
    if (!s) {
      const def = definition(name);
      if (!def) throw new Error(`openapi: no definition ${name}`);
      s = this.build(def);
      this.cache.set(name, s);
    }
    return s;
  }

  /** Schemas of the given definitions and everything they reach, keyed and ordered by name. */
  schemas(roots: Iterable<string>): Record<string, Schema> {
    const out: Record<string, Schema> = {};
    for (const name of [...reachableDefinitions(roots)].sort()) out[name] = this.schema(name);
    return out;
  }

  private build(def: Definition): Schema {
    const s: Schema = {};
    if (def.description) s.description = def.description;
    switch (def.type) {
      case 'any':
        break;
      case 'string':
        Object.assign(s, this.scalarDefinition(def));
        break;
      case 'object': {
        s.type = 'object';
        if (def.open) break;
        const properties: Record<string, Schema> = {};
        const required: string[] = [];
        for (const field of Object.keys(def.properties).sort()) {
          const p = def.properties[field]!;
          properties[field] = this.property(def.name, field, p.type, p.description);
          if (p.required) required.push(field);
        }
        s.properties = properties;
        if (required.length) s.required = required;
        break;
      }
      default:
        s.type = def.type;
    }
    const gvk = this.gvks.get(def.name);
    if (gvk) s['x-kubernetes-group-version-kind'] = gvk;
    const mapType = definitionMapType(def.name);
    if (mapType) s['x-kubernetes-map-type'] = mapType;
    if (UNIONS[def.name]) s['x-kubernetes-unions'] = UNIONS[def.name];
    return s;
  }

  /** Quantity and IntOrString accept two JSON types; v3 says so with oneOf, v2 can only say string. */
  private scalarDefinition(def: Definition): Schema {
    if (def.format === 'int-or-string') {
      return this.version === 'v2' ? { type: 'string', format: 'int-or-string' } : { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] };
    }
    if (def.name === 'io.k8s.apimachinery.pkg.api.resource.Quantity' && this.version === 'v3') {
      return { oneOf: [{ type: 'string' }, { type: 'number' }] };
    }
    return def.format ? { type: 'string', format: def.format } : { type: 'string' };
  }

  private property(owner: string, field: string, type: FieldType, description: string | undefined): Schema {
    const s = this.fieldType(owner, field, type);
    const meta = META_ATOMIC_LISTS[owner]?.includes(field) ? { listType: 'atomic' as const } : fieldPatchMetadata(owner, field);
    const extensions: Schema = {};
    if (meta.listMapKeys) extensions['x-kubernetes-list-map-keys'] = meta.listMapKeys;
    if (meta.listType) extensions['x-kubernetes-list-type'] = meta.listType;
    if (meta.mapType) extensions['x-kubernetes-map-type'] = meta.mapType;
    if (meta.patchMergeKey) extensions['x-kubernetes-patch-merge-key'] = meta.patchMergeKey;
    if (meta.patchStrategy) extensions['x-kubernetes-patch-strategy'] = meta.patchStrategy;
    const hasSiblings = description !== undefined || Object.keys(extensions).length > 0;
    if (this.version === 'v3' && '$ref' in s && hasSiblings) {
      return { allOf: [s], ...(description !== undefined ? { description } : {}), ...extensions };
    }
    return { ...s, ...(description !== undefined ? { description } : {}), ...extensions };
  }

  private fieldType(owner: string, field: string, type: FieldType): Schema {
    switch (type.kind) {
      case 'ref': return schemaRef(this.version, type.ref);
      case 'array': return { type: 'array', items: this.fieldType(owner, field, type.items) };
      case 'map': return { type: 'object', additionalProperties: this.fieldType(owner, field, type.values) };
      case 'integer': return { type: 'integer', format: isInt64(owner, field) ? 'int64' : 'int32' };
      case 'number': return { type: 'number', format: 'double' };
      case 'string': return BYTE_FIELDS[owner]?.includes(field) ? { type: 'string', format: 'byte' } : { type: 'string' };
      case 'boolean': return { type: 'boolean' };
      case 'any': return {};
    }
  }
}

function isInt64(owner: string, field: string): boolean {
  if (INT32_FIELDS[owner]?.includes(field)) return false;
  return INT64_FIELD_NAMES.has(field) || (INT64_FIELDS[owner]?.includes(field) ?? false);
}
