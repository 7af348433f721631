// Server-side apply (PATCH with application/apply-patch+yaml): upstream's field manager Apply.
// The configuration is merged into the live object; what the applier applied before and no
// longer applies is removed unless someone else owns it; fields another manager owns and the
// apply would change are conflicts (409) unless forced; the applier's entry becomes exactly
// what it applied.
import { parseAllDocuments } from 'yaml';
import type { StatusCause } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../registry/types.js';
import { badRequest, StatusError, unknownError } from '../../apimachinery/errors.js';
import { FieldSet, FieldSetError, fieldSetOf, pathString } from './fieldpath.js';
import { compareObjects } from './compare.js';
import { dropNulls, mergeValues, prune } from './merge.js';
import { isObject, rootShape, type SchemaRef, type Shape } from './schema.js';
import { zeroValue } from './zero-value.js';
import { checkValueDepth } from '../http/body.js';
import {
  capUpdateManagers, decodeManagedFields, managerIdentifier, normalizeTime, resetFields, setEntryFields, storeManagedFields, STRIPPED,
  updateManaged, type Managed, type ManagerEntry,
} from './managed-fields.js';

export interface ApplyOptions {
  force: boolean;
  /** RFC 3339 time of the write. */
  time: string;
  /** The served group version, e.g. "apps/v1". */
  apiVersion: string;
  subresource?: string;
}

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** The manager kubectl uses for `apply --server-side`; upstream treats it specially (see below). */
const KUBECTL = 'kubectl';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export interface Conflict { id: string; entry: ManagerEntry; set: FieldSet }

/**
 * Applies `applied` (a decoded apply configuration; not modified) for `manager` to `live`
 * (undefined: the object is created from it) and returns the new object with its managedFields.
 * Neither input shares anything with the result.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, manager: string, schema: SchemaRef, opts: ApplyOptions): KubeObject {
  checkObjectType(applied, schema);
  if (applied.metadata?.managedFields !== undefined && applied.metadata.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const root = rootShape(schema);
  const subresource = opts.subresource ?? '';
  let managed: Managed;
  try {
    managed = decodeManagedFields(live?.metadata?.managedFields);
  } catch (e) {
    throw unknownError(`failed to decode managed fields: ${(e as Error).message}`, 500);
  }
  let config: FieldSet;
  try {
    config = fieldSetOf(applied, root);
  } catch (e) {
    // Upstream answers a malformed apply configuration (duplicate or key-less list items) with a 500;
    // it is the client's input, and Podium never answers bad input with a 500.
    if (e instanceof FieldSetError) throw badRequest(`failed to create typed patch object (${objectGVKNN(applied)}): ${e.message}`);
    throw e;
  }
  config = config.recursiveDifference(resetFields(root, subresource));
  // Objects written before anything tracked them: what is there belongs to "before-first-apply".
  if (live && managed.size === 0) {
    updateManaged(managed, zeroValue(root), live, BEFORE_FIRST_APPLY, root, { subresource, time: opts.time, apiVersion: opts.apiVersion });
  }

  const id = managerIdentifier(manager, 'Apply', opts.apiVersion, subresource);
  const prev = managed.get(id);
  const lastSet = prev?.set;
  const entry: ManagerEntry = { manager, operation: 'Apply', apiVersion: opts.apiVersion, subresource, time: prev?.time, set: config };
  managed.set(id, entry);
  const merged = mergeValues(live ?? {}, applied, root) as KubeObject;
  if (lastSet && !lastSet.isEmpty()) {
    let owned = FieldSet.empty();
    for (const e of managed.values()) owned = owned.union(e.set);
    prune(merged, lastSet, owned, root);
  }

  let objectChanged = true;
  if (live) {
    const diff = compareObjects(live, merged, root);
    objectChanged = !diff.changed.isEmpty() || !diff.removed.isEmpty();
    // Fields this endpoint resets (status on the main resource) are nobody's business here.
    const reset = resetFields(root, subresource);
    const changed = diff.changed.recursiveDifference(reset), removed = diff.removed.recursiveDifference(reset);
    const conflicts: Conflict[] = [];
    for (const [eid, e] of managed) {
      if (eid === id) continue;
      const c = e.set.intersection(changed);
      if (!c.isEmpty()) conflicts.push({ id: eid, entry: e, set: c });
      setEntryFields(e, e.set.difference(removed));
    }
    if (conflicts.length > 0 && !opts.force) {
      // kubectl moving from client-side apply: fields it last applied client-side, still as live
      // has them, are its own (upstream's lastAppliedManager).
      const allowed = manager === KUBECTL ? allowedFromLastApplied(live, root) : undefined;
      const remaining = allowed
        ? conflicts.map((c) => ({ ...c, set: c.set.difference(allowed) })).filter((c) => !c.set.isEmpty())
        : conflicts;
      if (remaining.length > 0) throw conflictError(remaining);
    }
    for (const c of conflicts) setEntryFields(c.entry, c.entry.set.difference(c.set));
  }
  const own = entry.set.difference(STRIPPED);
  // Re-applying the same configuration (the usual case) keeps the stored encoding as it is.
  if (prev && prev.apiVersion === entry.apiVersion && prev.set.equals(own)) Object.assign(entry, { set: prev.set, fieldsV1: prev.fieldsV1 });
  else setEntryFields(entry, own);
  for (const [eid, e] of managed) if (e.set.isEmpty()) managed.delete(eid);
  if (objectChanged && managed.has(id)) entry.time = normalizeTime(opts.time);

  const annotations = merged.metadata?.annotations;
  if (manager === KUBECTL && annotations?.[LAST_APPLIED]) {
    // upstream's lastAppliedUpdater keeps the client-side apply annotation in step.
    annotations[LAST_APPLIED] = buildLastApplied(applied);
    if (annotationsSize(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED];
  }
  dropNulls(merged, root);
  capUpdateManagers(managed);
  storeManagedFields(merged, managed);
  return merged;
}

/** upstream's versionCheckManager: the configuration must be of the kind and version served. */
function checkObjectType(applied: KubeObject, schema: SchemaRef): void {
  const gvk = objectGVK(applied);
  if (gvk.group !== schema.group || gvk.version !== schema.version || gvk.kind !== schema.kind) {
    throw badRequest(`invalid object type: ${gvk.group}/${gvk.version}, Kind=${gvk.kind}`);
  }
}

