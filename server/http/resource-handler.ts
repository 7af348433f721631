// Serves the resource paths: each verb of each resource and its subresources, on top of the
// generic store; decoding, negotiation (JSON object, Table, metadata) and dry-run live here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeleteOptions } from 'kubernetes-types/meta/v1.js';
import type { Registry } from '../generic/registry.js';
import type { Store, WriteOptions } from '../generic/store.js';
import type { ListOptions } from '../generic/selection.js';
import type { KubeObject } from '../registry/types.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import { apiVersionOf } from '../registry/types.js';
import { list } from '../generic/list.js';
import { serveWatch, type EventEncoder } from '../generic/watch.js';
import { badRequest, methodNotSupported, notFound, StatusError } from '../../apimachinery/errors.js';
import { decodeObject, mediaType, parseJson, dropNulls, readBody } from './body.js';
import { negotiate, sendJson, type Negotiated } from './respond.js';
import type { ResourceRequest } from './request-info.js';
import { includeObjectParam, partialObjectMetadata, toTable } from '../table.js';
import { applyPatch } from '../patch/index.js';
import { scaleOf, applyScale } from './scale.js';
import { bindPod, evictPod } from './pod-subresources.js';
import { typeCheck } from './type-check.js';
import { applyObject } from '../generic/apply.js';
import { decodeApplyBody } from '../apply/index.js';
import { duplicateFields } from './duplicate-fields.js';
import { addWarning } from './respond.js';
import type { ResourceDefinition } from '../registry/types.js';
import type { AuthServices, UserInfo } from '../auth/types.js';
import { NODE_SUBRESOURCES, type NodeProxy } from './node-proxy.js';
import { MetricsService } from './metrics.js';
import { serveProxy } from './service-proxy.js';

/**
 * Type-checks a body (or a patched result) as Go's decoder would and applies fieldValidation to
 * unknown fields: Strict rejects them (400), Warn (the default) returns Warning headers, Ignore drops them silently.
 */
/**
 * Runs a patch and normalizes its result as upstream's conversion to the typed object does:
 * nulls mean unset, and a strategic merge leaves no directives ($setElementOrder/…, $retainKeys) behind.
 */
function patched(type: string, current: KubeObject, body: Buffer, schema: { group: string; version: string; kind: string }): KubeObject {
  const result = dropNulls(applyPatch(type, current, body, schema));
  return (type === 'application/strategic-merge-patch+json' ? stripDirectives(result, current) : result) as KubeObject;
}

/**
 * Drops the directives a strategic merge leaves behind. A `$` key the stored object already
 * had, with the same value, is data, not a directive (a ControllerRevision's data is a patch
 * holding `$patch: replace`), and stays.
 */
function stripDirectives(v: unknown, orig?: unknown): unknown {
  if (Array.isArray(v)) return v.map((x, i) => stripDirectives(x, Array.isArray(orig) ? orig[i] : undefined));
  if (v && typeof v === 'object') {
    const was = orig && typeof orig === 'object' && !Array.isArray(orig) ? (orig as Record<string, unknown>) : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!k.startsWith('$') || (was && k in was && JSON.stringify(was[k]) === JSON.stringify(val))) out[k] = stripDirectives(val, was?.[k]);
    }
    return out;
  }
  return v;
}

function checkFields(obj: KubeObject, def: Pick<ResourceDefinition, 'group' | 'version' | 'kind'>, query: URLSearchParams, res: ServerResponse, duplicates: string[] = []): KubeObject {
  const { unknownFields } = typeCheck(obj, def.group, def.version, def.kind);
  const mode = query.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", got "${mode}"`);
  const problems = [...unknownFields.map((f) => `unknown field "${f}"`), ...duplicates.map((f) => `duplicate field "${f}"`)];
  if (problems.length && mode === 'Strict') throw badRequest(`strict decoding error: ${problems.join(', ')}`);
  if (problems.length && mode === 'Warn') for (const p of problems) addWarning(res, p);
  return obj;
}

/** Reads, decodes and field-validates an object body. */
async function readObject(req: IncomingMessage, def: Pick<ResourceDefinition, 'group' | 'version' | 'kind'>, query: URLSearchParams, res: ServerResponse): Promise<KubeObject> {
  const body = await readBody(req);
  const type = mediaType(req);
  const duplicates = type === 'application/json' && query.get('fieldValidation') !== 'Ignore' ? duplicateFields(body.toString('utf8')) : [];
  return checkFields(decodeObject(body, type), def, query, res, duplicates);
}

const APPLY_PATCH = 'application/apply-patch+yaml';
const DELETE_COLLECTION_WORKERS = 16;

