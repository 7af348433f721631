// `/openapi/v2` protobuf (gnostic openapi.v2.Document): documents must survive encode -> protobuf
// decode -> back to OpenAPI JSON unchanged, so nothing kubectl 1.27/1.28 reads (schemas, required,
// x-kubernetes-* extensions) is lost. The inverse mapping below is written independently of the
// encoder, from the same descriptor table. Real kubectl 1.27/1.28 read the document end to end in
// the acceptance script kubectl-apply.sh (explain and apply validation).
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { encodeOpenApiV2Protobuf, openApiV2ProtobufRoot } from '../../openapi/v2-protobuf.js';

type Row = [number, string, string, 'o' | 'r', string?];
// Decoded protobuf objects and OpenAPI JSON are walked generically; any keeps the walk readable.
type Json = any;
const table = (JSON.parse(readFileSync(new URL('../../openapi/gnostic-openapiv2.json', import.meta.url), 'utf8')) as {
  messages: Record<string, Row[]>;
}).messages;
const UPSTREAM = '/work/shared/reference/kubernetes-openapi-v2.json';

const jsonKey = (name: string) => (name === '_ref' ? '$ref' : name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));

// protobuf object (protobufjs toObject, proto field names) -> OpenAPI JSON.
function fromMessage(type: string, obj: Json): Json {
  if (type === 'Any') return parseYaml(obj.yaml);
  const rows = table[type];
  const value = (t: string, v: Json) => (table[t] || t === 'Any' ? fromMessage(t, v) : v);
  if (type === 'TypeItem') return obj.value.length === 1 ? obj.value[0] : obj.value;
  if (type === 'StringArray') return obj.value ?? [];
  if (type === 'ItemsItem') return obj.schema.length === 1 ? fromMessage('Schema', obj.schema[0]) : obj.schema.map((s: Json) => fromMessage('Schema', s));
  if (rows.every((r) => r[4])) {
    // a oneof wrapper: exactly one member is set
    const set = rows.filter((r) => obj[r[1]] !== undefined);
    expect(set).toHaveLength(1);
    return value(set[0][2], obj[set[0][1]]);
  }
  const out: Json = {};
  const namedLists = rows.every((r) => r[3] === 'r' && r[2].startsWith('Named'));
  for (const [, name, t, label] of rows) {
    if (obj[name] === undefined) continue;
    if (name === 'vendor_extension' || namedLists) {
      const valueType = table[t].find((r) => r[1] === 'value')![2];
      for (const e of obj[name]) out[e.name] = value(valueType, e.value);
    } else out[jsonKey(name)] = label === 'r' ? obj[name].map((v: Json) => value(t, v)) : value(t, obj[name]);
  }
  return out;
}

function roundTrip(doc: Json): { bytes: Buffer; decoded: Json } {
  const bytes = encodeOpenApiV2Protobuf(doc);
  const type = openApiV2ProtobufRoot().lookupType('openapi.v2.Document');
  const message = type.decode(bytes);
  return { bytes, decoded: fromMessage('Document', type.toObject(message, { longs: Number })) };
}

