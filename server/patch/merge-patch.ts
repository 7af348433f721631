// JSON merge patch (RFC 7386, application/merge-patch+json), with the details of upstream's
// evanphx/json-patch MergePatch: null deletes a key, objects merge recursively, anything else
// replaces, and nulls inside a value that is taken whole are pruned (from objects, not arrays).
import { badRequest } from '../../apimachinery/errors.js';
import { hasOwn, isJsonObject, JsonSyntaxError, parseJson, setKey, unmarshalTypeError, type JsonValue } from './go-json.js';
import type { FieldValidation } from './json-patch.js';

type JsonMap = Record<string, JsonValue>;

function pruneNulls(v: JsonValue): JsonValue {
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else pruneNulls(v[k]);
    }
  } else if (Array.isArray(v)) {
    // Upstream keeps null array elements but prunes the objects inside the array.
    for (const item of v) if (item !== null) pruneNulls(item);
  }
  return v;
}

function mergeValue(current: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(current)) return pruneNulls(patch);
  if (!isJsonObject(patch)) return patch;
  mergeDocs(current, patch);
  return current;
}

function mergeDocs(doc: JsonMap, patch: JsonMap): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const current = hasOwn(doc, k) ? doc[k] : null;
    setKey(doc, k, current === null ? pruneNulls(v) : mergeValue(current, v));
  }
}

/** Applies a decoded merge patch (an object) to a copy of `original`. */
export function applyMergePatch<T extends object>(original: T, patch: object): T {
  const doc = structuredClone(original) as unknown as JsonMap;
  mergeDocs(doc, structuredClone(patch) as JsonMap);
  return doc as unknown as T;
}

/**
 * Decodes a merge patch body. Upstream checks it as a `map[string]interface{}` first (with
 * fieldValidation Strict or Warn, the default), then the merge library rejects what is left
 * with "Invalid JSON Patch".
 */
export function decodeMergePatch(body: string, fieldValidation: FieldValidation = 'Warn'): JsonMap {
  const strict = fieldValidation !== 'Ignore';
  let value: JsonValue;
  try {
    value = parseJson(body);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw badRequest(strict ? `error decoding patch: ${e.message}` : 'Invalid JSON Patch');
  }
  if (isJsonObject(value)) return value;
  if (strict && value !== null) throw badRequest(`error decoding patch: ${unmarshalTypeError(value, 'map[string]interface {}')}`);
  throw badRequest('Invalid JSON Patch');
}
