// Lists from the watch cache with upstream's resourceVersion semantics (unset: consistent
// read; "0": any; N: not older than N, or exactly N), selectors, and limit/continue paging
// over a consistent snapshot.
import type { KubeObject } from '../registry/types.js';
import type { Store } from './store.js';
import type { ListOptions } from './selection.js';
import { badRequest, gone, timeout } from '../../apimachinery/errors.js';
import { decodeContinue, encodeContinue, continueTooOld } from '../http/continue-token.js';
import { entryJson } from '../storage/watch-cache.js';

export interface ListItem { object: KubeObject; json?: string }
export interface ListResult { items: ListItem[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

/** A resourceVersion as upstream parses one: an unsigned 64-bit integer. */
export function isResourceVersion(v: string): boolean {
  return /^\d{1,20}$/.test(v) && BigInt(v) < 2n ** 64n;
}

function parseRev(v: string, what: string): number {
  if (!isResourceVersion(v)) throw badRequest(`invalid ${what} "${v}"`);
  return Number(v);
}

export async function list(store: Store, namespace: string, opts: ListOptions): Promise<ListResult> {
  const pred = store.predicate(opts);
  const prefix = store.def.namespaced && namespace ? `${namespace}/` : '';
  const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
  const converts = !!store.def.conversion;
  let source: Iterable<[string, KubeObject, string | undefined]>;
  let snapshotRev: number;
  let start = '';

  if (opts.continue) {
    if (opts.resourceVersion && opts.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    const token = decodeContinue(opts.continue);
    const cache = store.cache();
    const snap = cache.snapshotAt(token.rv, prefix);
    if (!snap) throw continueTooOld();
    snapshotRev = token.rv;
    start = token.start;
    source = snap.map(([k, o]) => [k, o, undefined] as [string, KubeObject, undefined]);
  } else if (opts.resourceVersionMatch === 'Exact') {
    const rev = parseRev(opts.resourceVersion ?? '', 'resourceVersion');
    const snap = store.cache().snapshotAt(rev, prefix);
    if (!snap) throw gone(`too old resource version: ${rev} (${store.cache().rev})`);
    snapshotRev = rev;
    source = snap.map(([k, o]) => [k, o, undefined] as [string, KubeObject, undefined]);
  } else {
    let cache;
    if (!opts.resourceVersion) cache = await store.fresh();
    else {
      cache = store.cache();
      const rev = parseRev(opts.resourceVersion, 'resourceVersion');
      if (rev > 0 && !(await cache.waitFor(rev, 3000))) throw timeout(`Timeout: Too large resource version: ${rev}, current: ${cache.rev}`);
    }
    snapshotRev = cache.rev;
    source = (function* () {
      for (const [k, e] of cache.entries(prefix)) yield [k, e.object, converts ? undefined : entryJson(e)] as [string, KubeObject, string | undefined];
    })();
  }

  const items: ListItem[] = [];
  let lastKey = '';
  let more = false;
  let remaining: number | undefined;
  const iter = source[Symbol.iterator]();
  for (let n = iter.next(); !n.done; n = iter.next()) {
    const [key, stored, json] = n.value;
    if (start && key < start) continue;
    const obj = converts ? store.out(stored) : stored;
    if (!pred.empty && !pred.matches(obj)) continue;
    if (items.length >= limit) {
      more = true;
      // Upstream reports how many items follow, unless a selector makes that unknowable.
      if (pred.empty) {
        remaining = 1;
        for (let m = iter.next(); !m.done; m = iter.next()) if (!start || m.value[0] >= start) remaining++;
      }
      break;
    }
    items.push({ object: obj, json });
    lastKey = key;
  }
  const result: ListResult = { items, resourceVersion: String(snapshotRev), continue: more ? encodeContinue(snapshotRev, lastKey) : undefined };
  if (more && remaining !== undefined) result.remainingItemCount = remaining;
  return result;
}