/** schema.ParseGroupVersion as unstructured objects use it: an unparsable apiVersion is empty. */
function objectGVK(obj: KubeObject): SchemaRef {
  const kind = typeof obj.kind === 'string' ? obj.kind : '';
  const av = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const parts = av.split('/');
  if (av === '' || parts.length > 2) return { group: '', version: '', kind };
  return parts.length === 1 ? { group: '', version: av, kind } : { group: parts[0], version: parts[1], kind };
}

function objectGVKNN(obj: KubeObject): string {
  const gvk = objectGVK(obj);
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}; ${gvk.group}/${gvk.version}, Kind=${gvk.kind}`;
}

/** How upstream names a manager in conflicts: `"kubectl"`, `"x" with subresource "status"`, `"y" using apps/v1`. */
export function printManager(e: ManagerEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  return e.operation === 'Update' ? `${s} using ${e.apiVersion}` : s;
}

/** upstream's NewConflictError: one cause per conflicting path, a message grouped by manager. */
export function conflictError(conflicts: Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const flat = sorted.flatMap((c) => c.set.paths().map((p) => ({ who: printManager(c.entry), path: pathString(p) })));
  const causes: StatusCause[] = flat.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${c.who}`, field: c.path }));
  let message: string;
  if (flat.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${flat[0].who}: ${flat[0].path}`;
  } else {
    const lines: string[] = [];
    for (const c of sorted) {
      lines.push(`conflicts with ${printManager(c.entry)}:`);
      for (const p of c.set.paths()) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}

/** The fields of the last client-side applied configuration that live still has as applied. */
function allowedFromLastApplied(live: KubeObject, root: Shape): FieldSet | undefined {
  const text = live.metadata?.annotations?.[LAST_APPLIED];
  if (!text) return undefined;
  try {
    const last = JSON.parse(text) as unknown;
    if (!isObject(last)) return undefined;
    const { changed, removed } = compareObjects(last, live, root);
    return fieldSetOf(last, root).difference(changed).difference(removed);
  } catch {
    return undefined;
  }
}

/** The annotation's value as upstream encodes it: the configuration without it, keys sorted, newline-terminated. */
function buildLastApplied(applied: KubeObject): string {
  const copy: KubeObject = { ...applied };
  if (applied.metadata?.annotations) {
    const annotations = { ...applied.metadata.annotations };
    delete annotations[LAST_APPLIED];
    copy.metadata = { ...applied.metadata, annotations };
    if (Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  }
  return `${goSortedJson(copy)}\n`;
}

/** encoding/json of a decoded object: map keys sorted, <, > and & escaped. */
function goSortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goSortedJson).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${escapeHtml(JSON.stringify(k))}:${goSortedJson(v[k])}`).join(',')}}`;
  return escapeHtml(JSON.stringify(v ?? null));
}

const escapeHtml = (s: string): string => s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function annotationsSize(a: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(a)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/**
 * An apply PATCH body (YAML, or JSON which kubectl sends) as upstream's applyPatcher decodes it:
 * the first YAML document into a map. Malformed bodies and non-objects are 400 with upstream's
 * wording (YAML parse errors come from another parser, so their detail differs). A missing
 * apiVersion or kind is left for serverSideApply, which rejects it as upstream does.
 */
export function decodeApplyBody(body: Buffer | string): KubeObject {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let value: unknown;
  let parsed = false;
  if (/^\s*\{/.test(text)) {
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      // Not JSON after all: YAML gives the error upstream would.
    }
  }
  if (!parsed) {
    let docs: ReturnType<typeof parseAllDocuments>;
    try {
      docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: false });
    } catch (e) {
      // The parser recurses on flow collections; too deep a document exhausts the stack.
      throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
    const doc = Array.isArray(docs) ? docs[0] : undefined;
    if (doc?.errors.length) {
      const e = doc.errors[0];
      const line = e.linePos?.[0]?.line ?? 1;
      const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: line ${line}: ${what}`);
    }
    try {
      value = doc ? doc.toJS({ maxAliasCount: 100 }) : null;
    } catch (e) {
      // An alias bomb (too many aliases) or an alias to nothing: bad input, not a server error.
      throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
    checkValueDepth(value);
    value = timesToStrings(value);
  }
  if (value === null || value === undefined) return {};
  if (!isObject(value)) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw badRequest(`error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  return value as KubeObject;
}

/** YAML timestamps reach upstream as Go times, which JSON prints as RFC 3339. */
function timesToStrings(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString().replace('.000Z', 'Z');
  if (Array.isArray(v)) return v.map(timesToStrings);
  if (isObject(v)) for (const k of Object.keys(v)) v[k] = timesToStrings(v[k]);
  return v;
}
