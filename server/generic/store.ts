// The generic store: every verb implemented once for every resource (upstream's
// registry/generic/registry.Store), driven by the resource's definition and strategy.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DeleteOptions, ObjectMeta as ReadonlyObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Mutable } from '../../apimachinery/mutable.js';
type ObjectMeta = Mutable<ReadonlyObjectMeta>;
import type { KubeObject, ResourceDefinition } from '../registry/types.js';
import { apiVersionOf, storageKeyOf } from '../registry/types.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import type { Cacher } from '../storage/cacher.js';
import type { WatchCache } from '../storage/watch-cache.js';
import { alreadyExists, badRequest, conflict, invalid, notFound, OBJECT_MODIFIED, StatusError, type FieldError, type QualifiedResource } from '../../apimachinery/errors.js';
import { generateName, nowTimestamp, validateObjectMeta, validateObjectMetaUpdate } from '../../apimachinery/object-meta.js';
import type { AdmissionPlugin, AdmissionRequest, Operation } from '../admission/types.js';
import type { Registry } from './registry.js';
import { selectionPredicate, type ListOptions, type SelectionPredicate } from './selection.js';
import { deletionFor } from './deletion.js';
import { recordUpdate } from '../apply/index.js';
import type { UserInfo } from '../auth/types.js';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager?: string;
  /** The client's User-Agent: its product name is the field manager when none is given, as upstream. */
  userAgent?: string;
  /** Set by server-side apply, which has already recorded its managed fields. */
  operation?: 'Apply';
  /** Who asks (admission plugins such as RBAC escalation checks and NodeRestriction read it). */
  user?: UserInfo;
}

/** upstream's prefixFromUserAgent: "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07" -> "kubectl". */
export function fieldManagerOf(opts: WriteOptions): string {
  return opts.fieldManager || opts.userAgent?.split('/')[0].trim() || 'unknown';
}

export type Mutator = (current: KubeObject) => KubeObject | Promise<KubeObject>;

const MAX_CONFLICT_RETRIES = 8;

export class Store {
  readonly type: string;
  readonly gr: QualifiedResource;

  constructor(
    readonly def: ResourceDefinition,
    private readonly redis: RedisStorage,
    private readonly cacher: Cacher,
    private readonly admission: AdmissionPlugin[],
    private readonly registry: Registry,
  ) {
    this.type = storageKeyOf(def);
    this.gr = { group: def.group, resource: def.plural };
  }

  key(namespace: string, name: string): string {
    return this.def.namespaced ? `${namespace}/${name}` : name;
  }

  /** Served form of a stored object (conversion and apiVersion/kind). */
  out(stored: KubeObject): KubeObject {
    const obj = this.def.conversion ? this.def.conversion.fromStorage(structuredClone(stored)) : stored;
    if (obj.apiVersion !== apiVersionOf(this.def) || obj.kind !== this.def.kind) {
      const copy = obj === stored ? { ...obj } : obj;
      copy.apiVersion = apiVersionOf(this.def);
      copy.kind = this.def.kind;
      return copy;
    }
    return obj;
  }

  private toStorage(obj: KubeObject): KubeObject {
    return this.def.conversion ? this.def.conversion.toStorage(obj) : obj;
  }

  /** The watch cache after a consistent read barrier (every acknowledged write is in it). */
  fresh(): Promise<WatchCache> {
    return this.cacher.fresh(this.type);
  }

  cache(): WatchCache {
    return this.cacher.cache(this.type);
  }

  /** Whether the watch caches are following Redis now (false while Redis is unreachable). */
  storageHealthy(): boolean {
    return this.cacher.redisHealthy;
  }

  async get(namespace: string, name: string): Promise<KubeObject> {
    const entry = (await this.fresh()).get(this.key(namespace, name));
    if (!entry) throw notFound(this.gr, name);
    return this.out(entry.object);
  }

  predicate(opts: ListOptions): SelectionPredicate {
    return selectionPredicate(this.def, opts);
  }