const sample: Json = {
  swagger: '2.0',
  info: { title: 'Sample', version: 'v9', description: 'd', contact: { name: 'c', email: 'c@example.com' }, license: { name: 'Apache-2.0' }, 'x-info': { a: 1 } },
  host: 'example.com',
  basePath: '/base',
  schemes: ['https'],
  consumes: ['application/json'],
  produces: ['application/json', 'application/yaml'],
  paths: {
    'x-paths-ext': 'yes',
    '/apis/example.com/v1/widgets/{name}': {
      parameters: [
        { name: 'name', in: 'path', required: true, type: 'string', uniqueItems: true },
        { $ref: '#/parameters/pretty' },
      ],
      get: {
        operationId: 'readWidget',
        tags: ['example'],
        schemes: ['https'],
        deprecated: false,
        parameters: [
          { name: 'mode', in: 'query', type: 'string', enum: ['a', 'b'], default: 'a', allowEmptyValue: true },
          { name: 'X-Trace', in: 'header', type: 'integer', format: 'int32', minimum: 1, maximum: 9.5, exclusiveMaximum: true },
          { name: 'ids', in: 'formData', type: 'array', items: { type: 'string', maxLength: 3 }, collectionFormat: 'csv', maxItems: 4 },
        ],
        responses: {
          '200': { description: 'OK', schema: { $ref: '#/definitions/Widget' }, headers: { 'X-Rate': { type: 'integer', description: 'r' } } },
          '204': { description: 'file', schema: { type: 'file' } },
          default: { $ref: '#/responses/Error' },
          'x-responses-ext': [1, 2],
        },
        security: [{ token: [] }, { oauth: ['read', 'write'] }],
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': { group: 'example.com', kind: 'Widget', version: 'v1' },
      },
      patch: {
        parameters: [{ name: 'body', in: 'body', required: true, description: 'the patch', schema: { type: 'object' }, 'x-codegen-request-body-name': 'body' }],
        responses: { '200': { description: 'OK' } },
      },
    },
  },
  definitions: {
    Widget: {
      description: 'A widget.',
      type: 'object',
      required: ['spec'],
      properties: {
        apiVersion: { type: 'string', description: 'APIVersion' },
        spec: { $ref: '#/definitions/WidgetSpec', description: 'the spec' },
        nullable: { type: ['string', 'null'] },
      },
      'x-kubernetes-group-version-kind': [{ group: 'example.com', kind: 'Widget', version: 'v1' }],
    },
    WidgetSpec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', format: 'int32', default: 1, minimum: 0, multipleOf: 1 },
        mode: { type: 'string', enum: ['Fast', 'Slow', '1', 'yes', null], default: 'Fast', pattern: '^[A-Z]' },
        labels: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 64 },
        closed: { type: 'object', additionalProperties: false, minProperties: 0 },
        containers: {
          type: 'array',
          items: { $ref: '#/definitions/Container' },
          'x-kubernetes-patch-merge-key': 'name',
          'x-kubernetes-patch-strategy': 'merge',
          'x-kubernetes-list-map-keys': ['name'],
          'x-kubernetes-list-type': 'map',
        },
        tuple: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], minItems: 2, uniqueItems: true },
        combined: { allOf: [{ $ref: '#/definitions/Container' }, { type: 'object', readOnly: true }], discriminator: 'kind' },
        port: { format: 'int-or-string', type: 'string', 'x-kubernetes-int-or-string': true },
        nothing: { default: null, 'x-null': null },
        raw: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, default: { a: [1, 'two', { b: null }] }, example: 'tricky: "yaml"\n# not a comment' },
        xmlish: { type: 'string', title: 'T', xml: { name: 'x', wrapped: true }, externalDocs: { url: 'https://example.com' } },
      },
    },
    Container: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 63, minLength: 1 } } },
    Empty: { type: 'object', properties: {} },
  },
  parameters: {
    pretty: { name: 'pretty', in: 'query', type: 'string', uniqueItems: true, description: 'pretty-print' },
    body: { name: 'body', in: 'body', schema: { $ref: '#/definitions/Widget' } },
  },
  responses: { Error: { description: 'error', schema: { type: 'string' }, examples: { 'application/json': { message: 'boom' } } } },
  securityDefinitions: {
    token: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer' },
    basic: { type: 'basic' },
    oauth: { type: 'oauth2', flow: 'accessCode', authorizationUrl: 'https://a', tokenUrl: 'https://t', scopes: { read: 'r', write: 'w' } },
  },
  security: [{ token: [] }],
  tags: [{ name: 'example', description: 'examples', externalDocs: { url: 'https://example.com/docs' } }],
  externalDocs: { description: 'more', url: 'https://example.com' },
  'x-document-ext': { nested: ['\u2028', '\u0085', 'é'] },
};

