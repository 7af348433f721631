// What changed between two versions of an object, as field sets (upstream's TypedValue.Compare):
// the fields a writer takes, and the fields every manager loses because they are gone.
import { FieldSet } from './fieldpath.js';
import { childShape, isObject, itemElement, own, resolve, type ListShape, type Shape } from './schema.js';

export interface Comparison {
  /** Paths added or modified (a struct, map or list item that did not exist counts, with all below it). */
  changed: FieldSet;
  /** Paths that existed and are gone. */
  removed: FieldSet;
}

export function compareObjects(lhs: unknown, rhs: unknown, shape: Shape): Comparison {
  const d = diff(lhs, rhs, shape);
  return { changed: d?.c ?? new FieldSet(), removed: d?.r ?? new FieldSet() };
}

interface Diff { c?: FieldSet; r?: FieldSet }

const member = (): FieldSet => {
  const s = new FieldSet();
  s.member = true;
  return s;
};

function leafDiff(l: unknown, r: unknown): Diff | undefined {
  if (l === undefined) return { c: member() };
  if (r === undefined) return { r: member() };
  return deepEqual(l, r) ? undefined : { c: member() };
}

/** null, undefined, {} and [] are all "empty": upstream compares and merges two empties as leaves. */
export function emptyish(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) {
    for (const k in v) if (Object.prototype.hasOwnProperty.call(v, k)) return false;
    return true;
  }
  return false;
}

function attach(out: Diff | undefined, el: string, d: Diff | undefined): Diff | undefined {
  if (!d) return out;
  out ??= {};
  if (d.c) (out.c ??= new FieldSet()).ensureChildren().set(el, d.c);
  if (d.r) (out.r ??= new FieldSet()).ensureChildren().set(el, d.r);
  return out;
}

function diff(l: unknown, r: unknown, declared: Shape): Diff | undefined {
  if (l === undefined && r === undefined) return undefined;
  if (l === r && (typeof l !== 'object' || l === null)) return undefined;
  let shape = declared;
  if (shape.kind === 'deduced') shape = resolve(shape, (isObject(l) || l === undefined) && (isObject(r) || r === undefined) ? {} : null);
  if (shape.kind === 'ignored') return undefined;
  let out: Diff | undefined;
  if (shape.kind === 'struct' || shape.kind === 'map') {
    const lo = isObject(l) || l == null, ro = isObject(r) || r == null;
    if (!lo || !ro || (emptyish(l) && emptyish(r))) return leafDiff(l, r);
    const lm = l as Record<string, unknown> | null | undefined, rm = r as Record<string, unknown> | null | undefined;
    if (lm) {
      for (const k of Object.keys(lm)) {
        const c = childShape(shape, k).shape;
        out = attach(out, `f:${k}`, diff(lm[k], rm ? own(rm, k) : undefined, c));
      }
    }
    if (rm) {
      for (const k of Object.keys(rm)) {
        if (lm && Object.prototype.hasOwnProperty.call(lm, k)) continue;
        out = attach(out, `f:${k}`, diff(undefined, rm[k], childShape(shape, k).shape));
      }
    }
  } else if (shape.kind === 'assoc' || shape.kind === 'set') {
    const la = Array.isArray(l) || l == null, ra = Array.isArray(r) || r == null;
    if (!la || !ra || (emptyish(l) && emptyish(r))) return leafDiff(l, r);
    const li = indexItems(shape, l as unknown[] | null | undefined), ri = indexItems(shape, r as unknown[] | null | undefined);
    // Items without a key (or a live object with duplicates) make the list one leaf, as atomic.
    if (!li || !ri) return leafDiff(l, r);
    for (const [el, lv] of li) {
      const rv = ri.get(el);
      out = attach(out, el, lv.dup || rv?.dup ? leafDiff(lv.value, rv?.value) : diff(lv.value, rv?.value, shape.items));
    }
    for (const [el, rv] of ri) {
      if (li.has(el)) continue;
      out = attach(out, el, rv.dup ? leafDiff(undefined, rv.value) : diff(undefined, rv.value, shape.items));
    }
  } else {
    return leafDiff(l, r);
  }
  // A structure that appears or disappears is itself added or removed (the "." in FieldsV1).
  if (l === undefined) (((out ??= {}).c ??= new FieldSet())).member = true;
  else if (r === undefined) (((out ??= {}).r ??= new FieldSet())).member = true;
  return out;
}

interface Indexed { value: unknown; index: number; dup: boolean }

/** A list's items by path element, and the element of each item in list order. */
export type ItemIndex = Map<string, Indexed> & { order?: string[] };

/**
 * A list's items by path element; duplicates keep the first index and, as their value, all of
 * them. Undefined when some item has no element (no key, or a map in a set).
 */
export function indexItems(shape: ListShape, list: readonly unknown[] | null | undefined): ItemIndex | undefined {
  const out: ItemIndex = new Map<string, Indexed>();
  if (!list) return out;
  const order: string[] = (out.order = new Array<string>(list.length));
  for (let i = 0; i < list.length; i++) {
    let el: string;
    try {
      el = itemElement(shape, list[i]);
    } catch {
      return undefined;
    }
    order[i] = el;
    const seen = out.get(el);
    if (!seen) out.set(el, { value: list[i], index: i, dup: false });
    else {
      seen.value = seen.dup ? [...(seen.value as unknown[]), list[i]] : [seen.value, list[i]];
      seen.dup = true;
    }
  }
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>, bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  if (ak.length !== Object.keys(bo).length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  }
  return true;
}
