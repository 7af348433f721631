// metadata.managedFields: decoding and encoding the entries, and the bookkeeping kube-apiserver's
// field manager does for every write that is not an apply (create, update, patch): the writer
// takes the fields it changed, and every other manager loses them.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../registry/types.js';
import { FieldSet } from './fieldpath.js';
import { compareObjects, deepEqual } from './compare.js';
import { isObject, rootShape, structField, type SchemaRef, type Shape } from './schema.js';
import { zeroValue } from './zero-value.js';

export type Operation = 'Apply' | 'Update';

/** One manager's entry, decoded. `fieldsV1` is the wire form while `set` is the one it was read as. */
export interface ManagerEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
  fieldsV1?: Record<string, unknown>;
}

/** Entries by upstream's manager identifier. */
export type Managed = Map<string, ManagerEntry>;

export interface UpdateOptions {
  /** The subresource written ("status", "scale"), if any. */
  subresource?: string;
  /** RFC 3339 time of the write. */
  time: string;
  /** The served group version, e.g. "apps/v1". */
  apiVersion: string;
}

/**
 * upstream's BuildManagerIdentifier: the JSON of the entry without fields and time (and without
 * apiVersion for appliers, who stay one entry whatever version they apply).
 */
export function managerIdentifier(manager: string, operation: Operation, apiVersion: string, subresource = ''): string {
  const id: Record<string, string> = {};
  if (manager) id.manager = manager;
  id.operation = operation;
  if (operation === 'Update' && apiVersion) id.apiVersion = apiVersion;
  if (subresource) id.subresource = subresource;
  return JSON.stringify(id);
}

const parsedFields = new WeakMap<object, FieldSet>();

function setOf(fieldsV1: Record<string, unknown>): FieldSet {
  let s = parsedFields.get(fieldsV1);
  if (!s) parsedFields.set(fieldsV1, (s = FieldSet.fromFieldsV1(fieldsV1)));
  return s;
}

