// The OpenAPI documents the server serves: the /openapi/v3 root, one v3 document per served
// group version (plus upstream's discovery documents `api`, `apis`, `apis/<group>`, `version`),
// and the /openapi/v2 document with everything. The served resources never change while a server
// runs, so each document is built on first use, serialized once and kept as bytes with its hash;
// the objects are dropped. Hashes are upstream's: upper-case hex SHA-512 of the JSON bytes, used
// both as the ETag and as the `?hash=` of the v3 root's serverRelativeURLs.
import { createHash } from 'node:crypto';
import type { ResourceDefinition } from '../server/registry/types.js';
import { KUBERNETES_VERSION } from '../server/version.js';
import { SchemaBuilder, schemaRef, type OpenApiVersion, type Schema } from './schemas.js';
import { allPaths, type Operation, type Parameter, type PathItem, type Payload } from './paths.js';

export interface ServedDocument {
  body: Buffer;
  /** Upper-case hex SHA-512 of `body`. */
  hash: string;
  /** `hash` in double quotes, as the ETag header carries it. */
  etag: string;
}

export function servedDocument(body: Buffer): ServedDocument {
  const hash = createHash('sha512').update(body).digest('hex').toUpperCase();
  return { body, hash, etag: `"${hash}"` };
}

const SECURITY_SCHEME = { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' };
const INFO = { title: 'Kubernetes', version: KUBERNETES_VERSION.gitVersion };

function payloadSchema(v: OpenApiVersion, payload: Payload): Schema {
  return 'ref' in payload ? schemaRef(v, payload.ref) : { type: 'string' };
}

function extensions(op: Operation): Schema {
  const out: Schema = {};
  if (op.action) out['x-kubernetes-action'] = op.action;
  if (op.gvk) out['x-kubernetes-group-version-kind'] = { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version };
  return out;
}

const v2Parameter = (p: Parameter): Schema =>
  ({ description: p.description, in: p.in, name: p.name, ...(p.required ? { required: true } : {}), type: p.type, uniqueItems: true });

function v2Operation(op: Operation): Schema {
  const parameters = op.parameters.map(v2Parameter);
  if (op.body) parameters.unshift({ in: 'body', name: 'body', ...(op.body.required ? { required: true } : {}), schema: payloadSchema('v2', op.body.payload) });
  const responses: Record<string, Schema> = {};
  for (const [code, r] of Object.entries(op.responses)) {
    responses[code] = r.payload ? { description: r.description, schema: payloadSchema('v2', r.payload) } : { description: r.description };
  }
  return {
    consumes: op.body?.contentTypes ?? op.consumes ?? ['*/*'], description: op.description, operationId: op.operationId,
    ...(parameters.length ? { parameters } : {}), produces: op.produces, responses, schemes: ['https'], tags: [op.tag], ...extensions(op),
  };
}

const v3Parameter = (p: Parameter): Schema =>
  ({ name: p.name, in: p.in, description: p.description, ...(p.required ? { required: true } : {}), schema: { type: p.type, uniqueItems: true } });

function v3Operation(op: Operation): Schema {
  const o: Schema = { tags: [op.tag], description: op.description, operationId: op.operationId };
  if (op.parameters.length) o.parameters = op.parameters.map(v3Parameter);
  if (op.body) {
    const schema = payloadSchema('v3', op.body.payload);
    o.requestBody = { content: Object.fromEntries(op.body.contentTypes.map((ct) => [ct, { schema }])), required: op.body.required };
  }
  const responses: Record<string, Schema> = {};
  for (const [code, r] of Object.entries(op.responses)) {
    if (!r.payload) {
      responses[code] = { description: r.description };
      continue;
    }
    const schema = payloadSchema('v3', r.payload);
    responses[code] = { description: r.description, content: Object.fromEntries(op.produces.map((ct) => [ct, { schema }])) };
  }
  o.responses = responses;
  return { ...o, ...extensions(op) };
}

function renderPaths(items: PathItem[], v: OpenApiVersion): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const item of items) {
    const rendered: Schema = {};
    for (const op of [...item.operations].sort((a, b) => a.method.localeCompare(b.method))) rendered[op.method] = v === 'v2' ? v2Operation(op) : v3Operation(op);
    if (item.parameters.length) rendered.parameters = item.parameters.map(v === 'v2' ? v2Parameter : v3Parameter);
    out[item.path] = rendered;
  }
  return out;
}