  async create(namespace: string, body: KubeObject, opts: WriteOptions): Promise<KubeObject> {
    if (this.def.loadForWrites) await this.def.loadForWrites();
    const obj = structuredClone(body);
    this.checkTypeMeta(obj);
    const meta = (obj.metadata ??= {});
    if (this.def.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'] as const) delete meta[f];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (this.def.generation) meta.generation = 1;
    const strategy = this.def.strategy;
    strategy.defaults?.(obj);
    strategy.prepareForCreate?.(obj);
    const req = this.admissionRequest('CREATE', '', namespace, meta.name ?? '', obj, undefined, opts);
    await this.runAdmission(req);
    this.validate(obj, () => strategy.validate(obj));
    await this.runValidation(req);
    if (opts.operation !== 'Apply') this.recordUpdate(undefined, obj, opts, '');
    const wantsGeneratedName = !meta.name && !!meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (wantsGeneratedName) meta.name = generateName(meta.generateName!);
      if (opts.dryRun) return this.out(this.toStorage(obj));
      const stored = this.toStorage(obj);
      const result = await this.redis.write(this.type, 'create', this.key(namespace, meta.name!), undefined, JSON.stringify(stored));
      if (result.status === 'ok') {
        await this.afterWrite(req, 'stored');
        return this.out(stamp(stored, result.rev));
      }
      if (result.status === 'exists' && wantsGeneratedName && attempt < 7) continue;
      await this.afterWrite(req, 'failed');
      throw alreadyExists(this.gr, meta.name!);
    }
  }

