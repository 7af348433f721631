// Decodes Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) into the JSON
// form upstream's Go structs would marshal to. kubectl >= 1.32 sends these for typed-client writes
// and never falls back to JSON, so every kind the server accepts must decode here.
//
// Body = magic `k8s\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType};
// `raw` is the object's own message. Field numbers and types come from k8s-messages.json, generated
// from kubectl's embedded descriptors by scripts/extract-proto-descriptors.mjs.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs/minimal.js';

const { Reader } = protobuf;
type ProtoReader = InstanceType<typeof Reader>;

/** A body that is not a valid Kubernetes protobuf envelope; the server answers 400 BadRequest. */
export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

export interface DecodedObject {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

/** [number, proto name, type, label]; label o = Go pointer, v = Go value, r = repeated. */
type TableField = [number, string, string, 'o' | 'v' | 'r'];

interface FieldInfo {
  json: string;
  type: string;
  label: 'o' | 'v' | 'r';
  inline: boolean;
  map?: { key: string; value: string };
}

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const MAX_DEPTH = 64;

// Where the proto field name is not the JSON name (found with the script's --openapi check).
// An embedded Go struct tagged `json:",inline"` has no JSON name of its own: go-to-protobuf names
// the field after the Go type, and in JSON its fields sit directly in the parent.
const INLINE = new Set([
  'k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapProjection.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference',
  'k8s.io.api.core.v1.SecretEnvSource.localObjectReference',
  'k8s.io.api.core.v1.SecretKeySelector.localObjectReference',
  'k8s.io.api.core.v1.SecretProjection.localObjectReference',
  'k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon',
  'k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource',
  'k8s.io.api.core.v1.Probe.handler',
  'k8s.io.api.core.v1.Volume.volumeSource',
  'k8s.io.api.networking.v1.IngressRule.ingressRuleValue',
  'k8s.io.api.admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations',
  'k8s.io.api.admissionregistration.v1.RuleWithOperations.rule',
]);
// Go fields whose protobuf tag was derived from the Go name rather than the JSON tag.
const RENAMED: Record<string, string> = {
  'k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration.Webhooks': 'webhooks',
  'k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration.Webhooks': 'webhooks',
  'k8s.io.api.admissionregistration.v1.Validation.Expression': 'expression',
  'k8s.io.api.admissionregistration.v1.Variable.Name': 'name',
  'k8s.io.api.admissionregistration.v1.Variable.Expression': 'expression',
  'k8s.io.api.authentication.v1.BoundObjectReference.uID': 'uid',
  'k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup': 'apiGroup',
};
// Kinds upstream registers in every group version; their messages live in meta/v1.
const META_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'GetOptions', 'ListOptions', 'Status', 'WatchEvent']);
// Groups whose proto package is not the first label of the group name.
const GROUP_PACKAGES: Record<string, string> = { '': 'core', 'internal.apiserver.k8s.io': 'apiserverinternal' };
const DOTLESS_GROUPS = new Set(['apps', 'batch', 'autoscaling', 'policy', 'extensions']);

let table: Record<string, TableField[]> | undefined;
const compiled = new Map<string, Map<number, FieldInfo>>();

function messages(): Record<string, TableField[]> {
  table ??= (JSON.parse(readFileSync(new URL('./k8s-messages.json', import.meta.url), 'utf8')) as { messages: Record<string, TableField[]> }).messages;
  return table;
}

function fieldsOf(type: string): Map<number, FieldInfo> {
  let info = compiled.get(type);
  if (info) return info;
  const raw = messages()[type];
  if (!raw) throw new ProtobufDecodeError(`protobuf: no schema for message ${type}`);
  info = new Map();
  for (const [num, name, ftype, label] of raw) {
    const key = `${type}.${name}`;
    const m = /^map<([^,]+),(.+)>$/.exec(ftype);
    info.set(num, {
      json: RENAMED[key] ?? name,
      type: ftype,
      label,
      inline: INLINE.has(key),
      map: m ? { key: m[1], value: m[2] } : undefined,
    });
  }
  compiled.set(type, info);
  return info;
}

