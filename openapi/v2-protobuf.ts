// Encodes an OpenAPI v2 (Swagger 2.0) document as gnostic's `openapi.v2.Document` protobuf message,
// the reply to `GET /openapi/v2` with `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
// kubectl 1.27/1.28 read only that form for client-side validation and `explain` (newer versions fall
// back to it), and a JSON reply fails with "proto: cannot parse invalid wire-format data".
//
// The message layout comes from gnostic-openapiv2.json, extracted from the descriptor embedded in
// kubectl by scripts/extract-gnostic-descriptor.mjs. The JSON-to-message mapping mirrors what the
// upstream apiserver does (kube-openapi feeds its JSON through gnostic's compiler, NewDocument):
//   - proto field `foo_bar` is JSON key `fooBar`, and `_ref` is `$ref`;
//   - `x-*` keys become `vendor_extension` NamedAny entries;
//   - messages made only of repeated Named* fields (Definitions, Properties, Paths, Responses, ...)
//     are JSON objects, one entry per key, `x-*` keys going to `vendor_extension` where it exists;
//   - free-form values (default, example, enum members, extension values) are `Any{yaml}`;
//   - a few oneof wrappers pick their alternative from the JSON shape (see ONEOF_WRAPPERS).
// Unknown keys are skipped rather than rejected: a partial document is more useful to kubectl than
// none, and gnostic itself only reports them.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/light.js';

/** [number, proto name, type, label (o = singular, r = repeated), oneof name?] */
type TableRow = [number, string, string, 'o' | 'r', string?];

interface FieldInfo {
  name: string;
  type: string;
  repeated: boolean;
}

interface MessageInfo {
  byJsonKey: Map<string, FieldInfo>;
  vendorExtensions: boolean;
  /** Set when every field is a repeated Named* list: the JSON form is a plain object. */
  namedLists?: { main: FieldInfo; valueType: string };
}

type Json = unknown;
type ProtoObject = Record<string, unknown>;

const SCALARS = new Set(['double', 'float', 'int64', 'uint64', 'int32', 'fixed64', 'fixed32', 'bool', 'string', 'bytes', 'uint32', 'sfixed32', 'sfixed64', 'sint32', 'sint64']);

let state: { root: protobuf.Root; document: protobuf.Type; messages: Map<string, MessageInfo> } | undefined;

