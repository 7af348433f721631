// JSON Patch (RFC 6902, application/json-patch+json) as kube-apiserver applies it. Upstream uses
// evanphx/json-patch v4, whose behaviour clients depend on beyond the RFC: `replace` of a missing
// object key adds it, negative array indices count from the end, a `test` for null passes on a
// missing key, and failures are 422s carrying the library's error text. This module reproduces
// those rules and lets fast-json-patch do the edits.
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { badRequest, genericServerResponse, tooLarge } from '../../apimachinery/errors.js';
import { hasOwn, isJsonObject, JsonSyntaxError, parseJson, unmarshalTypeError, type JsonValue } from './go-json.js';

/** Upstream's limit on operations in one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/**
 * Upstream's limit on how much `copy` operations may grow a document (the apiserver's
 * JSONPatchMaxCopyBytes, 3 MiB): without it a few hundred copies of a parent into its own child
 * double the document each time and exhaust memory.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export type JsonPatchOperation = Record<string, JsonValue>;

type Container = Record<string, JsonValue> | JsonValue[];
interface Located { container: Container; tokens: string[]; key: string }

class OpError extends Error {}
const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

const decodePatchKey = (k: string) => k.replace(/~1/g, '/').replace(/~0/g, '~');
const pointer = (tokens: string[]) => tokens.map((t) => `/${jsonpatch.escapePathComponent(t)}`).join('');

/** Go's strconv.Atoi, with its error text. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** An existing index for get/set/remove; negative indices count from the end. */
function existingIndex(key: string, length: number): number {
  const idx = atoi(key);
  if (idx >= length || idx < -length) throw new OpError(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
  return idx < 0 ? idx + length : idx;
}

/** An insertion index for add: 0..length, `-` appends. */
function insertionIndex(key: string, length: number): number {
  if (key === '-') return length;
  let idx: number;
  try {
    idx = atoi(key);
  } catch (e) {
    throw new OpError(`value was not a proper array index: '${key}': ${(e as Error).message}`);
  }
  if (idx > length || idx < -(length + 1)) throw new OpError(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);
  return idx < 0 ? idx + length + 1 : idx;
}

/** The value under `key`, or undefined; arrays throw for a bad index as upstream's get does. */
function getIn(container: Container, key: string): JsonValue | undefined {
  if (Array.isArray(container)) return container[existingIndex(key, container.length)];
  return hasOwn(container, key) ? container[key] : undefined;
}

/**
 * upstream's findObject: walks every path segment but the last; the container it reaches and
 * the last segment, or undefined when a segment is missing or not an object or array.
 */
function findObject(root: JsonValue, path: string): Located | undefined {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let node: JsonValue = root;
  const tokens: string[] = [];
  for (const part of split.slice(1, -1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    const key = decodePatchKey(part);
    let next: JsonValue | undefined;
    try {
      next = getIn(node, key);
    } catch {
      return undefined;
    }
    if (next === undefined || next === null || typeof next !== 'object') return undefined;
    tokens.push(Array.isArray(node) ? String(existingIndex(key, node.length)) : key);
    node = next;
  }
  if (typeof node !== 'object' || node === null) return undefined;
  return { container: node, tokens, key: decodePatchKey(split[split.length - 1]) };
}

function stringField(op: JsonPatchOperation, name: 'path' | 'from', missing: string): string {
  const v = op[name];
  if (v === undefined || v === null) throw new OpError(missing);
  if (typeof v !== 'string') throw new OpError(unmarshalTypeError(v, 'string'));
  return v;
}
const opPath = (op: JsonPatchOperation) => stringField(op, 'path', `operation missing path field: ${MISSING}`);
const opFrom = (op: JsonPatchOperation) => stringField(op, 'from', `operation, missing from field: ${MISSING}`);

function wrap<T>(prefix: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof OpError) throw new OpError(`${prefix}: ${e.message}`);
    throw e;
  }
}

/** A JSON document under a handle, so `replace ""` can swap the whole document; `copied` counts copy growth. */
interface Doc { root: JsonValue; copied: number }

function edit(doc: Doc, operation: Operation): void {
  doc.root = jsonpatch.applyOperation(doc.root, operation, false, true).newDocument;
}

function addAt(doc: Doc, loc: Located, value: JsonValue): void {
  const key = Array.isArray(loc.container) ? String(insertionIndex(loc.key, loc.container.length)) : loc.key;
  edit(doc, { op: 'add', path: pointer([...loc.tokens, key]), value });
}

function removeAt(doc: Doc, loc: Located): void {
  if (Array.isArray(loc.container)) {
    const idx = existingIndex(loc.key, loc.container.length);
    edit(doc, { op: 'remove', path: pointer([...loc.tokens, String(idx)]) });
    return;
  }
  if (!hasOwn(loc.container, loc.key)) throw new OpError(`Unable to remove nonexistent key: ${loc.key}: ${MISSING}`);
  edit(doc, { op: 'remove', path: pointer([...loc.tokens, loc.key]) });
}