/** The JSON property names a message decodes to (inline fields expanded); used to check the name mapping. */
export function jsonFieldNames(type: string): string[] {
  return [...fieldsOf(type).values()].flatMap((f) => (f.inline ? jsonFieldNames(f.type) : [f.json]));
}

/** The protobuf message full name for an apiVersion and kind, or undefined if none is known. */
export function messageNameFor(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind) || !/^v[0-9]+[a-z0-9]*$/.test(version)) return undefined;
  const candidates: string[] = [];
  if (META_KINDS.has(kind)) candidates.push(`${META}.${kind}`);
  if (group !== 'meta.k8s.io' && (group.includes('.') || group === '' || DOTLESS_GROUPS.has(group))) {
    const pkg = GROUP_PACKAGES[group] ?? group.split('.')[0];
    candidates.unshift(`k8s.io.api.${pkg}.${version}.${kind}`);
  }
  return candidates.find((name) => {
    const fields = messages()[name];
    // Only top-level kinds: they carry ObjectMeta/ListMeta as field 1, or are the meta/v1 option kinds.
    return fields && (name.startsWith(`${META}.`) || fields.some(([n, f]) => n === 1 && f === 'metadata'));
  });
}

export function decodeKubernetesProtobuf(body: Buffer | Uint8Array): DecodedObject {
  if (!(body instanceof Uint8Array)) throw new ProtobufDecodeError('protobuf: body is not binary');
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) {
    throw new ProtobufDecodeError('protobuf: body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  try {
    const env = readUnknown(body.subarray(4));
    if (!env.kind) throw new ProtobufDecodeError('protobuf: envelope has no kind');
    if (env.contentEncoding) throw new ProtobufDecodeError(`protobuf: unsupported contentEncoding ${JSON.stringify(env.contentEncoding)}`);
    const type = messageNameFor(env.apiVersion, env.kind);
    if (!type) throw new ProtobufDecodeError(`protobuf: no kind ${JSON.stringify(env.kind)} is known in ${JSON.stringify(env.apiVersion)}`);
    const decoded = decodeMessage(env.raw, type, 0);
    const object = { apiVersion: env.apiVersion, kind: env.kind, ...(isObject(decoded) ? decoded : {}) };
    return { apiVersion: env.apiVersion, kind: env.kind, object };
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw err;
    throw new ProtobufDecodeError(`protobuf: malformed body: ${(err as Error).message}`);
  }
}

interface Envelope { apiVersion: string; kind: string; raw: Uint8Array; contentEncoding: string }

function readUnknown(buf: Uint8Array): Envelope {
  const out: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(0), contentEncoding: '' };
  const r = Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const [num, wt] = [tag >>> 3, tag & 7];
    if (wt !== 2 || num < 1 || num > 4) { r.skipType(wt); continue; }
    if (num === 1) {
      const tm = Reader.create(r.bytes());
      while (tm.pos < tm.len) {
        const t = tm.uint32();
        if (t === 0x0a) out.apiVersion = tm.string();
        else if (t === 0x12) out.kind = tm.string();
        else tm.skipType(t & 7);
      }
    } else if (num === 2) out.raw = r.bytes();
    else if (num === 3) out.contentEncoding = r.string();
    else r.skip(r.uint32()); // contentType: informational
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// The JSON value of one message: an object for ordinary messages, something else for the types
// with custom JSON marshalling upstream. `undefined` means "omit" (Go would write null).
function decodeMessage(buf: Uint8Array, type: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError('protobuf: message nesting too deep');
  const fields = fieldsOf(type);
  const values = new Map<number, unknown>();
  const r = Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    const [num, wt] = [tag >>> 3, tag & 7];
    const f = fields.get(num);
    if (num === 0) throw new ProtobufDecodeError(`protobuf: field number 0 in ${type}`);
    if (!f) { r.skipType(wt); continue; } // a newer client's field: Go skips it too
    if (f.map) {
      const entries = (values.get(num) as Record<string, unknown> | undefined) ?? {};
      if (wt !== 2) throw new ProtobufDecodeError(`protobuf: wrong wire type for map ${type}.${f.json}`);
      readMapEntry(r.bytes(), f.map, entries, depth);
      values.set(num, entries);
    } else if (f.label === 'r') {
      const list = (values.get(num) as unknown[] | undefined) ?? [];
      if (wt === 2 && isPackable(f.type)) {
        const end = r.uint32() + r.pos;
        if (end > r.len) throw new ProtobufDecodeError(`protobuf: truncated packed field ${type}.${f.json}`);
        while (r.pos < end) list.push(readScalar(r, f.type));
      } else list.push(readValue(r, wt, f.type, depth) ?? null);
      values.set(num, list);
    } else values.set(num, readValue(r, wt, f.type, depth));
  }
  return toJSON(type, fields, values);
}