function jsonKeyOf(protoName: string): string {
  if (protoName === '_ref') return '$ref';
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function load(): NonNullable<typeof state> {
  if (state) return state;
  const table = (JSON.parse(readFileSync(new URL('./gnostic-openapiv2.json', import.meta.url), 'utf8')) as {
    messages: Record<string, TableRow[]>;
  }).messages;

  const nested: Record<string, protobuf.IType> = {};
  const messages = new Map<string, MessageInfo>();
  for (const [name, rows] of Object.entries(table)) {
    const fields: Record<string, protobuf.IField> = {};
    const oneofs: Record<string, protobuf.IOneOf> = {};
    const info: MessageInfo = { byJsonKey: new Map(), vendorExtensions: false };
    for (const [id, fname, type, label, oneof] of rows) {
      fields[fname] = label === 'r' ? { id, type, rule: 'repeated' } : { id, type };
      if (oneof) (oneofs[oneof] ??= { oneof: [] }).oneof.push(fname);
      if (fname === 'vendor_extension') info.vendorExtensions = true;
      else info.byJsonKey.set(jsonKeyOf(fname), { name: fname, type, repeated: label === 'r' });
    }
    nested[name] = Object.keys(oneofs).length ? { fields, oneofs } : { fields };
    messages.set(name, info);
  }
  for (const [name, rows] of Object.entries(table)) {
    const info = messages.get(name)!;
    const lists = rows.filter(([, , type, label]) => label === 'r' && type.startsWith('Named'));
    const main = lists.find(([, fname]) => fname !== 'vendor_extension');
    if (main && lists.length === rows.length) {
      const valueRow = table[main[2]]?.find(([, fname]) => fname === 'value');
      if (!valueRow) throw new Error(`gnostic table: ${main[2]} has no value field`);
      info.namedLists = { main: { name: main[1], type: main[2], repeated: true }, valueType: valueRow[2] };
    }
  }

  const root = protobuf.Root.fromJSON({
    nested: {
      openapi: { nested: { v2: { nested } } },
      // Only referenced from Any.value, which gnostic leaves empty for plain YAML values.
      google: { nested: { protobuf: { nested: { Any: { fields: { type_url: { id: 1, type: 'string' }, value: { id: 2, type: 'bytes' } } } } } } },
    },
  });
  state = { root, document: root.lookupType('openapi.v2.Document'), messages };
  return state;
}

/** The protobufjs types built from the gnostic table (package `openapi.v2`), for decoding and tests. */
export function openApiV2ProtobufRoot(): protobuf.Root {
  return load().root;
}

/** Encodes an OpenAPI v2 JSON document as a gnostic `openapi.v2.Document` protobuf message. */
export function encodeOpenApiV2Protobuf(doc: Record<string, unknown>): Buffer {
  const { document } = load();
  const bytes = document.encode(toMessage('Document', doc)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);
const hasRef = (v: Json): boolean => isObject(v) && typeof v.$ref === 'string';

// YAML rejects these raw (C1 controls, DEL, BOM, non-characters) or folds them as line breaks
// (NEL, LS, PS); JSON.stringify leaves them unescaped, and YAML double quotes accept \u escapes.
const YAML_UNSAFE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/**
 * gnostic's Any carries the value re-marshalled as YAML. JSON is valid YAML (flow style), and every
 * consumer (kube-openapi's vendorExtensionToMap, default/enum readers) parses it with a YAML parser,
 * so the JSON text is stored as is: same values and types, and far cheaper than a YAML emitter.
 */
function toAny(v: Json): ProtoObject {
  const text = JSON.stringify(v) ?? 'null';
  return { yaml: `${text.replace(YAML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n` };
}

function toScalar(type: string, v: Json): unknown {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    case 'bool':
      return Boolean(v);
    case 'bytes':
      return Buffer.from(String(v));
    default: {
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
  }
}

// A JSON null is a value only where gnostic keeps free-form YAML (`enum: [..., null]`, `default: null`).
function toValue(type: string, v: Json): unknown {
  if (type === 'Any') return v === undefined ? undefined : toAny(v);
  if (v === null || v === undefined) return undefined;
  if (SCALARS.has(type)) return toScalar(type, v);
  return toMessage(type, v);
}

// The wrappers gnostic uses for JSON-schema oneOf/anyOf choices: each picks its alternative (or
// normalizes a shorthand) from the JSON shape, as gnostic's compiler does.
const NON_BODY_IN: Record<string, string> = {
  header: 'header_parameter_sub_schema',
  formData: 'form_data_parameter_sub_schema',
  query: 'query_parameter_sub_schema',
  path: 'path_parameter_sub_schema',
};
const OAUTH2_FLOW: Record<string, string> = {
  implicit: 'oauth2_implicit_security',
  password: 'oauth2_password_security',
  application: 'oauth2_application_security',
  accessCode: 'oauth2_access_code_security',
};
const ONEOF_WRAPPERS: Record<string, (v: Json) => ProtoObject | undefined> = {
  TypeItem: (v) => ({ value: asList(v).map((t) => String(t)) }),
  StringArray: (v) => ({ value: asList(v).map((t) => String(t)) }),
  ItemsItem: (v) => ({ schema: asList(v).filter(isObject).map((s) => toMessage('Schema', s)) }),
  AdditionalPropertiesItem: (v) => (typeof v === 'boolean' ? { boolean: v } : { schema: toMessage('Schema', v) }),
  ParametersItem: (v) =>
    hasRef(v) ? { json_reference: toMessage('JsonReference', v) } : { parameter: toMessage('Parameter', v) },
  ResponseValue: (v) =>
    hasRef(v) ? { json_reference: toMessage('JsonReference', v) } : { response: toMessage('Response', v) },
  Parameter: (v) =>
    isObject(v) && v.in === 'body'
      ? { body_parameter: toMessage('BodyParameter', v) }
      : { non_body_parameter: toMessage('NonBodyParameter', v) },
  NonBodyParameter: (v) => {
    const field = isObject(v) && typeof v.in === 'string' ? NON_BODY_IN[v.in] : undefined;
    return field ? { [field]: toMessage(subSchemaType(field), v) } : {};
  },
  SchemaItem: (v) =>
    isObject(v) && v.type === 'file' ? { file_schema: toMessage('FileSchema', v) } : { schema: toMessage('Schema', v) },
  SecurityDefinitionsItem: (v) => {
    if (!isObject(v)) return {};
    let field: string | undefined;
    if (v.type === 'basic') field = 'basic_authentication_security';
    else if (v.type === 'apiKey') field = 'api_key_security';
    else if (v.type === 'oauth2' && typeof v.flow === 'string') field = OAUTH2_FLOW[v.flow];
    return field ? { [field]: toMessage(subSchemaType(field), v) } : {};
  },
};

// oneof member field name -> its message type, e.g. query_parameter_sub_schema -> QueryParameterSubSchema.
function subSchemaType(field: string): string {
  return field.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

function toMessage(type: string, v: Json): ProtoObject {
  const wrapper = ONEOF_WRAPPERS[type];
  if (wrapper) return wrapper(v) ?? {};
  const info = load().messages.get(type);
  if (!info) throw new Error(`openapi v2 protobuf: no message ${type} in the gnostic table`);
  const out: ProtoObject = {};
  if (!isObject(v)) return out;
  const extensions: ProtoObject[] = [];
  const { namedLists } = info;
  if (namedLists) {
    const entries: ProtoObject[] = [];
    for (const [key, value] of Object.entries(v)) {
      if (info.vendorExtensions && key.startsWith('x-')) extensions.push({ name: key, value: toAny(value) });
      else entries.push({ name: key, value: toValue(namedLists.valueType, value) });
    }
    if (entries.length) out[namedLists.main.name] = entries;
  } else {
    for (const [key, value] of Object.entries(v)) {
      if (info.vendorExtensions && key.startsWith('x-')) {
        extensions.push({ name: key, value: toAny(value) });
        continue;
      }
      const field = info.byJsonKey.get(key);
      if (!field) continue;
      if (field.repeated) {
        out[field.name] = asList(value).map((x) => toValue(field.type, x)).filter((x) => x !== undefined);
      } else {
        const converted = toValue(field.type, value);
        if (converted !== undefined) out[field.name] = converted;
      }
    }
  }
  if (extensions.length) out.vendor_extension = extensions;
  return out;
}