  /** PUT: replace the object (or its status) as the client sent it. */
  async update(namespace: string, name: string, body: KubeObject, opts: WriteOptions, subresource = ''): Promise<KubeObject> {
    const obj = structuredClone(body);
    this.checkTypeMeta(obj);
    const meta = (obj.metadata ??= {});
    if (meta.name && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (this.def.namespaced && meta.namespace && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    meta.name = name;
    return this.guaranteedUpdate(namespace, name, () => obj, opts, subresource);
  }

  /** PATCH and other read-modify-write changes: `mutate` gets the current object (served form). */
  patch(namespace: string, name: string, mutate: Mutator, opts: WriteOptions, subresource = ''): Promise<KubeObject> {
    return this.guaranteedUpdate(namespace, name, mutate, opts, subresource);
  }

  /**
   * Reads the current object, applies the change and writes it with the read revision as the
   * precondition; retries on a conflict unless the change itself named a resourceVersion.
   */
  async guaranteedUpdate(namespace: string, name: string, mutate: Mutator, opts: WriteOptions, subresource = ''): Promise<KubeObject> {
    if (this.def.loadForWrites) await this.def.loadForWrites();
    const key = this.key(namespace, name);
    let current = (await this.fresh()).get(key)?.object;
    for (let attempt = 0; ; attempt++) {
      if (!current) throw notFound(this.gr, name);
      const old = this.out(current);
      const next = structuredClone(await mutate(structuredClone(old)));
      const wantedRev = next.metadata?.resourceVersion;
      if (wantedRev && wantedRev !== old.metadata!.resourceVersion) throw conflict(this.gr, name, OBJECT_MODIFIED);
      const updated = await this.prepareUpdate(next, old, subresource, opts);
      if (this.unchanged(updated, old)) return old;
      if (opts.operation !== 'Apply') this.recordUpdate(old, updated, opts, subresource);
      if (opts.dryRun) return updated;
      const stored = this.toStorage(updated);
      const expected = Number(old.metadata!.resourceVersion);
      const finished = isFinalized(updated);
      const result = finished
        ? await this.redis.write(this.type, 'delete', key, expected, JSON.stringify(stored))
        : await this.redis.write(this.type, 'update', key, expected, JSON.stringify(stored));
      if (result.status === 'ok') return this.out(stamp(stored, result.rev));
      if (result.status === 'missing') throw notFound(this.gr, name);
      // A lost compare-and-swap is retried on the fresh object, as upstream's GuaranteedUpdate: a
      // client-named resourceVersion is re-checked against it above (409 if it moved on).
      if (attempt >= MAX_CONFLICT_RETRIES) throw conflict(this.gr, name, OBJECT_MODIFIED);
      const fromRedis = await this.redis.read(this.type, key);
      current = fromRedis ? stamp(JSON.parse(fromRedis.json) as KubeObject, fromRedis.rev) : undefined;
    }
  }

  private async prepareUpdate(next: KubeObject, old: KubeObject, subresource: string, opts: WriteOptions): Promise<KubeObject> {
    this.checkTypeMeta(next);
    const strategy = this.def.strategy;
    let obj: KubeObject;
    if (subresource === 'binding') {
      // The scheduler's binding sets spec.nodeName, which pod updates may not change.
      obj = next;
      obj.metadata = { ...old.metadata, annotations: next.metadata?.annotations };
    } else if (subresource === 'status') {
      // Only status may change through the status subresource (upstream's ResetObjectMetaForStatus).
      obj = structuredClone(old);
      obj.status = next.status;
      strategy.prepareForStatusUpdate?.(obj, next, old);
      strategy.defaults?.(obj);
      const errs = [...(strategy.validateStatusUpdate?.(obj, old) ?? [])];
      if (errs.length) throw invalid(this.def.kind, this.def.group, old.metadata!.name!, errs);
      await this.admitSubresource(subresource, obj, old, opts);
    } else if (subresource === 'approval' && this.def.subresources?.approval) {
      // CertificateSigningRequest approval (upstream's csrApprovalStrategy): only conditions may change.
      obj = structuredClone(old);
      strategy.prepareForApprovalUpdate?.(obj, next, old);
      strategy.defaults?.(obj);
      const errs = strategy.validateApprovalUpdate?.(obj, old) ?? [];
      if (errs.length) throw invalid(this.def.kind, this.def.group, old.metadata!.name!, errs);
      await this.admitSubresource(subresource, obj, old, opts);
    } else if (subresource === 'finalize') {
      // Namespace finalize (upstream's finalizeStrategy): only spec.finalizers may change.
      obj = structuredClone(old);
      const finalizers = (next.spec as { finalizers?: string[] } | undefined)?.finalizers;
      obj.spec = { ...(old.spec as object), finalizers };
      if (!finalizers?.length) delete (obj.spec as { finalizers?: string[] }).finalizers;
      await this.admitSubresource(subresource, obj, old, opts);
    } else {
      obj = next;
      const meta = (obj.metadata ??= {});
      const oldMeta = old.metadata!;
      meta.name ??= oldMeta.name;
      if (this.def.namespaced) meta.namespace ??= oldMeta.namespace;
      for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) copyMeta(meta, oldMeta, f);
      delete meta.selfLink;
      if (this.def.subresources?.status && 'status' in old) obj.status = old.status;
      else if (this.def.subresources?.status) delete obj.status;
      strategy.defaults?.(obj);
      if (this.def.generation && specChanged(obj, old)) meta.generation = (oldMeta.generation ?? 0) + 1;
      strategy.prepareForUpdate?.(obj, old);
      const req = this.admissionRequest('UPDATE', subresource, oldMeta.namespace ?? '', oldMeta.name!, obj, old, opts);
      await this.runAdmission(req);
      this.validate(obj, () => [...validateObjectMetaUpdate(meta, oldMeta), ...strategy.validate(obj), ...(strategy.validateUpdate?.(obj, old) ?? [])]);
      await this.runValidation(req);
    }
    obj.metadata!.resourceVersion = old.metadata!.resourceVersion;
    // Managed fields a write leaves out are kept (upstream resets them only for [{}]).
    if (!obj.metadata!.managedFields?.length && old.metadata!.managedFields) obj.metadata!.managedFields = old.metadata!.managedFields;
    return obj;
  }

  /** Subresource writes meet admission too (NodeRestriction holds a node to its own pods' status). */
  private async admitSubresource(subresource: string, obj: KubeObject, old: KubeObject, opts: WriteOptions): Promise<void> {
    const req = this.admissionRequest('UPDATE', subresource, old.metadata!.namespace ?? '', old.metadata!.name!, obj, old, opts);
    await this.runAdmission(req);
    await this.runValidation(req);
  }

  /** Every non-apply write gives the fields it changed to its manager (operation Update). */
  private recordUpdate(old: KubeObject | undefined, next: KubeObject, opts: WriteOptions, subresource: string): void {
    recordUpdate(old, next, fieldManagerOf(opts), this.schema, { subresource: subresource === 'binding' ? '' : subresource, time: nowTimestamp(), apiVersion: apiVersionOf(this.def) });
  }

  get schema(): { group: string; version: string; kind: string } {
    return { group: this.def.group, version: this.def.version, kind: this.def.kind };
  }

  private unchanged(updated: KubeObject, old: KubeObject): boolean {
    return isDeepStrictEqual(updated, old);
  }

  async delete(namespace: string, name: string, options: DeleteOptions, opts: WriteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name);
    let current = (await this.fresh()).get(key)?.object;
    for (let attempt = 0; ; attempt++) {
      if (!current) throw notFound(this.gr, name);
      const old = this.out(current);
      checkPreconditions(this.gr, name, old.metadata!, options);
      const req = this.admissionRequest('DELETE', '', namespace, name, undefined, old, opts);
      await this.runAdmission(req);
      await this.runValidation(req);
      const plan = deletionFor(this.def, old, options);
      if (opts.dryRun) return { object: plan.object ?? old, deleted: !plan.object };
      const expected = Number(old.metadata!.resourceVersion);
      let result;
      if (plan.object) {
        if (isDeepStrictEqual(plan.object, old)) return { object: old, deleted: false };
        result = await this.redis.write(this.type, 'update', key, expected, JSON.stringify(this.toStorage(plan.object)));
        if (result.status === 'ok') return { object: this.out(stamp(this.toStorage(plan.object), result.rev)), deleted: false };
      } else {
        result = await this.redis.write(this.type, 'delete', key, expected, JSON.stringify(this.toStorage(old)));
        if (result.status === 'ok') {
          await this.afterWrite(req, 'stored');
          // A copy: `old` may be the watch cache's own object (shared with its event ring).
          return { object: this.out(stamp(structuredClone(this.toStorage(old)), result.rev)), deleted: true };
        }
      }
      if (result.status === 'missing') throw notFound(this.gr, name);
      if (options.preconditions?.resourceVersion || attempt >= MAX_CONFLICT_RETRIES) throw conflict(this.gr, name, OBJECT_MODIFIED);
      const fromRedis = await this.redis.read(this.type, key);
      current = fromRedis ? stamp(JSON.parse(fromRedis.json) as KubeObject, fromRedis.rev) : undefined;
    }
  }