/** Duplicate keys in a JSON patch document count as duplicate fields of the object, as upstream. */
function patchDuplicates(type: string, body: Buffer, query: URLSearchParams): string[] {
  return type !== 'application/json-patch+json' && query.get('fieldValidation') !== 'Ignore' ? duplicateFields(body.toString('utf8')) : [];
}

export class ResourceHandler {
  private readonly metrics: MetricsService;

  constructor(private readonly registry: Registry, private readonly redis: RedisStorage, private readonly auth: AuthServices, private readonly nodes: NodeProxy) {
    this.metrics = new MetricsService(registry, nodes);
  }

  async handle(req: IncomingMessage, res: ServerResponse, info: ResourceRequest, query: URLSearchParams, user: UserInfo): Promise<void> {
    const def = this.registry.find(info.group, info.version, info.resource);
    if (!def) throw notFound({ group: info.group, resource: info.resource }, info.name || info.resource);
    if (def.review) return this.review(req, res, def, info, query, user);
    if (def.external) {
      if (info.verb !== 'get' && info.verb !== 'list') throw methodNotSupported({ group: def.group, resource: def.plural }, info.verb);
      return this.metrics.serve(res, info);
    }
    const store = this.registry.stores.get(def)!;
    if (def.namespaced && !info.namespace && info.verb !== 'list' && info.verb !== 'watch' && info.verb !== 'deletecollection') {
      throw notFound({ group: info.group, resource: info.resource }, info.name);
    }
    if (!def.namespaced && info.namespace && info.resource !== 'namespaces') throw notFound({ group: info.group, resource: info.resource }, info.name);
    const opts: WriteOptions = { dryRun: parseDryRun(query), fieldManager: query.get('fieldManager') ?? undefined, userAgent: req.headers['user-agent'], user };
    const neg = negotiate(req);
    if (info.subresource) return this.subresource(req, res, info, query, store, opts, neg);
    if (def.verbs && !def.verbs.includes(info.verb as never)) throw methodNotSupported(store.gr, info.verb);

    switch (info.verb) {
      case 'get': {
        const obj = await store.get(info.namespace, info.name);
        return this.sendObject(res, 200, store, obj, neg, query);
      }
      case 'list': return this.list(res, store, info.namespace, listOptions(query), neg, query);
      case 'watch':
        // A HEAD answer has no body, so there is nothing to stream; a stream that never ends would
        // also hold the connection, and the client's next request on it would wait forever.
        if (req.method === 'HEAD') return sendJson(res, 200, '');
        return serveWatch(store, this.redis, info.namespace, listOptions(query), res, this.encoder(store, neg, query), `${neg.format}:${neg.tableVersion}`);
      case 'create': {
        const obj = await store.create(info.namespace, await readObject(req, def, query, res), opts);
        return this.sendObject(res, 201, store, obj, neg, query);
      }
      case 'update': {
        const obj = await store.update(info.namespace, info.name, await readObject(req, def, query, res), opts);
        return this.sendObject(res, 200, store, obj, neg, query);
      }
      case 'patch': {
        const patchBody = await readBody(req);
        const type = mediaType(req);
        if (type === APPLY_PATCH) {
          const applied = checkFields(dropNulls(decodeApplyBody(patchBody)) as KubeObject, def, query, res, patchBody[0] === 0x7b ? duplicateFields(patchBody.toString('utf8')) : []);
          const force = query.get('force') === 'true';
          const { object, created } = await applyObject(store, info.namespace, info.name, applied, { ...opts, force });
          return this.sendObject(res, created ? 201 : 200, store, object, neg, query);
        }
        const schema = { group: def.group, version: def.version, kind: def.kind };
        const duplicates = patchDuplicates(type, patchBody, query);
        const obj = await store.patch(info.namespace, info.name, (current) => checkFields(patched(type, current, patchBody, schema), def, query, res, duplicates), opts);
        return this.sendObject(res, 200, store, obj, neg, query);
      }
      case 'delete': {
        const options = await deleteOptions(req, query);
        const { object, deleted } = await store.delete(info.namespace, info.name, options, opts);
        if (deleted && def.kind !== 'Pod') {
          return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: info.name, group: def.group || undefined, kind: def.plural, uid: object.metadata?.uid } });
        }
        return this.sendObject(res, deleted ? 200 : 202, store, object, neg, query);
      }
      case 'deletecollection': {
        const options = await deleteOptions(req, query);
        const found = await list(store, info.namespace, listOptions(query));
        const items: KubeObject[] = [];
        // Deletes run a few at a time: one by one, a namespace of thousands of pods takes minutes.
        let next = 0;
        const worker = async () => {
          while (next < found.items.length) {
            const m = found.items[next++].object.metadata!;
            try {
              items.push((await store.delete(m.namespace ?? '', m.name!, options, opts)).object);
            } catch (err) {
              if (!(err instanceof StatusError && err.code === 404)) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: DELETE_COLLECTION_WORKERS }, worker));
        return sendJson(res, 200, { kind: def.listKind ?? `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: found.resourceVersion }, items });
      }
      default:
        throw methodNotSupported(store.gr, info.verb);
    }
  }

  /** Create-only kinds: computed from the body and the requester, answered, never stored. */
  private async review(req: IncomingMessage, res: ServerResponse, def: ResourceDefinition, info: ResourceRequest, query: URLSearchParams, user: UserInfo): Promise<void> {
    if (info.verb !== 'create' || info.name || info.subresource) throw methodNotSupported({ group: def.group, resource: def.plural }, info.verb);
    if (def.namespaced && !info.namespace) throw notFound({ group: def.group, resource: def.plural }, '');
    const body = await readObject(req, def, query, res);
    const answer = await def.review!(body, { user, namespace: info.namespace, auth: this.auth });
    return sendJson(res, 201, { ...answer, apiVersion: apiVersionOf(def), kind: def.kind });
  }

  private async subresource(req: IncomingMessage, res: ServerResponse, info: ResourceRequest, query: URLSearchParams, store: Store, opts: WriteOptions, neg: Negotiated): Promise<void> {
    const def = store.def;
    const sub = info.subresource;
    // CertificateSigningRequest approval is served like status: the whole object, get/update/patch.
    if ((sub === 'status' && def.subresources?.status) || (sub === 'approval' && def.subresources?.approval)) {
      if (info.verb === 'get') return this.sendObject(res, 200, store, await store.get(info.namespace, info.name), neg, query);
      if (info.verb === 'update') {
        const body = await readObject(req, def, query, res);
        return this.sendObject(res, 200, store, await store.update(info.namespace, info.name, body, opts, sub), neg, query);
      }
      if (info.verb === 'patch') {
        const patchBody = await readBody(req);
        const type = mediaType(req);
        const schema = { group: def.group, version: def.version, kind: def.kind };
        const obj = await store.patch(info.namespace, info.name, (cur) => checkFields(patched(type, cur, patchBody, schema), def, query, res), opts, sub);
        return this.sendObject(res, 200, store, obj, neg, query);
      }
    }
    if (sub === 'scale' && def.subresources?.scale) {
      const scale = def.subresources.scale;
      if (info.verb === 'get') return sendJson(res, 200, scaleOf(scale, await store.get(info.namespace, info.name)));
      if (info.verb === 'update' || info.verb === 'patch') {
        const body = await readBody(req);
        const type = mediaType(req);
        const obj = await store.patch(info.namespace, info.name, (cur) => {
          const current = scaleOf(scale, cur) as unknown as KubeObject;
          const scaleKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
          const next = checkFields(info.verb === 'update' ? decodeObject(body, type) : patched(type, current, body, scaleKind), scaleKind, query, res);
          return applyScale(scale, cur, next);
        }, opts);
        return sendJson(res, 200, scaleOf(scale, obj));
      }
    }
    if (def.group === '' && def.plural === 'pods') {
      if (sub === 'binding' && info.verb === 'create') {
        const binding = decodeObject(await readBody(req), mediaType(req));
        await bindPod(store, info.namespace, info.name, binding, opts);
        return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      }
      if (sub === 'eviction' && info.verb === 'create') {
        const eviction = decodeObject(await readBody(req), mediaType(req));
        await evictPod(this.registry, store, info.namespace, info.name, eviction, opts);
        return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      }
      if (sub === 'log' && info.verb === 'get') return this.nodes.log(res, info.namespace, info.name, query);
      if (NODE_SUBRESOURCES.has(sub)) {
        await store.get(info.namespace, info.name);
        // exec, attach and portforward only make sense as an upgrade (the router's upgrade path).
        throw badRequest('Upgrade request required');
      }
      if (sub === 'proxy') return serveProxy(this.registry, req, res, 'pods', info.namespace, info.name, info.proxyPath ?? '', query);
    }
    if (def.group === '' && def.plural === 'services' && sub === 'proxy') return serveProxy(this.registry, req, res, 'services', info.namespace, info.name, info.proxyPath ?? '', query);
    if (def.group === '' && def.plural === 'serviceaccounts' && sub === 'token' && info.verb === 'create') {
      const body = await readObject(req, { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, query, res);
      return sendJson(res, 201, await this.auth.requestToken(info.namespace, info.name, body));
    }
    if (def.group === '' && def.plural === 'namespaces' && sub === 'finalize' && info.verb === 'update') {
      const body = decodeObject(await readBody(req), mediaType(req));
      const finalizers = (body.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
      const obj = await store.patch('', info.name, (cur) => ({ ...cur, spec: { ...(cur.spec as object), finalizers } }), opts, 'finalize');
      return this.sendObject(res, 200, store, obj, neg, query);
    }
    throw notFound({ group: info.group, resource: `${info.resource}/${sub}` }, info.name);
  }

  private async list(res: ServerResponse, store: Store, namespace: string, opts: ListOptions, neg: Negotiated, query: URLSearchParams): Promise<void> {
    const result = await list(store, namespace, opts);
    const def = store.def;
    if (neg.format === 'table') {
      const table = toTable(def, result.items.map((i) => i.object), { include: includeObjectParam(query.get('includeObject')), version: neg.tableVersion, resourceVersion: result.resourceVersion, continue: result.continue });
      return sendJson(res, 200, table);
    }
    if (neg.format === 'metadata') {
      return sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${neg.tableVersion}`, metadata: listMeta(result), items: result.items.map((i) => partialObjectMetadata(i.object, neg.tableVersion)) });
    }
    const head = JSON.stringify({ kind: def.listKind ?? `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: listMeta(result) });
    const items = result.items.map((i) => i.json ?? JSON.stringify(i.object)).join(',');
    sendJson(res, 200, `${head.slice(0, -1)},"items":[${items}]}`);
  }

  private sendObject(res: ServerResponse, code: number, store: Store, obj: KubeObject, neg: Negotiated, query: URLSearchParams): void {
    if (neg.format === 'table') return sendJson(res, code, toTable(store.def, [obj], { include: includeObjectParam(query.get('includeObject')), version: neg.tableVersion, resourceVersion: obj.metadata?.resourceVersion }));
    if (neg.format === 'metadata') return sendJson(res, code, partialObjectMetadata(obj, neg.tableVersion));
    sendJson(res, code, obj);
  }

  private encoder(store: Store, neg: Negotiated, query: URLSearchParams): EventEncoder {
    const include = includeObjectParam(query.get('includeObject'));
    return (type, obj, first) => {
      let object: unknown = obj;
      if (type !== 'ERROR' && type !== 'BOOKMARK') {
        if (neg.format === 'table') object = toTable(store.def, [obj], { include, version: neg.tableVersion, columns: first });
        else if (neg.format === 'metadata') object = partialObjectMetadata(obj, neg.tableVersion);
      }
      return `${JSON.stringify({ type, object })}\n`;
    };
  }
}

function listMeta(r: { resourceVersion: string; continue?: string; remainingItemCount?: number }): Record<string, string | number> {
  if (!r.continue) return { resourceVersion: r.resourceVersion };
  return r.remainingItemCount !== undefined ? { resourceVersion: r.resourceVersion, continue: r.continue, remainingItemCount: r.remainingItemCount } : { resourceVersion: r.resourceVersion, continue: r.continue };
}

function parseDryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dryRun value: ${v}; supported values: "All"`);
  return values.length > 0;
}