test('a hand-written document round-trips through the gnostic message', () => {
  const { decoded } = roundTrip(sample);
  // proto3 scalars have no presence: zero values vanish on the wire, as they do with gnostic itself
  // (none of these matter to kubectl).
  const expected = structuredClone(sample);
  delete expected.definitions.WidgetSpec.properties.replicas.minimum;
  delete expected.definitions.WidgetSpec.properties.closed.minProperties;
  delete expected.paths['/apis/example.com/v1/widgets/{name}'].get.deprecated;
  expect(decoded).toEqual(expected);
});

test('field numbers match gnostic OpenAPIv2.proto', () => {
  // Document.definitions = 9 -> Definitions.additional_properties = 1 -> NamedSchema{name = 1,
  // value = 2} -> Schema._ref = 1; Schema.vendor_extension = 31 -> NamedAny{name, value = Any{yaml = 2}}.
  const bytes = encodeOpenApiV2Protobuf({ definitions: { A: { $ref: '#/x', 'x-k': 'v' } } });
  const yaml = Buffer.from('"v"\n');
  const any = Buffer.concat([Buffer.from([0x12, yaml.length]), yaml]);
  const namedAny = Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('x-k'), Buffer.from([0x12, any.length]), any]);
  const schema = Buffer.concat([Buffer.from([0x0a, 3]), Buffer.from('#/x'), Buffer.from([0xfa, 0x01, namedAny.length]), namedAny]);
  const named = Buffer.concat([Buffer.from([0x0a, 1]), Buffer.from('A'), Buffer.from([0x12, schema.length]), schema]);
  const defs = Buffer.concat([Buffer.from([0x0a, named.length]), named]);
  expect(bytes).toEqual(Buffer.concat([Buffer.from([0x4a, defs.length]), defs]));
});

test('oneof choices follow the JSON shape', () => {
  const root = openApiV2ProtobufRoot();
  const schema = root.lookupType('openapi.v2.Schema');
  const decode = (s: Json) => {
    const bytes = encodeOpenApiV2Protobuf({ definitions: { S: s } });
    const doc = root.lookupType('openapi.v2.Document').decode(bytes) as Json;
    return schema.toObject(doc.definitions.additional_properties[0].value) as Json;
  };
  expect(decode({ additionalProperties: false }).additional_properties).toEqual({ boolean: false });
  expect(decode({ additionalProperties: { type: 'string' } }).additional_properties).toEqual({ schema: { type: { value: ['string'] } } });
  expect(decode({ items: { type: 'string' } }).items).toEqual({ schema: [{ type: { value: ['string'] } }] });
  expect(decode({ enum: ['a', 1, true] }).enum).toEqual([{ yaml: '"a"\n' }, { yaml: '1\n' }, { yaml: 'true\n' }]);
  // unknown keys are skipped, not fatal
  expect(decode({ type: 'string', bogus: 1 })).toEqual({ type: { value: ['string'] } });
});

const upstreamTest = existsSync(UPSTREAM) ? test : test.skip;
upstreamTest('the upstream Kubernetes document round-trips, fast enough to serve', () => {
  const doc = JSON.parse(readFileSync(UPSTREAM, 'utf8')) as Json;
  encodeOpenApiV2Protobuf({}); // load the table outside the timing
  const started = performance.now();
  encodeOpenApiV2Protobuf(doc);
  const elapsed = performance.now() - started;
  expect(elapsed).toBeLessThan(1500); // ~0.2 s for the 4 MB document; the server caches the result
  const { bytes, decoded } = roundTrip(doc);
  expect(bytes.length).toBeGreaterThan(1_000_000);
  const containers = decoded.definitions['io.k8s.api.core.v1.PodSpec'].properties.containers;
  expect(containers['x-kubernetes-patch-merge-key']).toBe('name');
  expect(containers['x-kubernetes-patch-strategy']).toBe('merge');
  expect(decoded.definitions['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([
    { group: 'apps', kind: 'Deployment', version: 'v1' },
  ]);
  expect(decoded).toEqual(doc);
});
