// List helpers of the strategic merge patch: element types, matching by merge key, and the order
// rules of upstream's "preserve order" design ($setElementOrder > order in the patch > order in
// the live object).
import { goTypeName, goValue, hasOwn, isJsonObject, type JsonValue } from './go-json.js';
import { badArgType, ErrNoListOfLists, badFormat, MergeError, noMergeKey } from './merge-errors.js';

export type JsonMap = Record<string, JsonValue>;
/** Go's reflect kind of list elements, as far as merging cares: maps are merged by key. */
export type ElementKind = 'map' | 'scalar';

export const DIRECTIVE_MARKER = '$patch';
export const DELETE_DIRECTIVE = 'delete';

/** upstream's sliceElementType: every element of the lists must share one Go type, and not be a list. */
export function sliceElementKind(...lists: JsonValue[][]): ElementKind {
  let previous: string | undefined;
  for (const list of lists) {
    for (const v of list) {
      const current = v === null ? 'nil' : goTypeName(v);
      if (previous === undefined) {
        previous = current;
        if (Array.isArray(v)) throw new MergeError(ErrNoListOfLists, 'invalid');
      } else if (previous !== current) {
        throw new MergeError(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (previous === undefined) throw new MergeError('no elements in any of the given slices');
  return previous === 'map[string]interface {}' ? 'map' : 'scalar';
}

/** Go's == on two decoded JSON values (merge key values and list scalars). */
function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

/** The index of `value` in `list`, matching maps by their merge key value. */
function indexOf(list: JsonValue[], value: JsonValue, mergeKey: string, kind: ElementKind): number {
  const keyOf = (x: JsonValue): JsonValue | undefined => (kind === 'map' ? (isJsonObject(x) ? x[mergeKey] : undefined) : x);
  const wanted = keyOf(value);
  return list.findIndex((x) => sameValue(keyOf(x), wanted));
}

export function findMapByKeyValue(list: JsonValue[], key: string, value: JsonValue): number {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!isJsonObject(item)) throw new MergeError(`value for key ${i} is not a map`);
    if (hasOwn(item, key) && sameValue(item[key], value)) return i;
  }
  return -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: JsonValue[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isJsonObject(item)) throw badArgType('map', item);
      if (!hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
    }
  }
}

/** Splits out the `{$patch: delete}` items, which sort after the others. */
export function extractToDeleteItems(list: JsonValue[]): [JsonValue[], JsonValue[]] {
  const keep: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) throw badArgType('map', v);
    if (v[DIRECTIVE_MARKER] === DELETE_DIRECTIVE) toDelete.push(v);
    else keep.push(v);
  }
  return [keep, toDelete];
}

/** Sorts `toSort` by the position of each item in `order` (stable; unknown items keep their place). */
function normalizeSliceOrder(toSort: JsonValue[], order: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  let toDelete: JsonValue[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  const ranked = toSort.map((item, i) => ({ item, i, at: indexOf(order, item, mergeKey, kind) }));
  ranked.sort((a, b) => (a.at >= 0 && b.at >= 0 ? a.at - b.at : 0) || a.i - b.i);
  return [...ranked.map((r) => r.item), ...toDelete];
}

/**
 * Interleaves server-only items (`left`) into the patch items (`right`), each list keeping its
 * own order, placing a server item before a patch item only when the live list had it earlier.
 */
function mergeSortedSlice(left: JsonValue[], right: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOf(serverOrder, left[i], mergeKey, kind);
      const ri = indexOf(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** upstream's normalizeElementOrder: patch items by `patchOrder`, server-only items by `serverOrder`, merged. */
export function normalizeElementOrder(patch: JsonValue[], serverOnly: JsonValue[], patchOrder: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: ElementKind): JsonValue[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

/** Splits `list` into the items also in `partitionBy` and the rest (by merge key for maps). */
export function partitionByPresence(list: JsonValue[], partitionBy: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  if (!mergeKey) {
    const present = new Set(partitionBy);
    for (const v of list) (present.has(v) ? inPatch : serverOnly).push(v);
    return [inPatch, serverOnly];
  }
  for (const v of list) {
    if (!isJsonObject(v)) throw badArgType('map', v);
    if (!hasOwn(v, mergeKey)) throw noMergeKey(v, mergeKey);
    (findMapByKeyValue(partitionBy, mergeKey, v[mergeKey]) >= 0 ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

function mergeKeyValueEqual(left: JsonValue, right: JsonValue, mergeKey: string): boolean {
  if (!mergeKey) return sameValue(left, right);
  if (!isJsonObject(left)) throw badArgType('map', left);
  if (!isJsonObject(right)) throw badArgType('map', right);
  if (!hasOwn(left, mergeKey)) throw noMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw noMergeKey(right, mergeKey);
  return sameValue(left[mergeKey], right[mergeKey]);
}

/**
 * Checks that the patch list follows `$setElementOrder`: its items (deletions aside) appear there,
 * in the same relative order.
 */
export function validatePatchWithSetOrderList(patchList: JsonValue[], setOrderList: JsonValue[], mergeKey: string): void {
  if (setOrderList.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrderList.length) {
    const item = nonDelete[p];
    if (isJsonObject(item) && hasOwn(item, DIRECTIVE_MARKER)) { p++; continue; }
    if (mergeKeyValueEqual(item, setOrderList[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrderList.length) {
    throw new MergeError(`The order in patch list:\n${goValue(patchList)}\n doesn't match $setElementOrder list:\n${goValue(setOrderList)}\n`);
  }
}

/** upstream's extractKey for `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`. */
export function extractKey(key: string, prefix: string, error: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) throw badFormat(error);
  return key.slice(slash + 1);
}

/** Removes from a scalar list every value in `toDelete` (`$deleteFromPrimitiveList`). */
export function deleteFromSlice(current: JsonValue[], toDelete: JsonValue[]): JsonValue[] {
  const gone = new Set(toDelete);
  return current.filter((v) => !gone.has(v));
}

/** Deduplicates scalars (first occurrence wins; the caller re-sorts anyway). */
export function deduplicateScalars(list: JsonValue[]): JsonValue[] {
  return [...new Set(list)];
}