export function listOptions(query: URLSearchParams): ListOptions {
  const int = (name: string) => {
    const v = query.get(name);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: ${v}`);
    return Number(v);
  };
  const bool = (name: string) => {
    const v = query.get(name);
    return v === null ? undefined : v === 'true' || v === '1';
  };
  return {
    labelSelector: query.get('labelSelector') ?? undefined,
    fieldSelector: query.get('fieldSelector') ?? undefined,
    limit: int('limit'),
    continue: query.get('continue') || undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: query.get('resourceVersionMatch') || undefined,
    timeoutSeconds: int('timeoutSeconds'),
    allowWatchBookmarks: bool('allowWatchBookmarks'),
    sendInitialEvents: bool('sendInitialEvents'),
  };
}

/** DeleteOptions from the body (kubectl sends one) merged with the query parameters. */
async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const body = await readBody(req);
  let options: DeleteOptions = {};
  if (body.length) {
    const parsed = dropNulls(parseJson(body.toString('utf8'), 'DeleteOptions'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('DeleteOptions must be a JSON object');
    options = parsed as DeleteOptions;
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) {
    if (!/^-?\d+$/.test(grace)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
    options.gracePeriodSeconds = Number(grace);
  }
  const policy = query.get('propagationPolicy');
  if (policy) options.propagationPolicy = policy;
  const orphan = query.get('orphanDependents');
  if (orphan !== null) options.orphanDependents = orphan === 'true';
  if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw new StatusError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${options.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  return options;
}
