// The API server's Prometheus series (upstream's apiserver_* and etcd_* names and labels), in
// a registry of their own. Request series are fed by the router; storage latency by wrapping
// the Redis storage's calls; watch-cache sizes and watcher counts are read from the caches
// when someone scrapes, so nothing is sampled while nobody looks.
import type { IncomingMessage } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Cacher } from '../storage/cacher.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import type { ResourceRequest } from '../http/request-info.js';

const COMPONENT = 'apiserver';

/** upstream's apiserver_request_duration_seconds buckets. */
const REQUEST_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
/** upstream's etcd_request_duration_seconds buckets. */
const STORAGE_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

const VERBS: Record<ResourceRequest['verb'], string> = {
  get: 'GET', list: 'LIST', watch: 'WATCH', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETECOLLECTION', connect: 'CONNECT',
};
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT']);
/** Subresources upstream's handlers serve: anything else is reported as "other", so odd paths cannot multiply series. */
const SUBRESOURCES = new Set(['', 'status', 'scale', 'log', 'exec', 'attach', 'portforward', 'proxy', 'binding', 'eviction', 'token', 'finalize', 'approval', 'ephemeralcontainers', 'resize']);
/** Served by a connecter (upstream's rest.Connecter), which the metrics report as CONNECT. */
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward']);
/** Requests that stay open (upstream's long-running check): not in-flight, not timed. */
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/** What a request is reported as; `known` is false for paths no resource answers to. */
export interface RequestLabels {
  verb: string;
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/** Storage type "core/pods" or "apps/deployments" as upstream's group-resource string: "pods", "deployments.apps". */
export function groupResource(type: string): string {
  const slash = type.indexOf('/');
  const group = type.slice(0, slash);
  const resource = type.slice(slash + 1);
  return group === 'core' || group === '' ? resource : `${resource}.${group}`;
}

export function isLongRunning(info: ResourceRequest | undefined): boolean {
  return !!info && (info.verb === 'watch' || info.verb === 'connect' || LONG_RUNNING_SUBRESOURCES.has(info.subresource));
}

/** upstream's CleanVerb, CleanScope and dry-run label; `info` only for a resource the server serves. */
export function requestLabels(req: IncomingMessage, info: ResourceRequest | undefined, query: URLSearchParams): RequestLabels {
  const method = (req.method ?? '').toUpperCase();
  if (!info) {
    return { verb: HTTP_METHODS.has(method) ? method : 'other', dry_run: '', group: '', version: '', resource: '', subresource: '', scope: '', component: COMPONENT };
  }
  let verb = VERBS[info.verb];
  if (CONNECT_SUBRESOURCES.has(info.subresource)) verb = 'CONNECT';
  else if (info.verb === 'patch' && (req.headers['content-type'] ?? '').startsWith('application/apply-patch')) verb = 'APPLY';
  const scope = info.name || info.verb === 'create' ? 'resource' : info.namespace ? 'namespace' : 'cluster';
  const dryRun = query.getAll('dryRun').filter((v) => v === 'All').sort().join(',');
  return {
    verb, dry_run: dryRun, group: info.group, version: info.version, resource: info.resource,
    subresource: SUBRESOURCES.has(info.subresource) ? info.subresource : 'other', scope, component: COMPONENT,
  };
}

type StorageMethods = Pick<RedisStorage, 'write' | 'read' | 'load' | 'currentRevisions' | 'currentRevision' | 'eventsAfter' | 'oldestEventRevision'>;
const INSTRUMENTED = Symbol('podium.storageMetrics');

export class ApiServerMetrics {
  readonly registry = new Registry();
  /**
   * Request counts by label set and code, kept here and handed to the counter when scraped:
   * prom-client's labelled inc costs several microseconds, a Map update a fraction of one.
   */
  private readonly counts = new Map<string, { labels: RequestLabels; codes: Map<number, number> }>();
  private readonly requests = new Counter({
    name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'] as const, registers: [this.registry],
    collect: () => {
      for (const { labels, codes } of this.counts.values()) {
        for (const [code, n] of codes) {
          if (n === 0) continue;
          this.requests.inc({ ...labels, code: String(code) }, n);
          codes.set(code, 0);
        }
      }
    },
  });
  private readonly durations = new Histogram({
    name: 'apiserver_request_duration_seconds', help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const, buckets: REQUEST_BUCKETS, registers: [this.registry],
  });
  private readonly inflight = new Gauge({
    name: 'apiserver_current_inflight_requests', help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'] as const, registers: [this.registry],
  });
  private readonly longRunning = new Gauge({
    name: 'apiserver_longrunning_requests', help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const, registers: [this.registry],
  });
  private readonly storageLatency = new Histogram({
    // Upstream's name, kept so existing dashboards work: the storage behind it is Redis, not etcd.
    name: 'etcd_request_duration_seconds', help: 'Storage (Redis) request latency in seconds for each operation and object type.',
    labelNames: ['operation', 'type'] as const, buckets: STORAGE_BUCKETS, registers: [this.registry],
  });

