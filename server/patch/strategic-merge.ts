// Strategic merge patch (application/strategic-merge-patch+json), applied the way kube-apiserver
// applies it: upstream's strategicpatch.StrategicMergeMapPatch with MergeParallelList and
// IgnoreUnmatchedNulls set. Lists are merged by the merge keys and strategies of the patch
// metadata table; paths the type graph does not know get JSON-merge-patch semantics.
import { badRequest } from '../../apimachinery/errors.js';
import { hasOwn, isJsonObject, JsonSyntaxError, parseJson, setKey, unmarshalTypeError, type JsonValue } from './go-json.js';
import {
  badArgType, badFormat, badPatchType, ErrBadPatchFormatForPrimitiveList, ErrBadPatchFormatForRetainKeys,
  ErrBadPatchFormatForSetElementOrderList, MergeError, noMergeKey, toStatusError,
} from './merge-errors.js';
import { lookupForSlice, lookupForStruct, mergeStrategy, rootSchema, schemaName, type PatchSchema } from './patch-meta.js';
import {
  deduplicateScalars, deleteFromSlice, DELETE_DIRECTIVE, DIRECTIVE_MARKER, extractKey, findMapByKeyValue,
  normalizeElementOrder, partitionByPresence, sliceElementKind, validatePatchWithSetOrderList, type JsonMap,
} from './strategic-merge-list.js';

const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

export interface SchemaReference { group: string; version: string; kind: string }

type JsonClass = 'map' | 'list' | 'scalar' | 'null';
function jsonClass(v: JsonValue): JsonClass {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'map' : 'scalar';
}

/** Drops every map carrying `$patch` from a value taken whole from the patch (upstream's removeDirectives). */
function removeDirectives(v: JsonValue): [JsonValue, boolean] {
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const item of v) {
      const [cleaned, keep] = removeDirectives(item);
      if (keep) out.push(cleaned);
    }
    return [out, true];
  }
  if (isJsonObject(v)) {
    if (hasOwn(v, DIRECTIVE_MARKER)) return [null, false];
    for (const k of Object.keys(v)) {
      const [cleaned, keep] = removeDirectives(v[k]);
      if (keep) setKey(v, k, cleaned);
      else delete v[k];
    }
  }
  return [v, true];
}

/** A null in a value taken whole means "unset", not "store null". */
function discardNullValues(v: JsonValue): void {
  if (Array.isArray(v)) v.forEach(discardNullValues);
  else if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNullValues(v[k]);
    }
  }
}

/** Stores a patch value the original does not have (or has with another type). */
function takePatchValue(original: JsonMap, key: string, patchValue: JsonValue): void {
  discardNullValues(patchValue);
  const [cleaned, keep] = removeDirectives(patchValue);
  if (keep) setKey(original, key, cleaned);
  else delete original[key];
}

function handleDirectiveInMergeMap(directive: JsonValue, patch: JsonMap): JsonMap {
  if (directive === REPLACE_DIRECTIVE) {
    delete patch[DIRECTIVE_MARKER];
    return patch;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw badPatchType(directive, patch);
}

/** `$retainKeys`: drop from the original every key the list does not name. */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retain = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retain)) throw badFormat(ErrBadPatchFormatForRetainKeys);
  const keep = new Set(retain);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || k.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    if (!keep.has(k)) throw badFormat(ErrBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/**
 * `$setElementOrder/<field>`: merges the field's patch list (if any) into the original's and
 * orders the result by the directive, then removes both from the patch.
 */
function mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, schema: PatchSchema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const setOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setOrder)) throw badArgType('list', setOrder);
    const field = extractKey(key, SET_ELEMENT_ORDER_PREFIX, ErrBadPatchFormatForSetElementOrderList);
    const foundOriginal = hasOwn(original, field);
    const foundPatch = hasOwn(patch, field);
    const originalList = foundOriginal ? original[field] : [];
    const patchList = foundPatch ? patch[field] : [];
    if (!Array.isArray(originalList)) throw badArgType('list', originalList);
    if (!Array.isArray(patchList)) throw badArgType('list', patchList);

    const { schema: elementSchema, meta } = lookupForSlice(schema, field);
    const strategy = mergeStrategy(meta.strategies);
    validatePatchWithSetOrderList(patchList, setOrder, meta.mergeKey);

    let merged: JsonValue[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchList)[0] as JsonValue[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler([...originalList], patchList, elementSchema, strategy, meta.mergeKey, false);
    else continue;

    const [patchItems, serverOnly] = partitionByPresence(merged, setOrder, meta.mergeKey);
    const kind = sliceElementKind(originalList, patchList);
    setKey(original, field, normalizeElementOrder(patchItems, serverOnly, setOrder, originalList, meta.mergeKey, kind));
    delete patch[field];
  }
}

