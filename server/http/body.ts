// Reads and decodes request bodies: JSON, YAML and Kubernetes protobuf, with upstream's size
// limit (3 MiB) and 400 errors for anything malformed.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, isStatusError, tooLarge, unsupportedMediaType } from '../../apimachinery/errors.js';
import type { KubeObject } from '../registry/types.js';
import { decodeKubernetesProtobuf } from '../protobuf/decode.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * The deepest nesting of arrays and objects a body may have. Upstream's JSON decoder stops at
 * 10000 ("exceeded max depth"); ours stops sooner because validation, merging, field sets and
 * managed fields walk objects recursively and a JavaScript stack ends after a few thousand
 * levels. No real object comes near either limit.
 */
export const MAX_NESTING_DEPTH = 1000;

const exceededMaxDepth = () => badRequest(`error decoding body: exceeded max depth ${MAX_NESTING_DEPTH}`);

/**
 * Rejects a JSON (or flow-style YAML) text nested deeper than MAX_NESTING_DEPTH, before any
 * parser or recursive walk sees it. Brackets inside double-quoted strings do not count.
 */
export function checkNestingDepth(body: Buffer | string): void {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_NESTING_DEPTH) throw exceededMaxDepth();
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
}

/** The same limit for an already decoded value (block-style YAML has no brackets to count). */
export function checkValueDepth(value: unknown): void {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (!v || typeof v !== 'object') continue;
    if (d >= MAX_NESTING_DEPTH) throw exceededMaxDepth();
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child && typeof child === 'object') stack.push([child, d + 1]);
  }
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const body = Buffer.concat(chunks);
      // Protobuf is binary (its decoder has a depth limit of its own); every other body is JSON or YAML.
      if (mediaType(req) !== 'application/vnd.kubernetes.protobuf') {
        try {
          checkNestingDepth(body);
        } catch (e) {
          return reject(e);
        }
      }
      resolve(body);
    });
    req.on('error', (e) => { if (!failed) reject(badRequest(`error reading request body: ${e.message}`)); });
  });
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
}

/** JSON `null` means unset: drop null members so defaults and validation see them as absent. */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (val !== null) out[k] = dropNulls(val);
    return out;
  }
  return v;
}

export function parseJson(text: string, what = 'body'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

/** Decodes an object body by its Content-Type. */
export function decodeObject(body: Buffer, contentType: string): KubeObject {
  let value: unknown;
  switch (contentType) {
    case 'application/json':
    case '':
      value = parseJson(body.toString('utf8'));
      break;
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      try {
        value = parseYaml(body.toString('utf8'), { uniqueKeys: false });
        checkValueDepth(value);
      } catch (e) {
        if (isStatusError(e)) throw e;
        throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
      }
      break;
    case 'application/vnd.kubernetes.protobuf':
      try {
        value = decodeKubernetesProtobuf(body).object;
      } catch (e) {
        throw badRequest(`error decoding protobuf body: ${(e as Error).message}`);
      }
      break;
    default:
      throw unsupportedMediaType(contentType);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest('Object \'Kind\' is missing in request body: the body must be a JSON object');
  const obj = dropNulls(value) as KubeObject;
  if (obj.metadata !== undefined && (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))) {
    throw badRequest('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
  }
  return obj;
}
