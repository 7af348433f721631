// A schema-driven protobuf encoder for the fuzzer: turns a (possibly mutated) JSON object into the
// `k8s\0` + runtime.Unknown body kubectl sends, using the same field table the server decodes with,
// so corrupted protobuf bodies start from ones that would get deep into the server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/processes.js';

type TableField = [number, string, string, 'o' | 'v' | 'r'];
let table: Record<string, TableField[]> | undefined;
const messages = () => (table ??= (JSON.parse(readFileSync(join(ROOT, 'server/protobuf/k8s-messages.json'), 'utf8')) as { messages: Record<string, TableField[]> }).messages);

export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export class ProtoWriter {
  private readonly parts: Buffer[] = [];

  varint(n: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    this.parts.push(Buffer.from(out));
    return this;
  }

  tag(num: number, wireType: number): this {
    return this.varint(num * 8 + wireType);
  }

  bytes(num: number, data: Uint8Array | string): this {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    this.tag(num, 2).varint(b.length);
    this.parts.push(b);
    return this;
  }

  raw(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);

function encodeScalar(w: ProtoWriter, num: number, type: string, v: unknown): void {
  if (type === 'string') {
    if (typeof v === 'string') w.bytes(num, v);
  } else if (type === 'bytes') {
    if (typeof v === 'string') w.bytes(num, Buffer.from(v, 'base64'));
  } else if (VARINT.has(type)) {
    if (typeof v === 'boolean') w.tag(num, 0).varint(v ? 1 : 0);
    else if (typeof v === 'number' && Number.isFinite(v)) {
      const n = BigInt(Math.trunc(v));
      w.tag(num, 0).varint(type.startsWith('sint') ? (n << 1n) ^ (n < 0n ? -1n : 0n) : n);
    }
  } else if (type === 'double' || type === 'fixed64' || type === 'sfixed64') {
    if (typeof v === 'number') { const b = Buffer.alloc(8); b.writeDoubleLE(v); w.tag(num, 1).raw(b); }
  } else if (type === 'float' || type === 'fixed32' || type === 'sfixed32') {
    if (typeof v === 'number') { const b = Buffer.alloc(4); b.writeFloatLE(v); w.tag(num, 5).raw(b); }
  }
}

const isScalar = (t: string) => VARINT.has(t) || ['string', 'bytes', 'double', 'float', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64'].includes(t);

/** Encodes what of `value` fits message `type`; values of the wrong JSON type are left out. */
export function encodeMessage(type: string, value: unknown, depth = 0): Buffer {
  const w = new ProtoWriter();
  if (depth > 40) return w.finish();
  if (type.endsWith('.Quantity')) {
    if (typeof value === 'string' || typeof value === 'number') w.bytes(1, String(value));
    return w.finish();
  }
  if (type.endsWith('.IntOrString')) {
    if (typeof value === 'number') w.tag(1, 0).varint(0).tag(2, 0).varint(Math.trunc(value));
    else if (typeof value === 'string') w.tag(1, 0).varint(1).bytes(3, value);
    return w.finish();
  }
  if (type.endsWith('meta.v1.Time') || type.endsWith('meta.v1.MicroTime')) {
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    if (Number.isFinite(ms)) w.tag(1, 0).varint(Math.floor(ms / 1000));
    return w.finish();
  }
  if (type.endsWith('RawExtension') || type.endsWith('FieldsV1')) {
    if (value !== undefined) w.bytes(1, JSON.stringify(value));
    return w.finish();
  }
  const fields = messages()[type];
  if (!fields || !value || typeof value !== 'object' || Array.isArray(value)) return w.finish();
  const obj = value as Record<string, unknown>;
  for (const [num, name, ftype, label] of fields) {
    const v = obj[name];
    if (v === undefined || v === null) continue;
    const map = /^map<([^,]+),(.+)>$/.exec(ftype);
    if (map) {
      if (typeof v !== 'object' || Array.isArray(v)) continue;
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) {
        const entry = new ProtoWriter().bytes(1, k);
        if (isScalar(map[2])) encodeScalar(entry, 2, map[2], mv);
        else entry.bytes(2, encodeMessage(map[2], mv, depth + 1));
        w.bytes(num, entry.finish());
      }
    } else if (label === 'r') {
      if (!Array.isArray(v)) continue;
      for (const item of v) {
        if (isScalar(ftype)) encodeScalar(w, num, ftype, item);
        else w.bytes(num, encodeMessage(ftype, item, depth + 1));
      }
    } else if (isScalar(ftype)) encodeScalar(w, num, ftype, v);
    else w.bytes(num, encodeMessage(ftype, v, depth + 1));
  }
  return w.finish();
}

export function protoMessageName(apiVersion: string, kind: string): string {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const pkg = group === '' ? 'core' : group.split('.')[0];
  return `k8s.io.api.${pkg}.${version}.${kind}`;
}

/** The full request body: magic, then runtime.Unknown{typeMeta, raw, contentEncoding, contentType}. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Buffer {
  const typeMeta = new ProtoWriter().bytes(1, apiVersion).bytes(2, kind).finish();
  const unknown = new ProtoWriter().bytes(1, typeMeta).bytes(2, raw).bytes(3, contentEncoding).bytes(4, '').finish();
  return Buffer.concat([MAGIC, unknown]);
}

export function encodeObject(obj: Record<string, unknown>, apiVersion: string, kind: string): Buffer {
  return envelope(apiVersion, kind, encodeMessage(protoMessageName(apiVersion, kind), obj));
}