function readMapEntry(buf: Uint8Array, map: { key: string; value: string }, into: Record<string, unknown>, depth: number): void {
  const r = Reader.create(buf);
  let key: unknown = '';
  let value: unknown;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) key = readValue(r, tag & 7, map.key, depth);
    else if (tag >>> 3 === 2) value = readValue(r, tag & 7, map.value, depth);
    else r.skipType(tag & 7);
  }
  // An absent value is the value type's zero (e.g. a ConfigMap key with "" as data).
  value ??= isScalar(map.value) ? zeroOf(map.value) : decodeMessage(new Uint8Array(0), map.value, depth + 1);
  into[String(key)] = value;
}

const VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const FIXED64 = new Set(['fixed64', 'sfixed64', 'double']);
const FIXED32 = new Set(['fixed32', 'sfixed32', 'float']);
const isPackable = (t: string) => VARINT.has(t) || FIXED64.has(t) || FIXED32.has(t);
const isScalar = (t: string) => isPackable(t) || t === 'string' || t === 'bytes';
const zeroOf = (t: string): unknown => (t === 'string' || t === 'bytes' ? '' : t === 'bool' ? false : 0);

function wireTypeOf(t: string): number {
  if (VARINT.has(t)) return 0;
  if (FIXED64.has(t)) return 1;
  if (FIXED32.has(t)) return 5;
  return 2;
}

function readValue(r: ProtoReader, wt: number, type: string, depth: number): unknown {
  if (wt !== wireTypeOf(type)) throw new ProtobufDecodeError(`protobuf: wire type ${wt} does not fit ${type}`);
  if (isScalar(type)) return readScalar(r, type);
  return decodeMessage(r.bytes(), type, depth + 1);
}

// protobufjs returns a Long when the `long` package is present and a number otherwise.
const toNumber = (v: unknown): number => (typeof v === 'number' ? v : (v as { toNumber(): number }).toNumber());