function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function applyOperation(doc: Doc, op: JsonPatchOperation): void {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  const value = hasOwn(op, 'value') ? op.value : undefined;
  switch (kind) {
    case 'add': {
      const path = wrap('add operation failed to decode path', () => { try { return opPath(op); } catch { throw new OpError(MISSING); } });
      const loc = findObject(doc.root, path);
      if (!loc) throw new OpError(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrap(`error in add for path: '${path}'`, () => addAt(doc, loc, value ?? null));
      return;
    }
    case 'remove': {
      const path = wrap('remove operation failed to decode path', () => { try { return opPath(op); } catch { throw new OpError(MISSING); } });
      const loc = findObject(doc.root, path);
      if (!loc) throw new OpError(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrap(`error in remove for path: '${path}'`, () => removeAt(doc, loc));
      return;
    }
    case 'replace': {
      const path = wrap('replace operation failed to decode path', () => opPath(op));
      if (path === '') {
        // Upstream silently ignores a root replacement by anything but an object or array.
        if (typeof value === 'object' && value !== null) doc.root = value;
        return;
      }
      const loc = findObject(doc.root, path);
      if (!loc) throw new OpError(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
      if (Array.isArray(loc.container)) {
        let idx: number;
        try {
          idx = existingIndex(loc.key, loc.container.length);
        } catch {
          throw new OpError(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
        }
        edit(doc, { op: 'replace', path: pointer([...loc.tokens, String(idx)]), value: value ?? null });
      } else {
        const op2 = hasOwn(loc.container, loc.key) ? 'replace' : 'add';
        edit(doc, { op: op2, path: pointer([...loc.tokens, loc.key]), value: value ?? null });
      }
      return;
    }
    case 'move': {
      const from = wrap('move operation failed to decode from', () => opFrom(op));
      const source = findObject(doc.root, from);
      if (!source) throw new OpError(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      const moved = wrap(`error in move for path: '${source.key}'`, () => {
        const v = getIn(source.container, source.key);
        removeAt(doc, source);
        return v ?? null;
      });
      const path = wrap('move operation failed to decode path', () => opPath(op));
      const target = findObject(doc.root, path);
      if (!target) throw new OpError(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      wrap(`error in move for path: '${path}'`, () => addAt(doc, target, moved));
      return;
    }
    case 'copy': {
      const from = wrap('copy operation failed to decode from', () => opFrom(op));
      const source = findObject(doc.root, from);
      if (!source) throw new OpError(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      const copied = wrap(`error in copy for from: '${from}'`, () => getIn(source.container, source.key) ?? null);
      const path = wrap('copy operation failed to decode path', () => { try { return opPath(op); } catch { throw new OpError(MISSING); } });
      const target = findObject(doc.root, path);
      if (!target) throw new OpError(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      doc.copied += Buffer.byteLength(JSON.stringify(copied));
      if (doc.copied > MAX_JSON_PATCH_COPY_BYTES) {
        throw new OpError(`Unable to complete the copy, the accumulated size increase of copy is ${doc.copied}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
      }
      wrap('error while adding value during copy', () => addAt(doc, target, structuredClone(copied)));
      return;
    }
    case 'test': {
      const path = wrap('test operation failed to decode path', () => opPath(op));
      const failed = () => new OpError(`testing value ${path} failed: test failed`);
      if (path === '') {
        if (value === undefined || !jsonEqual(doc.root, value)) throw failed();
        return;
      }
      const loc = findObject(doc.root, path);
      if (!loc) throw new OpError(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
      const actual = wrap(`error in test for path: '${path}'`, () => getIn(loc.container, loc.key));
      if (actual === undefined || actual === null) {
        if (value === undefined || value === null) return;
        throw failed();
      }
      if (value === undefined || !jsonEqual(actual, value)) throw failed();
      return;
    }
    default:
      throw new OpError(`Unexpected kind: ${kind}`);
  }
}

/**
 * Applies decoded JSON patch operations to a copy of `original`. A failing operation aborts the
 * whole patch with upstream's 422 (`the server rejected our request due to an error in our
 * request`, the library's message as the cause).
 */
export function applyJsonPatch<T extends object>(original: T, operations: JsonPatchOperation[]): T {
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  const doc: Doc = { root: structuredClone(original) as unknown as JsonValue, copied: 0 };
  for (const op of operations) {
    try {
      applyOperation(doc, structuredClone(op));
    } catch (e) {
      // fast-json-patch refuses __proto__ and constructor/prototype paths; so do we, as a 422.
      if (e instanceof OpError || (e instanceof TypeError && e.message.includes('banned'))) throw genericServerResponse(422, e.message);
      throw e;
    }
  }
  return doc.root as unknown as T;
}

/**
 * Decodes a JSON patch body. With fieldValidation Strict or Warn (the server default) upstream
 * first decodes into its own operation struct, hence the two wordings for a malformed body.
 */
export function decodeJsonPatch(body: string, fieldValidation: FieldValidation = 'Warn'): JsonPatchOperation[] {
  const strict = fieldValidation !== 'Ignore';
  const fail = (message: string) => badRequest(strict ? `error decoding patch: ${message}` : message);
  let doc: JsonValue;
  try {
    doc = parseJson(body);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw fail(e.message);
    throw e;
  }
  if (doc === null) return [];
  if (!Array.isArray(doc)) throw fail(unmarshalTypeError(doc, strict ? '[]handlers.jsonPatchOp' : 'jsonpatch.Patch'));
  const ops: JsonPatchOperation[] = [];
  for (const item of doc) {
    if (item === null) { ops.push({}); continue; }
    if (!isJsonObject(item)) throw fail(unmarshalTypeError(item, strict ? 'handlers.jsonPatchOp' : 'jsonpatch.Operation'));
    if (strict) {
      for (const field of ['op', 'path', 'from'] as const) {
        const v = item[field];
        if (v !== undefined && v !== null && typeof v !== 'string') throw fail(unmarshalTypeError(v, 'string', `jsonPatchOp.${field}`));
      }
    }
    ops.push(item);
  }
  return ops;
}