  private checkTypeMeta(obj: KubeObject): void {
    const expected = apiVersionOf(this.def);
    if (obj.apiVersion && obj.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
    }
    if (obj.kind && obj.kind !== this.def.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${this.def.kind})`);
    }
    obj.apiVersion = expected;
    obj.kind = this.def.kind;
  }

  private validate(obj: KubeObject, kindErrors: () => FieldError[]): void {
    const errs = [...validateObjectMeta(obj.metadata!, this.def.namespaced, this.def.nameValidator), ...kindErrors()];
    if (errs.length) throw invalid(this.def.kind, this.def.group, obj.metadata?.name ?? obj.metadata?.generateName ?? '', errs);
  }

  private admissionRequest(operation: Operation, subresource: string, namespace: string, name: string, object: KubeObject | undefined, oldObject: KubeObject | undefined, opts: WriteOptions): AdmissionRequest {
    return { operation, def: this.def, subresource, namespace, name, object, oldObject, dryRun: opts.dryRun, registry: this.registry, user: opts.user };
  }

  private async runAdmission(req: AdmissionRequest): Promise<void> {
    for (const p of this.admission) await p.admit?.(req);
  }

  private async runValidation(req: AdmissionRequest): Promise<void> {
    for (const p of this.admission) await p.validate?.(req);
  }

  private async afterWrite(req: AdmissionRequest, outcome: 'stored' | 'failed'): Promise<void> {
    for (const p of this.admission) await p.afterWrite?.(req, outcome);
  }
}

function stamp(obj: KubeObject, rev: number): KubeObject {
  (obj.metadata ??= {}).resourceVersion = String(rev);
  return obj;
}

function copyMeta<K extends keyof ObjectMeta>(meta: ObjectMeta, old: ObjectMeta, field: K): void {
  if (old[field] === undefined) delete meta[field];
  else meta[field] = old[field];
}

/** Everything but metadata and status counts as spec for the generation bump, as upstream. */
function specChanged(obj: KubeObject, old: KubeObject): boolean {
  for (const k of new Set([...Object.keys(obj), ...Object.keys(old)])) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!isDeepStrictEqual(obj[k], old[k])) return true;
  }
  return false;
}

/** An object being deleted whose last finalizer is gone (and whose grace is over) is removed. */
function isFinalized(obj: KubeObject): boolean {
  const m = obj.metadata!;
  return !!m.deletionTimestamp && !(m.finalizers?.length) && !(m.deletionGracePeriodSeconds && m.deletionGracePeriodSeconds > 0) && !hasSpecFinalizers(obj);
}

function hasSpecFinalizers(obj: KubeObject): boolean {
  const spec = obj.spec as { finalizers?: string[] } | undefined;
  return obj.kind === 'Namespace' && !!spec?.finalizers?.length;
}

function checkPreconditions(gr: QualifiedResource, name: string, meta: ObjectMeta, options: DeleteOptions): void {
  const p = options.preconditions;
  if (p?.uid && p.uid !== meta.uid) {
    throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${gr.group ? `${gr.resource}.${gr.group}` : gr.resource} "${name}": Precondition failed: UID in precondition: ${p.uid}, UID in object meta: ${meta.uid}`, { name, group: gr.group, kind: gr.resource });
  }
  if (p?.resourceVersion && p.resourceVersion !== meta.resourceVersion) {
    throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${gr.group ? `${gr.resource}.${gr.group}` : gr.resource} "${name}": Precondition failed: ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${meta.resourceVersion}`, { name, group: gr.group, kind: gr.resource });
  }
}