  /** /metrics/slis: the health checks' results (upstream's kubernetes_healthcheck series). */
  readonly slis = new Registry();
  private readonly healthcheck = new Gauge({
    name: 'kubernetes_healthcheck', help: 'This metric records the result of a single healthcheck.',
    labelNames: ['name', 'type'] as const, registers: [this.slis],
  });
  private readonly healthchecks = new Counter({
    name: 'kubernetes_healthchecks_total', help: 'This metric records the results of all healthcheck.',
    labelNames: ['name', 'type', 'status'] as const, registers: [this.slis],
  });

  constructor(cacher?: Cacher) {
    collectDefaultMetrics({ register: this.registry });
    this.inflight.set({ request_kind: 'readOnly' }, 0);
    this.inflight.set({ request_kind: 'mutating' }, 0);
    if (cacher) this.watchCacheGauges(cacher);
  }

  private watchCacheGauges(cacher: Cacher): void {
    const perCache = (name: string, help: string, read: (c: Cacher['caches'] extends Map<string, infer C> ? C : never) => number): void => {
      new Gauge({
        name, help, labelNames: ['resource'] as const, registers: [this.registry],
        collect() {
          for (const [type, cache] of cacher.caches) this.set({ resource: groupResource(type) }, read(cache));
        },
      });
    };
    perCache('apiserver_storage_objects', 'Number of stored objects at the time of last check split by kind.', (c) => c.size);
    perCache('apiserver_watch_cache_capacity', 'Total capacity of watch cache broken by resource type.', (c) => c.capacity);
    perCache('apiserver_watch_cache_resource_version', 'Current resource version of watch cache broken by resource type.', (c) => c.rev);
    perCache('apiserver_registered_watchers', 'Number of currently registered watchers for a given resources.', (c) => c.watcherCount);
  }

  /**
   * Called when a request arrives: counts it in flight (or long-running) and returns what to
   * call once it has ended, with the code it ended with.
   */
  begin(labels: RequestLabels, longRunning: boolean): (code: number) => void {
    const started = process.hrtime.bigint();
    const kind = labels.verb === 'GET' || labels.verb === 'LIST' || labels.verb === 'HEAD' || labels.verb === 'OPTIONS' ? 'readOnly' : 'mutating';
    const { dry_run: _dryRun, ...longLabels } = labels;
    if (longRunning) this.longRunning.inc(longLabels);
    else this.inflight.inc({ request_kind: kind });
    let ended = false;
    return (code) => {
      if (ended) return;
      ended = true;
      if (longRunning) this.longRunning.dec(longLabels);
      else {
        this.inflight.dec({ request_kind: kind });
        this.durations.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      }
      const key = `${labels.verb} ${labels.group} ${labels.version} ${labels.resource} ${labels.subresource} ${labels.scope} ${labels.dry_run}`;
      let entry = this.counts.get(key);
      if (!entry) this.counts.set(key, (entry = { labels, codes: new Map() }));
      entry.codes.set(code, (entry.codes.get(code) ?? 0) + 1);
    };
  }

  /** One health check's result, as /healthz, /livez or /readyz ran it (`type` is which). */
  recordHealthCheck(type: string, name: string, ok: boolean): void {
    this.healthcheck.set({ name, type }, ok ? 1 : 0);
    this.healthchecks.inc({ name, type, status: ok ? 'success' : 'error' });
  }

  /** Times every storage call but the blocking stream tail (which waits for writes by design). */
  instrumentStorage(storage: RedisStorage): void {
    const s = storage as RedisStorage & { [INSTRUMENTED]?: boolean };
    if (s[INSTRUMENTED]) return;
    s[INSTRUMENTED] = true;
    const timed = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, op: (args: A) => string, type: (args: A) => string) =>
      async (...args: A): Promise<R> => {
        const end = this.storageLatency.startTimer({ operation: op(args), type: type(args) });
        try {
          return await fn(...args);
        } finally {
          end();
        }
      };
    const m = s as StorageMethods;
    const bind = <K extends keyof StorageMethods>(k: K): StorageMethods[K] => (storage[k] as (...a: unknown[]) => unknown).bind(storage) as StorageMethods[K];
    const write = bind('write'), read = bind('read'), load = bind('load'), revs = bind('currentRevisions'), rev = bind('currentRevision'), after = bind('eventsAfter'), oldest = bind('oldestEventRevision');
    m.write = timed(write, ([, op]) => op, ([type]) => groupResource(type));
    m.read = timed(read, () => 'get', ([type]) => groupResource(type));
    m.load = timed(load, () => 'list', ([type]) => groupResource(type));
    m.currentRevision = timed(rev, () => 'getCurrentResourceVersion', ([type]) => groupResource(type));
    m.currentRevisions = timed(revs, () => 'getCurrentResourceVersion', ([types]) => (types.length === 1 ? groupResource(types[0]) : 'multiple'));
    m.eventsAfter = timed(after, () => 'listEvents', ([type]) => groupResource(type));
    m.oldestEventRevision = timed(oldest, () => 'getOldestEvent', ([type]) => groupResource(type));
  }
}