/** upstream's DecodeManagedFields; throws with its messages when an entry is not valid. */
export function decodeManagedFields(entries: unknown): Managed {
  const out: Managed = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw: unknown, i) => {
    if (!isObject(raw)) throw new Error(`managed fields entry ${i} is not an object`);
    const e = raw as ManagedFieldsEntry & Record<string, unknown>;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (typeof e.apiVersion !== 'string' || e.apiVersion.length < 1) throw new Error('apiVersion must not be empty');
    if (!e.fieldsType) throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`);
    const fieldsV1 = isObject(e.fieldsV1) ? (e.fieldsV1 as Record<string, unknown>) : {};
    const entry: ManagerEntry = {
      manager: typeof e.manager === 'string' ? e.manager : '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      subresource: typeof e.subresource === 'string' ? e.subresource : '',
      time: typeof e.time === 'string' && e.time ? e.time : undefined,
      set: setOf(fieldsV1),
      fieldsV1,
    };
    out.set(managerIdentifier(entry.manager, entry.operation, entry.apiVersion, entry.subresource), entry);
  });
  return out;
}

const seconds = (t: string | undefined): number => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The entries as upstream stores them: Apply before Update, then oldest first, then by name. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] {
  const entries = [...managed.values()].filter((e) => !e.set.isEmpty());
  entries.sort((p, q) => cmp(p.operation, q.operation) || seconds(p.time) - seconds(q.time) ||
    cmp(p.manager, q.manager) || cmp(p.apiVersion, q.apiVersion) || cmp(p.subresource, q.subresource));
  return entries.map((e) => {
    const fieldsV1 = e.fieldsV1 ?? e.set.toFieldsV1();
    parsedFields.set(fieldsV1, e.set);
    // Keys in the order of upstream's ManagedFieldsEntry.
    const out: Record<string, unknown> = {};
    if (e.manager) out.manager = e.manager;
    out.operation = e.operation;
    out.apiVersion = e.apiVersion;
    if (e.time) out.time = e.time;
    out.fieldsType = 'FieldsV1';
    out.fieldsV1 = fieldsV1;
    if (e.subresource) out.subresource = e.subresource;
    return out as ManagedFieldsEntry;
  });
}

/** Gives an entry a new set, dropping the wire form that described the old one. */
export function setEntryFields(e: ManagerEntry, set: FieldSet): void {
  if (set === e.set) return;
  e.set = set;
  e.fieldsV1 = undefined;
}

/** Writes the entries into the object, or removes managedFields when none is left. */
export function storeManagedFields(obj: KubeObject, managed: Managed): void {
  const meta = (obj.metadata ??= {});
  const encoded = encodeManagedFields(managed);
  if (encoded.length > 0) meta.managedFields = encoded;
  else delete meta.managedFields;
}

/** Metadata the server sets, never owned (upstream's stripMetaManager). */
export const STRIPPED = FieldSet.of([
  ['f:apiVersion'], ['f:kind'], ['f:metadata'], ['f:metadata', 'f:name'], ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:creationTimestamp'], ['f:metadata', 'f:selfLink'], ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:clusterName'], ['f:metadata', 'f:generation'], ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
]);

/**
 * The fields a write through this endpoint never owns (the strategies' GetResetFields): status on
 * the main resource, spec on the status subresource.
 */
export function resetFields(root: Shape, subresource: string): FieldSet {
  if (subresource === 'status') return FieldSet.of([['f:spec']]);
  if (!subresource && root.kind === 'struct' && structField(root.def, 'status')) return FieldSet.of([['f:status']]);
  return FieldSet.empty();
}

/** RFC 3339 to the second, as metav1.Time is stored. */
export function normalizeTime(t: string): string {
  return t.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '');
}

/** Upstream keeps at most this many Update entries; older ones merge into "ancient-changes". */
const MAX_UPDATE_MANAGERS = 10;

/** upstream's capManagersManager: folds the oldest Update entries into one bucket per version. */
export function capUpdateManagers(managed: Managed): void {
  const updaters = [...managed.entries()].filter(([, e]) => e.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmp(ia, ib));
  const firstOfVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const [id, e] = updaters[i];
    const bucketId = managerIdentifier('ancient-changes', 'Update', e.apiVersion);
    const first = firstOfVersion.get(e.apiVersion);
    if (first === undefined) {
      firstOfVersion.set(e.apiVersion, id);
      continue;
    }
    let bucket = managed.get(bucketId);
    if (!bucket) {
      const f = managed.get(first)!;
      managed.delete(first);
      bucket = { ...f, manager: 'ancient-changes', subresource: '' };
      managed.set(bucketId, bucket);
    }
    setEntryFields(bucket, e.set.union(bucket.set));
    bucket.time = e.time;
    managed.delete(id);
    length--;
  }
}

/** `[{}]`: the documented way for a client to clear managedFields. */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries) || entries.length !== 1 || !isObject(entries[0])) return false;
  return Object.values(entries[0]).every((v) => v === null || v === '');
}

/**
 * Records a non-apply write of `next` (`old` is undefined for a create) into next's managedFields.
 * Managed fields the client sent are kept when valid (that is how clients edit them, e.g.
 * kubectl's client-side-apply upgrade), and `[{}]` clears them; otherwise the live ones are the
 * base, and subresource writes always use those. As upstream, a write this cannot make sense of
 * leaves the object without managedFields rather than failing.
 */
export function recordUpdate(old: KubeObject | undefined, next: KubeObject, manager: string, schema: SchemaRef, opts: UpdateOptions): void {
  const meta = (next.metadata ??= {});
  const subresource = opts.subresource ?? '';
  const sent: unknown = meta.managedFields;
  let managed: Managed | undefined;
  if (!subresource && isReset(sent)) {
    managed = new Map();
  } else {
    const live: unknown = old?.metadata?.managedFields;
    // Clients mostly send back what they read: then the stored encoding is reused as it is.
    if (!subresource && sent !== undefined && sent !== null && sent !== live && !deepEqual(sent, live)) {
      try {
        managed = decodeManagedFields(sent);
      } catch {
        managed = undefined;
      }
      if (managed?.size === 0) managed = undefined;
      // Stored entries are always upstream's canonical encoding; a client's may not be.
      for (const e of managed?.values() ?? []) {
        e.fieldsV1 = undefined;
        if (e.time) e.time = normalizeTime(e.time);
      }
    }
    if (!managed) {
      try {
        managed = decodeManagedFields(live);
      } catch {
        delete meta.managedFields;
        return;
      }
    }
  }
  delete meta.managedFields;
  const root = rootShape(schema);
  updateManaged(managed, old ?? zeroValue(root), next, manager, root, { subresource, time: opts.time, apiVersion: opts.apiVersion });
  capUpdateManagers(managed);
  storeManagedFields(next, managed);
}

/**
 * The Update bookkeeping on decoded entries: every manager loses what changed or went, and the
 * writer's entry (one per manager, version and subresource) gains what changed.
 */
export function updateManaged(managed: Managed, old: unknown, next: unknown, manager: string, root: Shape, opts: { subresource: string; time: string; apiVersion: string }): void {
  // What the endpoint resets (status on the main resource) neither moves nor drops ownership.
  const reset = resetFields(root, opts.subresource);
  const diff = compareObjects(old, next, root);
  const changed = diff.changed.recursiveDifference(reset);
  const lost = changed.union(diff.removed.recursiveDifference(reset));
  if (!lost.isEmpty()) {
    for (const [id, e] of managed) {
      setEntryFields(e, e.set.difference(lost));
      if (e.set.isEmpty()) managed.delete(id);
    }
  }
  const taken = changed.difference(STRIPPED);
  if (taken.isEmpty()) return;
  const id = managerIdentifier(manager, 'Update', opts.apiVersion, opts.subresource);
  const prev = managed.get(id);
  managed.set(id, {
    manager, operation: 'Update', apiVersion: opts.apiVersion, subresource: opts.subresource, time: normalizeTime(opts.time),
    set: prev ? taken.union(prev.set) : taken,
  });
}
