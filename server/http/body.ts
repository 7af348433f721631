// Reads and decodes request bodies: JSON, YAML and Kubernetes protobuf, with upstream's size
// limit (3 MiB) and 400 errors for anything malformed.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { badRequest, tooLarge, unsupportedMediaType } from '../../apimachinery/errors.js';
import type { KubeObject } from '../registry/types.js';
import { decodeKubernetesProtobuf } from '../protobuf/decode.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

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
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
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
      } catch (e) {
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