/** The definitions the operations of `items` take or return (the roots of the schema closure). */
function payloadDefinitions(items: PathItem[]): Set<string> {
  const names = new Set<string>();
  const add = (p: Payload | undefined) => { if (p && 'ref' in p) names.add(p.ref); };
  for (const item of items) {
    for (const op of item.operations) {
      add(op.body?.payload);
      for (const r of Object.values(op.responses)) add(r.payload);
    }
  }
  return names;
}

/** The OpenAPI documents of one server, built from its resource table once and then served from bytes. */
export class OpenApiDocuments {
  /** When the documents came to be (whole seconds, as Last-Modified and If-Modified-Since compare them). */
  readonly lastModified = new Date(Math.floor(Date.now() / 1000) * 1000);
  private readonly groupVersions: { group: string; version: string }[];
  private pathItems?: Map<string, PathItem[]>;
  private readonly v3Served = new Map<string, ServedDocument>();
  private v3Builder?: SchemaBuilder;
  private rootServed?: ServedDocument;
  private v2Served?: ServedDocument;

  constructor(private readonly defs: readonly ResourceDefinition[]) {
    this.groupVersions = defs.map((d) => ({ group: d.group, version: d.version }));
  }

  private paths(): Map<string, PathItem[]> {
    this.pathItems ??= allPaths([...this.defs]);
    return this.pathItems;
  }

  /** The names of the v3 documents: `api/v1`, `apis/apps/v1`, …, in order. */
  v3Names(): string[] {
    return [...this.paths().keys()].sort();
  }

  /** The v3 document object for `name` (e.g. `apis/apps/v1`), freshly built; undefined for an unknown name. */
  v3Document(name: string): Record<string, unknown> | undefined {
    const items = this.paths().get(name);
    if (!items) return undefined;
    const builder = this.v3Builder ?? new SchemaBuilder('v3', this.groupVersions);
    this.v3Builder = builder;
    return {
      openapi: '3.0.0',
      info: INFO,
      paths: renderPaths(items, 'v3'),
      components: { schemas: builder.schemas(payloadDefinitions(items)), securitySchemes: { BearerToken: SECURITY_SCHEME } },
      security: [{ BearerToken: [] }],
    };
  }

  /** The serialized v3 document for `name`, or undefined when the server serves no such group version. */
  v3(name: string): ServedDocument | undefined {
    let served = this.v3Served.get(name);
    if (served) return served;
    const doc = this.v3Document(name);
    if (!doc) return undefined;
    served = servedDocument(Buffer.from(JSON.stringify(doc)));
    this.v3Served.set(name, served);
    // Every document is bytes now: the shared schema objects are garbage.
    if (this.v3Served.size === this.paths().size) this.v3Builder = undefined;
    return served;
  }

  /** `{"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=…"},…}}`; hashes every v3 document. */
  v3Root(): ServedDocument {
    if (!this.rootServed) {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const name of this.v3Names()) paths[name] = { serverRelativeURL: `/openapi/v3/${name}?hash=${this.v3(name)!.hash}` };
      this.rootServed = servedDocument(Buffer.from(JSON.stringify({ paths })));
    }
    return this.rootServed;
  }

  /** The v2 (Swagger 2.0) document object with every served path and definition, freshly built. */
  v2Document(): Record<string, unknown> {
    const items = [...this.paths().values()].flat().sort((a, b) => a.path.localeCompare(b.path));
    const builder = new SchemaBuilder('v2', this.groupVersions);
    return {
      swagger: '2.0',
      info: INFO,
      paths: renderPaths(items, 'v2'),
      definitions: builder.schemas(payloadDefinitions(items)),
      securityDefinitions: { BearerToken: SECURITY_SCHEME },
      security: [{ BearerToken: [] }],
    };
  }

  /** The serialized v2 document. */
  v2(): ServedDocument {
    this.v2Served ??= servedDocument(Buffer.from(JSON.stringify(this.v2Document())));
    return this.v2Served;
  }
}
