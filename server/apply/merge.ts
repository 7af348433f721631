// Merging an apply configuration into the live object (upstream's TypedValue.Merge) and removing
// what an applier stopped applying (the Updater's prune). Results never share mutable parts with
// their inputs: the store defaults and edits them afterwards, and the live object may be cached.
import type { FieldSet } from './fieldpath.js';
import { emptyish, indexItems } from './compare.js';
import { childShape, isObject, itemElement, resolve, type ListShape, type Shape } from './schema.js';

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function copyJson<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(copyJson) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyJson((v as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * `rhs` merged into `lhs`: leaves and atomic parts replaced, structs and granular maps merged by
 * key, keyed lists and sets merged by item with upstream's ordering (shared items in the applied
 * order, live-only items where they were). A null in `rhs` stays null, so that the caller sees it
 * as a change (and a conflict) before it drops it as unset.
 */
export function mergeValues(lhs: unknown, rhs: unknown, declared: Shape): unknown {
  if (rhs === undefined) return copyJson(lhs);
  if (lhs === undefined) return copyJson(rhs);
  const shape = declared.kind === 'deduced' ? resolve(declared, isObject(lhs) && isObject(rhs) ? {} : null) : declared;
  switch (shape.kind) {
    case 'struct':
    case 'map': {
      if (!(isObject(lhs) || lhs === null) || !(isObject(rhs) || rhs === null) || (emptyish(lhs) && emptyish(rhs))) return copyJson(rhs);
      if (rhs === null) return copyJson(lhs);
      const out: Record<string, unknown> = {};
      const l = lhs ?? {};
      for (const k of Object.keys(l)) {
        const c = childShape(shape, k).shape;
        if (c.kind === 'ignored') continue;
        out[k] = hasOwn(rhs, k) ? mergeValues(l[k], rhs[k], c) : copyJson(l[k]);
      }
      for (const k of Object.keys(rhs)) {
        if (hasOwn(l, k)) continue;
        if (childShape(shape, k).shape.kind !== 'ignored') out[k] = copyJson(rhs[k]);
      }
      return out;
    }
    case 'assoc':
    case 'set': {
      if (!(Array.isArray(lhs) || lhs === null) || !(Array.isArray(rhs) || rhs === null) || (emptyish(lhs) && emptyish(rhs))) return copyJson(rhs);
      if (rhs === null) return copyJson(lhs);
      return mergeLists(shape, (lhs ?? []) as unknown[], rhs as unknown[]);
    }
    default:
      return copyJson(rhs);
  }
}

/** structured-merge-diff's list merge: walk both lists, emitting shared items in the applied order. */
function mergeLists(shape: ListShape, lhs: unknown[], rhs: unknown[]): unknown[] {
  const li = indexItems(shape, lhs), ri = indexItems(shape, rhs);
  // A live list whose items have no keys is treated as atomic; an applied one was rejected earlier.
  if (!li || !ri) return copyJson(rhs);
  const lEls = li.order ?? [], rEls = ri.order ?? [];
  const shared = rEls.filter((el) => li.has(el));
  let sharedAt = 0;
  let nextShared: string | undefined = shared[sharedAt++];
  const done = new Set<string>();
  const out: unknown[] = [];
  const mergeItem = (el: string): unknown => {
    const l = li.get(el);
    return mergeValues(l && !l.dup ? l.value : undefined, ri.get(el)!.value, shape.items);
  };
  let lI = 0, rI = 0;
  while (lI < lEls.length || rI < rEls.length) {
    if (lI < lEls.length && rI < rEls.length) {
      const el = lEls[lI];
      if (el === rEls[rI]) {
        done.add(el);
        out.push(mergeItem(el));
        lI++, rI++;
        nextShared = shared[sharedAt++];
        continue;
      }
      // A shared item that comes later in the applied order: emit it when the applied list gets there.
      if (ri.has(el) && nextShared !== undefined && nextShared !== el) {
        lI++;
        continue;
      }
    }
    if (lI < lEls.length) {
      const el = lEls[lI];
      if (!ri.has(el)) {
        out.push(copyJson(lhs[lI]));
        lI++;
        continue;
      }
      if (done.has(el)) {
        lI++;
        continue;
      }
    }
    if (rI < rEls.length) {
      const el = rEls[rI++];
      done.add(el);
      out.push(mergeItem(el));
      if (nextShared === el) nextShared = shared[sharedAt++];
    } else {
      lI++;
    }
  }
  return out;
}

/**
 * Removes, in place, what an applier applied last time (`last`) that nobody owns now (`owned`,
 * every manager's set with the applier's new one). As upstream (EnsureNamedFieldsAreMembers), a
 * struct field counts as owned or applied when anything below it is.
 */
export function prune(value: unknown, last: FieldSet, owned: FieldSet | undefined, declared: Shape): void {
  if (!last.children) return;
  const shape = resolve(declared, value);
  if ((shape.kind === 'struct' || shape.kind === 'map') && isObject(value)) {
    for (const [el, lc] of last.children) {
      if (el.charCodeAt(0) !== 0x66 /* f */) continue;
      const k = el.slice(2);
      if (!hasOwn(value, k)) continue;
      const c = childShape(shape, k);
      const oc = owned?.children?.get(el);
      const applied = lc.member || (c.declared && !!lc.children?.size);
      const kept = !!oc && (oc.member || (c.declared && !!oc.children?.size));
      if (applied && !kept) delete value[k];
      else if (lc.children?.size) prune(value[k], lc, oc, c.shape);
    }
  } else if ((shape.kind === 'assoc' || shape.kind === 'set') && Array.isArray(value)) {
    let removed = false;
    const keep: boolean[] = [];
    for (let i = 0; i < value.length; i++) {
      keep.push(true);
      let el: string;
      try {
        el = itemElement(shape, value[i]);
      } catch {
        continue;
      }
      const lc = last.children.get(el);
      if (!lc) continue;
      const oc = owned?.children?.get(el);
      if (lc.member && !oc?.member) {
        keep[i] = false;
        removed = true;
      } else if (lc.children?.size) {
        prune(value[i], lc, oc, shape.items);
      }
    }
    if (removed) {
      let w = 0;
      for (let i = 0; i < value.length; i++) if (keep[i]) value[w++] = value[i];
      value.length = w;
    }
  }
}

/** Drops null members of structs and maps, in place: JSON null means unset in stored objects. */
export function dropNulls(value: unknown, declared: Shape): void {
  const shape = resolve(declared, value);
  if ((shape.kind === 'struct' || shape.kind === 'map') && isObject(value)) {
    for (const k of Object.keys(value)) {
      if (value[k] === null) delete value[k];
      else if (typeof value[k] === 'object') dropNulls(value[k], childShape(shape, k).shape);
    }
  } else if ((shape.kind === 'assoc' || shape.kind === 'set') && Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) dropNulls(item, shape.items);
  }
}