function mergeMap(original: JsonMap | null, patch: JsonMap, schema: PatchSchema): JsonMap {
  if (hasOwn(patch, DIRECTIVE_MARKER)) return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);
  const target: JsonMap = original ?? {};
  applyRetainKeysDirective(target, patch);
  mergePatchIntoOriginal(target, patch, schema);

  // Keys are taken in patch order. Upstream walks a Go map, so when a patch both adds and
  // `$deleteFromPrimitiveList`s the same value its result is random; kubectl never sends that.
  for (const patchKey of Object.keys(patch)) {
    const patchValue = patch[patchKey];
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX, ErrBadPatchFormatForPrimitiveList);
      isDeleteList = true;
    }
    if (patchValue === null) {
      delete target[key];
      continue;
    }
    if (!hasOwn(target, key) || jsonClass(target[key]) !== jsonClass(patchValue)) {
      if (!isDeleteList) takePatchValue(target, key, patchValue);
      continue;
    }
    const current = target[key];
    if (isJsonObject(current)) {
      const { schema: sub, meta } = lookupForStruct(schema, key);
      setKey(target, key, mergeMapHandler(current, patchValue as JsonMap, sub, mergeStrategy(meta.strategies)));
    } else if (Array.isArray(current)) {
      const { schema: sub, meta } = lookupForSlice(schema, key);
      setKey(target, key, mergeSliceHandler(current, patchValue as JsonValue[], sub, mergeStrategy(meta.strategies), meta.mergeKey, isDeleteList));
    } else {
      takePatchValue(target, key, patchValue);
    }
  }
  return target;
}

function mergeMapHandler(original: JsonMap, patch: JsonMap, schema: PatchSchema, strategy: string): JsonMap {
  return strategy === REPLACE_DIRECTIVE ? patch : mergeMap(original, patch, schema);
}

function mergeSliceHandler(original: JsonValue[], patch: JsonValue[], schema: PatchSchema, strategy: string, mergeKey: string, isDeleteList: boolean): JsonValue[] {
  // A deletion list works whatever the field's strategy is.
  if (strategy === MERGE_DIRECTIVE || isDeleteList) return mergeSlice(original, patch, schema, mergeKey, isDeleteList);
  return patch;
}

function mergeSlice(original: JsonValue[], patch: JsonValue[], schema: PatchSchema, mergeKey: string, isDeleteList: boolean): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  let merged: JsonValue[];
  let base = original;
  let patchItems = patch;
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new MergeError(`cannot merge lists without merge key for ${schemaName(schema)}`);
    [base, patchItems] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(base, patchItems, mergeKey, schema);
  }
  const [inPatch, serverOnly] = partitionByPresence(merged, patchItems, mergeKey);
  return normalizeElementOrder(inPatch, serverOnly, patchItems, base, mergeKey, kind);
}

/** Applies the `{$patch: delete|replace}` items of a patch list; returns the new base and the rest. */
function mergeSliceWithSpecialElements(original: JsonValue[], patch: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const plain: JsonValue[] = [];
  let base = original;
  let replace = false;
  for (const v of patch) {
    const item = v as JsonMap;
    if (!hasOwn(item, DIRECTIVE_MARKER)) {
      plain.push(v);
      continue;
    }
    const directive = item[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      for (let at = findMapByKeyValue(base, mergeKey, item[mergeKey]); at >= 0; at = findMapByKeyValue(base, mergeKey, item[mergeKey])) {
        base = [...base.slice(0, at), ...base.slice(at + 1)];
      }
    } else if (directive === REPLACE_DIRECTIVE) {
      // Keep going: the remaining directives must still be pruned from the list.
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw new MergeError('merging lists cannot yet be specified in the patch');
    } else {
      throw badPatchType(directive, item);
    }
  }
  return replace ? [plain, []] : [base, plain];
}

function mergeSliceWithoutSpecialElements(original: JsonValue[], patch: JsonValue[], mergeKey: string, schema: PatchSchema): JsonValue[] {
  const out = [...original];
  for (const v of patch) {
    const item = v as JsonMap;
    if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    const at = findMapByKeyValue(out, mergeKey, item[mergeKey]);
    if (at >= 0) out[at] = mergeMap(out[at] as JsonMap, item, schema);
    else out.push(v);
  }
  return out;
}

/**
 * Applies a decoded strategic merge patch to `original` for the kind named by `schema`.
 * Neither argument is modified. Failures are StatusErrors worded and coded as upstream's.
 */
export function applyStrategicMergePatch<T extends object>(original: T, patch: object, schema: SchemaReference): T {
  const target = structuredClone(original) as unknown as JsonMap;
  const patchMap = structuredClone(patch) as JsonMap;
  try {
    return mergeMap(target, patchMap, rootSchema(schema.group, schema.version, schema.kind)) as unknown as T;
  } catch (e) {
    throw toStatusError(e);
  }
}

/**
 * Decodes a strategic merge patch body as upstream does: malformed JSON and non-objects are
 * 400 BadRequest with encoding/json's wording; `null` is an empty patch.
 */
export function decodeStrategicMergePatch(body: string): JsonMap {
  let value: JsonValue;
  try {
    value = parseJson(body);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw badRequest(e.message);
    throw e;
  }
  if (value === null) return {};
  if (!isJsonObject(value)) throw badRequest(unmarshalTypeError(value, 'map[string]interface {}'));
  return value;
}