function readScalar(r: ProtoReader, type: string): unknown {
  switch (type) {
    case 'string': return r.string();
    case 'bytes': return Buffer.from(r.bytes()).toString('base64');
    case 'bool': return r.bool();
    case 'int32': return r.int32();
    case 'uint32': return r.uint32();
    case 'sint32': return r.sint32();
    case 'int64': return toNumber(r.int64());
    case 'uint64': return toNumber(r.uint64());
    case 'sint64': return toNumber(r.sint64());
    case 'fixed64': return toNumber(r.fixed64());
    case 'sfixed64': return toNumber(r.sfixed64());
    case 'double': return r.double();
    case 'fixed32': return r.fixed32();
    case 'sfixed32': return r.sfixed32();
    case 'float': return r.float();
    default: throw new ProtobufDecodeError(`protobuf: unsupported scalar type ${type}`);
  }
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

// gogo-protobuf writes Go value fields (label v) always and pointer fields (o) only when set. A
// zero in a value field is therefore indistinguishable from "not set" and is dropped, as Go's
// `omitempty` would; a zero in a pointer field was set on purpose (replicas: 0) and is kept.
// Value-typed messages are kept even when empty, like Go's JSON (`"status": {}`).
function toJSON(type: string, fields: Map<number, FieldInfo>, values: Map<number, unknown>): unknown {
  const special = SPECIAL[type];
  if (special) return special(values);
  if (isListWrapper(fields)) return values.get(1) ?? [];
  const out: Record<string, unknown> = {};
  for (const [n, f] of fields) {
    const v = values.get(n);
    if (v === undefined) continue;
    if (f.label === 'v' && isScalar(f.type) && isZero(v)) continue;
    if (f.inline) {
      if (isObject(v)) Object.assign(out, v);
    } else out[f.json] = v;
  }
  return out;
}

// Go named slice types (meta/v1 Verbs, the ExtraValue of user info) get a wrapper message with one
// repeated `items` field; their JSON is the bare array.
function isListWrapper(fields: Map<number, FieldInfo>): boolean {
  const only = fields.size === 1 ? fields.get(1) : undefined;
  return only !== undefined && only.json === 'items' && only.label === 'r' && only.type === 'string';
}

const SPECIAL: Record<string, (v: Map<number, unknown>) => unknown> = {
  [`${META}.Time`]: (v) => (v.size === 0 ? undefined : formatTime(v.get(1), 0, false)),
  [`${META}.MicroTime`]: (v) => (v.size === 0 ? undefined : formatTime(v.get(1), v.get(2), true)),
  [`${META}.Duration`]: (v) => formatDuration(Number(v.get(1) ?? 0)),
  [`${META}.FieldsV1`]: (v) => rawJSON(v.get(1)),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': (v) => rawJSON(v.get(1)),
  'k8s.io.apimachinery.pkg.api.resource.Quantity': (v) => (v.get(1) as string | undefined) || '0',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': (v) => (v.get(1) === 1 ? (v.get(3) ?? '') : (v.get(2) ?? 0)),
};

const ZERO_TIME_SECONDS = -62135596800; // Go's time.Time{} (year 1), also marshalled as null

function formatTime(seconds: unknown, nanos: unknown, micro: boolean): string | undefined {
  let s = Number(seconds ?? 0);
  let ns = Number(nanos ?? 0);
  if (s === ZERO_TIME_SECONDS && ns === 0) return undefined;
  s += Math.floor(ns / 1e9);
  ns = ((ns % 1e9) + 1e9) % 1e9;
  // Go refuses to marshal years outside 0..9999 as RFC 3339.
  if (!Number.isSafeInteger(s) || s < -62167219200 || s > 253402300799) {
    throw new ProtobufDecodeError(`protobuf: time ${s}s is outside the RFC 3339 range`);
  }
  const base = new Date(s * 1000).toISOString().slice(0, 19);
  return micro ? `${base}.${String(Math.floor(ns / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

// Go's time.Duration.String(), which is how metav1.Duration marshals to JSON.
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.abs(ns));
  const frac = (prec: number): string => {
    const p = 10n ** BigInt(prec);
    const digits = (u % p).toString().padStart(prec, '0').replace(/0+$/, '');
    u /= p;
    return digits ? `.${digits}` : '';
  };
  let out: string;
  if (u < 1000000000n) {
    const [prec, unit] = u < 1000n ? [0, 'ns'] : u < 1000000n ? [3, 'µs'] : [6, 'ms'];
    const f = frac(prec);
    out = `${u}${f}${unit}`;
  } else {
    const f = frac(9);
    out = `${u % 60n}${f}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

function rawJSON(b64: unknown): unknown {
  if (typeof b64 !== 'string' || b64 === '') return undefined;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new ProtobufDecodeError('protobuf: embedded raw object is not JSON');
  }
}
