// `npm run bench:soak`: memory under steady churn. Runs `podium up --runtime simulated --nodes 2`
// in a temp data dir and, for --minutes (30 by default), creates, updates and deletes
// ConfigMaps and bare Pods at a steady rate and scales a Deployment up and down, while
// long-lived watches on pods and configmaps read every event (re-opening from their last
// resourceVersion when the server ends them, as a reflector does). Every ~10 s it samples the
// resident memory of each component `up` started; after the warm-up it fits a least-squares
// line per component and judges its slope against the target (≤ 1 MB per 10 minutes). A missed
// target is a result (exit 0); a component dying or the bench itself failing exits non-zero.
import { setMaxListeners } from 'node:events';
import { createWriteStream, writeFileSync, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ConfigMap, Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { ApiClient, ApiError, isGone } from '../controllers/framework/client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, rssMb, waitUntil, runBench, benchFailed } from './lib/processes.js';
import { COMPONENTS, findComponents, stopStragglers, type Component } from './lib/scale-probe.js';
import { positiveIntOption } from './lib/options.js';
import { waitForApiServer } from './lib/cluster.js';
import { say, fixed, verdict, round } from './lib/format.js';
import { eventWindowOf, prefillEventWindows } from './lib/event-window-prefill.js';

const USAGE = `Usage: node dist/bench/soak.js [--minutes 30] [--warmup-minutes M] [--runtime simulated|docker] [--nodes 2]
  [--watchers 30] [--configmap-rate 3] [--pod-rate 2] [--sample-seconds 10] [--samples FILE(.csv|.json)] [--keep-data] [--heap-snapshots] [--prefill-window N] [--event-ttl 5m]
  --warmup-minutes defaults to a sixth of --minutes (5 for a 30-minute run); rates are writes per second.
  --prefill-window: events written to each type that changes in steady state before the churn starts, so the
  Redis's event streams are full when memory is judged (default: the API server's
  --event-window, 10000 unless set; 0 skips it).
  --event-ttl: the cluster's Event TTL (upstream's --event-ttl, 1h by default). The soak's default, 5m, lets
  the stored Events reach their steady count within the warm-up, so a 30-minute run judges a level, not growth.`;

const NS = 'soak';
const TARGET_MB_PER_10_MIN = 1;

interface Options {
  minutes: number;
  warmupMinutes: number;
  runtime: 'simulated' | 'docker';
  nodes: number;
  watchers: number;
  configMapRate: number;
  podRate: number;
  sampleSeconds: number;
  samplesFile?: string;
  keepData: boolean;
  /** Components write a heap snapshot into the data dir on SIGUSR2 (node --heapsnapshot-signal), for finding what grows. */
  heapSnapshots: boolean;
  /** Events to write per changing type before the churn; undefined = the API server's --event-window. */
  prefillWindow?: number;
  eventTtl: string;
}

function positiveNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: want a positive number, got "${v}"\n${USAGE}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, 'warmup-minutes': { type: 'string' }, runtime: { type: 'string' }, nodes: { type: 'string' },
      watchers: { type: 'string' }, 'configmap-rate': { type: 'string' }, 'pod-rate': { type: 'string' },
      'sample-seconds': { type: 'string' }, samples: { type: 'string' }, 'keep-data': { type: 'boolean' }, 'heap-snapshots': { type: 'boolean' }, 'prefill-window': { type: 'string' }, 'event-ttl': { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const minutes = positiveNumber('minutes', values.minutes, 30);
  const warmupMinutes = values['warmup-minutes'] === '0' ? 0 : positiveNumber('warmup-minutes', values['warmup-minutes'], minutes / 6);
  if (warmupMinutes >= minutes) throw new Error(`--warmup-minutes (${warmupMinutes}) must be shorter than --minutes (${minutes})\n${USAGE}`);
  const runtime = values.runtime ?? 'simulated';
  if (runtime !== 'simulated' && runtime !== 'docker') throw new Error(`--runtime: want simulated or docker, got "${runtime}"\n${USAGE}`);
  return {
    minutes,
    warmupMinutes,
    runtime,
    nodes: positiveIntOption('nodes', values.nodes, 2, USAGE),
    watchers: positiveIntOption('watchers', values.watchers, 30, USAGE),
    configMapRate: positiveNumber('configmap-rate', values['configmap-rate'], 3),
    podRate: positiveNumber('pod-rate', values['pod-rate'], 2),
    sampleSeconds: positiveNumber('sample-seconds', values['sample-seconds'], 10),
    samplesFile: values.samples,
    keepData: (values['keep-data'] ?? false) || (values['heap-snapshots'] ?? false),
    heapSnapshots: values['heap-snapshots'] ?? false,
    prefillWindow: values['prefill-window'] === undefined ? undefined : values['prefill-window'] === '0' ? 0 : positiveIntOption('prefill-window', values['prefill-window'], 0, USAGE),
    eventTtl: values['event-ttl'] ?? '5m',
  };
}

// ---------------------------------------------------------------------------------------------
// Churn: per kind, one write in flight at a time on a fixed schedule. The writes cycle
// create → update → delete, so the population stays level and every object is born, changed
// and removed many times over the run.

interface WriteStats {
  ok: number;
  errors: number;
  serverErrors: number;
  /** The first few failures, for the report. */
  examples: string[];
}

const newStats = (): WriteStats => ({ ok: 0, errors: 0, serverErrors: 0, examples: [] });

async function counted(stats: WriteStats, what: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
    stats.ok++;
  } catch (err) {
    stats.errors++;
    if (err instanceof ApiError && err.code >= 500) stats.serverErrors++;
    if (stats.examples.length < 5) stats.examples.push(`${what}: ${err instanceof ApiError ? `HTTP ${err.code} ` : ''}${(err as Error).message}`);
  }
}

/** Runs `step(i)` every `periodMs` until `until()` says stop; a late step does not cause a burst. */
async function steady(periodMs: number, until: () => boolean, step: (i: number) => Promise<void>): Promise<void> {
  let next = performance.now();
  for (let i = 0; !until(); i++) {
    await step(i);
    next = Math.max(next + periodMs, performance.now() - periodMs);
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

function configMap(name: string, rev: number): ConfigMap {
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name, namespace: NS, labels: { app: 'soak', churn: 'configmap' } },
    data: { rev: String(rev), 'app.properties': `service.name=${name}\nrevision=${rev}\n`, payload: 'x'.repeat(200 + (rev % 7) * 50) },
  };
}

function pod(name: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'soak', churn: 'pod' } },
    spec: {
      // Short, so a deleted pod leaves the agent's hands (and the store) soon after its DELETE.
      terminationGracePeriodSeconds: 2,
      containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '86400'], resources: { requests: { cpu: '5m', memory: '8Mi' } } }],
    },
  };
}

function deployment(replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'soak', namespace: NS, labels: { app: 'soak-deploy' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'soak-deploy' } },
      template: {
        metadata: { labels: { app: 'soak-deploy' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '86400'], resources: { requests: { cpu: '5m', memory: '8Mi' } } }],
        },
      },
    },
  };
}

/**
 * Create / update / delete of one kind: every third step creates a new object (a new name each
 * time, so a pod still terminating never collides with its successor), one updates a live
 * object, one deletes the oldest once `keep` are alive.
 */
async function churnKind(opts: {
  api: ApiClient; stats: WriteStats; prefix: string; collection: string; keep: number; periodMs: number; until: () => boolean;
  make: (name: string, rev: number) => object; patch: (rev: number) => object;
}): Promise<void> {
  const live: string[] = [];
  let serial = 0;
  await steady(opts.periodMs, opts.until, async (i) => {
    const op = i % 3;
    if (op === 0 || live.length === 0) {
      const name = `${opts.prefix}-${String(serial++).padStart(6, '0')}`;
      const before = opts.stats.errors;
      await counted(opts.stats, `create ${name}`, () => opts.api.create(opts.collection, opts.make(name, i)));
      if (opts.stats.errors === before) live.push(name);
    } else if (op === 1 || live.length <= opts.keep) {
      const name = live[i % live.length]!;
      await counted(opts.stats, `update ${name}`, () => opts.api.patch(`${opts.collection}/${name}`, opts.patch(i), 'merge'));
    } else {
      const name = live.shift()!;
      await counted(opts.stats, `delete ${name}`, () => opts.api.delete(`${opts.collection}/${name}`));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Watches: each behaves like a reflector. List once, watch from the list's resourceVersion with
// bookmarks and a server-side timeout, re-open from the last resourceVersion seen when the
// server ends the stream, and re-list only on 410 Gone.

interface WatchStats {
  events: number;
  bookmarks: number;
  /** Streams the server ended (timeoutSeconds) that were re-opened. */
  reopens: number;
  /** 410 Gone (as a status or an ERROR event): the watcher re-listed. */
  relists: number;
  /** Anything else: a failed open, a broken stream, a non-410 ERROR event, a 5xx. */
  errors: number;
  serverErrors: number;
  examples: string[];
}

const newWatchStats = (): WatchStats => ({ events: 0, bookmarks: 0, reopens: 0, relists: 0, errors: 0, serverErrors: 0, examples: [] });

async function runWatcher(api: ApiClient, path: string, query: Record<string, string>, stats: WatchStats, signal: AbortSignal, seed: number): Promise<void> {
  const fail = (what: string, err: unknown): void => {
    stats.errors++;
    if (err instanceof ApiError && err.code >= 500) stats.serverErrors++;
    if (stats.examples.length < 5) stats.examples.push(`${path} ${what}: ${(err as Error).message ?? String(err)}`);
  };
  let rv: string | undefined;
  let round = 0;
  while (!signal.aborted) {
    if (rv === undefined) {
      try {
        rv = (await api.list(path, { ...query, limit: '500' })).metadata.resourceVersion;
      } catch (err) {
        if (signal.aborted) return;
        fail('list', err);
        await sleep(1000);
        continue;
      }
    }
    // Between one and two minutes, varied per watcher, so streams end (and re-open) all through the run.
    const timeoutSeconds = 60 + ((seed * 7 + round++ * 13) % 61);
    let gone = false;
    try {
      await api.watch(path, { ...query, resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) }, (type, obj) => {
        if (type === 'ERROR') {
          const code = (obj as { code?: number } | undefined)?.code;
          if (code === 410) gone = true;
          else fail('ERROR event', new Error(JSON.stringify(obj).slice(0, 300)));
          return;
        }
        const next = (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        if (next) rv = next;
        if (type === 'BOOKMARK') stats.bookmarks++;
        else stats.events++;
      }, signal);
      if (signal.aborted) return;
      if (gone) {
        stats.relists++;
        rv = undefined;
      } else stats.reopens++;
    } catch (err) {
      if (signal.aborted) return;
      if (isGone(err)) {
        stats.relists++;
        rv = undefined;
        continue;
      }
      fail('watch', err);
      await sleep(1000);
    }
  }
}

function watchTargets(n: number): { path: string; query: Record<string, string> }[] {
  // Namespaced and cluster-wide, with and without a label selector, pods and configmaps alike.
  const kinds: { path: string; query: Record<string, string> }[] = [
    { path: `/api/v1/namespaces/${NS}/pods`, query: {} },
    { path: `/api/v1/namespaces/${NS}/configmaps`, query: {} },
    { path: '/api/v1/pods', query: {} },
    { path: '/api/v1/configmaps', query: {} },
    { path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: 'churn=pod' } },
    { path: `/api/v1/namespaces/${NS}/configmaps`, query: { labelSelector: 'churn=configmap' } },
  ];
  return Array.from({ length: n }, (_, i) => kinds[i % kinds.length]!);
}

// ---------------------------------------------------------------------------------------------
// Memory: a sample per component every --sample-seconds, and the least-squares slope over the
// samples taken after the warm-up.

interface Sample {
  /** Seconds since the churn started. */
  t: number;
  component: Component;
  pid: number;
  rssMb: number;
}

/** Slope (per minute) of the least-squares line through (x minutes, y); NaN with fewer than 3 points. */
function leastSquaresSlope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 3) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

/** Theil–Sen: the median of all pairwise slopes, which one GC step or spike cannot drag. */
function theilSenSlope(points: { x: number; y: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) {
    const dx = points[j]!.x - points[i]!.x;
    if (dx > 0) slopes.push((points[j]!.y - points[i]!.y) / dx);
  }
  if (!slopes.length) return NaN;
  slopes.sort((a, b) => a - b);
  const mid = Math.floor(slopes.length / 2);
  return slopes.length % 2 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
}

async function main(): Promise<number> {
  const o = parseOptions();
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const dataDir = o.keepData ? mkdtempSync(join(tmpdir(), 'podium-bench-soak-')) : await makeTempDir('podium-bench-soak-');
  const port = await freePort();
  const runMs = o.minutes * 60_000;
  say(`podium soak benchmark — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`cluster: podium up --runtime ${o.runtime}${o.runtime === 'simulated' ? ` --nodes ${o.nodes}` : ''} on https://127.0.0.1:${port}, data dir ${dataDir}${o.keepData ? ' (kept)' : ''}`);
  say(`churn for ${o.minutes} min (warm-up ${fixed(o.warmupMinutes, 1)} min): ConfigMaps ${o.configMapRate} writes/s, bare Pods ${o.podRate} writes/s (create/update/delete), ` +
    `Deployment scaled 2↔6 every 15 s; Events expire after ${o.eventTtl}; ${o.watchers} watches on pods and configmaps; RSS sampled every ${o.sampleSeconds} s`);

  const upLog = createWriteStream(join(dataDir, 'up.log'));
  // `up` hands its own node flags to every component it starts, so these reach all of them.
  const nodeFlags = o.heapSnapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dataDir}`] : [];
  const upArgs = [...nodeFlags, podiumJs, 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', o.runtime, '--event-ttl', o.eventTtl];
  if (o.runtime === 'simulated') upArgs.push('--nodes', String(o.nodes));
  const up = new Child('podium up', process.execPath, upArgs);
  for (const s of [up.proc.stdout, up.proc.stderr]) s?.on('data', (d: string | Buffer) => upLog.write(d));
  if (o.heapSnapshots) say(`heap snapshots: kill -USR2 <component pid> writes one into ${dataDir} (kept)`);
  const samples: Sample[] = [];
  const pids = new Map<Component, number>();
  const restarts: string[] = [];
  const abort = new AbortController();
  // Every watch request listens on this one signal: that many listeners are expected, not a leak.
  setMaxListeners(o.watchers + 10, abort.signal);
  let sampler: NodeJS.Timeout | undefined;
  const churns: Promise<void>[] = [];
  const watchers: Promise<void>[] = [];
  try {
    const upStarted = performance.now();
    const api = await waitForApiServer(dataDir, up);
    await waitUntil('every component process', async () => COMPONENTS.every((c) => findComponents(up.pid).has(c)), 60_000, up, 200);
    let readyNodes = 0;
    const wantNodes = o.runtime === 'simulated' ? o.nodes : 1;
    await waitUntil(`${wantNodes} node(s) Ready`, async () => {
      const nodes = await api.list<{ status?: { conditions?: { type: string; status: string }[] } }>('/api/v1/nodes');
      readyNodes = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      return readyNodes >= wantNodes;
    }, 120_000, up, 500);
    await api.create('/api/v1/namespaces', { metadata: { name: NS } });
    await waitUntil(`ServiceAccount ${NS}/default`, async () => {
      await api.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`);
      return true;
    }, 60_000, up, 200);
    say(`up: ${readyNodes} node(s) Ready ${fixed((performance.now() - upStarted) / 1000)} s after start; components: ${[...findComponents(up.pid)].map(([c, pid]) => `${c} ${pid}`).join(', ')}`);

    const eventWindow = o.prefillWindow ?? eventWindowOf(findComponents(up.pid).get('apiserver')!);
    if (eventWindow > 0) {
      const nodeNames = (await api.list<{ metadata?: { name?: string } }>('/api/v1/nodes')).items.map((n) => n.metadata?.name ?? '').filter(Boolean);
      say(`prefill: ${eventWindow} events to each of pods, configmaps, events, leases, deployments, replicasets and nodes, so Redis's event streams (--event-window ${eventWindow}) start full`);
      const s = await prefillEventWindows(api, NS, nodeNames, eventWindow, say);
      say(`prefill: done in ${fixed(s)} s`);
    }
    const eventsAtStart = (await api.list('/api/v1/events')).items.length;

    // Watches first, so they see the churn from its first write.
    const watchStats = newWatchStats();
    // Their own client (and connection pool), so the churn's requests never queue behind them.
    const watchApi = ApiClient.fromKubeconfig(join(dataDir, 'kubeconfig'));
    watchTargets(o.watchers).forEach((w, i) => watchers.push(runWatcher(watchApi, w.path, w.query, watchStats, abort.signal, i)));

    const started = performance.now();
    const elapsedS = (): number => (performance.now() - started) / 1000;
    const sample = (): void => {
      const t = elapsedS();
      for (const [c, pid] of findComponents(up.pid)) {
        const before = pids.get(c);
        if (before !== undefined && before !== pid) restarts.push(`${c}: pid ${before} → ${pid} at ${fixed(t / 60, 1)} min`);
        pids.set(c, pid);
        try {
          samples.push({ t, component: c, pid, rssMb: rssMb(pid) });
        } catch {
          // exited between the lookup and the read; the next sample finds its successor
        }
      }
    };
    sample();
    sampler = setInterval(sample, o.sampleSeconds * 1000);

    const until = (): boolean => performance.now() - started >= runMs || !up.running;
    const cmStats = newStats();
    const podStats = newStats();
    const deployStats = newStats();
    churns.push(churnKind({
      api, stats: cmStats, prefix: 'cm', collection: `/api/v1/namespaces/${NS}/configmaps`, keep: 30, periodMs: 1000 / o.configMapRate, until,
      make: (name, rev) => configMap(name, rev), patch: (rev) => ({ data: { rev: String(rev) } }),
    }));
    churns.push(churnKind({
      api, stats: podStats, prefix: 'pod', collection: `/api/v1/namespaces/${NS}/pods`, keep: 10, periodMs: 1000 / o.podRate, until,
      make: (name) => pod(name), patch: (rev) => ({ metadata: { labels: { rev: String(rev) } } }),
    }));
    await counted(deployStats, 'create deployment', () => api.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(2)));
    churns.push(steady(15_000, until, async (i) => {
      if (i === 0) return; // the create above was the first step
      await counted(deployStats, 'scale deployment', () => api.patch(`/apis/apps/v1/namespaces/${NS}/deployments/soak`, { spec: { replicas: i % 2 ? 6 : 2 } }, 'merge'));
    }));

    const rssNow = (): string => COMPONENTS.map((c) => {
      const last = samples.filter((s) => s.component === c).at(-1);
      return `${c} ${fixed(last?.rssMb, 0)}`;
    }).join(', ');
    const writes = (): number => cmStats.ok + podStats.ok + deployStats.ok;
    const errors = (): number => cmStats.errors + podStats.errors + deployStats.errors + watchStats.errors;
    // Progress once a minute, so a long run shows it is alive (and where memory is heading).
    while (!until()) {
      await sleep(Math.min(60_000, Math.max(0, runMs - (performance.now() - started))));
      if (!up.running) break;
      say(`  ${fixed(elapsedS() / 60, 1).padStart(5)} min: ${writes()} writes, ${watchStats.events} watch events, ${errors()} errors; RSS MB ${rssNow()}`);
    }
    if (!up.running) throw new Error(`podium up ${up.describeExit()} during the soak:\n${up.tail.slice(-30).join('\n')}`);
    await Promise.all(churns);
    const churnSeconds = elapsedS();
    sample();
    clearInterval(sampler);
    abort.abort();
    await Promise.all(watchers);

    // Pods and configmaps that are left must be what the churn left, no more: a leak in the
    // store would show here as well as in memory.
    const [leftPods, leftCms] = await Promise.all([
      api.list<Pod>(`/api/v1/namespaces/${NS}/pods`), api.list<ConfigMap>(`/api/v1/namespaces/${NS}/configmaps`),
    ]);
    const leftBare = leftPods.items.filter((p) => p.metadata?.labels?.churn === 'pod').length;
    const leftDeploy = leftPods.items.filter((p) => p.metadata?.labels?.app === 'soak-deploy').length;
    const eventsAtEnd = (await api.list('/api/v1/events')).items.length;
    const leftCm = leftCms.items.filter((c) => c.metadata?.labels?.churn === 'configmap').length;

    const warmFromS = o.warmupMinutes * 60;
    interface Row { c: Component; start?: number; warm?: number; end?: number; peak?: number; n: number; lsq: number; theilSen: number }
    const rows: Row[] = COMPONENTS.map((c) => {
      const mine = samples.filter((s) => s.component === c);
      // Only the current process: a restarted component starts its memory from scratch.
      const lastPid = mine.at(-1)?.pid;
      const warm = mine.filter((s) => s.t >= warmFromS && s.pid === lastPid);
      const points = warm.map((s) => ({ x: s.t / 60, y: s.rssMb }));
      return {
        c, start: mine[0]?.rssMb, warm: warm[0]?.rssMb, end: mine.at(-1)?.rssMb,
        peak: mine.length ? Math.max(...mine.map((s) => s.rssMb)) : undefined,
        n: warm.length, lsq: leastSquaresSlope(points) * 10, theilSen: theilSenSlope(points) * 10,
      };
    });

    const stat = (name: string, s: WriteStats): string => `${name} ${s.ok} ok / ${s.errors} failed (${s.serverErrors} 5xx)`;
    say('');
    say(`churn: ${fixed(churnSeconds / 60, 1)} min, ${writes()} writes acknowledged (${fixed(writes() / churnSeconds, 2)} writes/s): ${stat('configmaps', cmStats)}, ${stat('pods', podStats)}, ${stat('deployment', deployStats)}`);
    say(`watches: ${o.watchers} open throughout; ${watchStats.events} events received (${fixed(watchStats.events / churnSeconds, 1)}/s), ${watchStats.bookmarks} bookmarks, ` +
      `${watchStats.reopens} re-opens after the server ended a stream, ${watchStats.relists} re-lists after 410, ${watchStats.errors} errors (${watchStats.serverErrors} 5xx)`);
    say(`left at the end: ${leftBare} churned pods (the churn keeps ~10), ${leftCm} churned configmaps (~30), ${leftDeploy} Deployment pods (2 or 6)`);
    say(`core/v1 Events stored: ${eventsAtStart} when the churn started, ${eventsAtEnd} at the end (+${fixed((eventsAtEnd - eventsAtStart) / (churnSeconds / 600), 0)} per 10 min)`);
    const examples = [...cmStats.examples, ...podStats.examples, ...deployStats.examples, ...watchStats.examples];
    if (examples.length) say(`errors, first ${Math.min(8, examples.length)}: ${examples.slice(0, 8).join(' | ')}`);
    if (restarts.length) say(`component restarts: ${restarts.join('; ')}`);
    say('');
    say(`resident memory (MB)     start   warm (${fixed(o.warmupMinutes, 1)} min)   end    peak   slope MB/10 min (least squares, n)   Theil–Sen`);
    for (const r of rows) {
      say(`${r.c.padEnd(20)} ${fixed(r.start).padStart(7)} ${fixed(r.warm).padStart(14)} ${fixed(r.end).padStart(7)} ${fixed(r.peak).padStart(7)}   ${fixed(r.lsq, 2).padStart(8)} (n=${r.n})${' '.repeat(20)}${fixed(r.theilSen, 2).padStart(7)}`);
    }
    say('');
    say('targets');
    for (const r of rows) say(`  ${verdict(Number.isFinite(r.lsq) && r.lsq <= TARGET_MB_PER_10_MIN)}  ${r.c} RSS slope once warm ≤ ${TARGET_MB_PER_10_MIN} MB/10 min: ${fixed(r.lsq, 2)} MB/10 min (${r.n} samples after ${fixed(o.warmupMinutes, 1)} min)`);
    const totalServerErrors = cmStats.serverErrors + podStats.serverErrors + deployStats.serverErrors + watchStats.serverErrors;
    say(`  ${verdict(errors() === 0)}  no failed writes, no watch errors, no 5xx: ${errors()} errors, ${totalServerErrors} 5xx`);

    if (o.samplesFile) {
      if (o.samplesFile.endsWith('.json')) writeFileSync(o.samplesFile, JSON.stringify(samples.map((s) => ({ ...s, t: round(s.t, 1), rssMb: round(s.rssMb, 2) }))));
      else writeFileSync(o.samplesFile, `t_seconds,component,pid,rss_mb\n${samples.map((s) => `${s.t.toFixed(1)},${s.component},${s.pid},${s.rssMb.toFixed(2)}`).join('\n')}\n`);
      say(`samples written to ${o.samplesFile}`);
    }
    const ws = (s: WriteStats): object => ({ ok: s.ok, errors: s.errors, serverErrors: s.serverErrors });
    say(JSON.stringify({
      bench: 'soak', minutes: o.minutes, prefillWindow: eventWindow, coreEvents: { atStart: eventsAtStart, atEnd: eventsAtEnd }, warmupMinutes: o.warmupMinutes, runtime: o.runtime, nodes: o.nodes, cpus: availableParallelism(),
      writesPerSecond: round(writes() / churnSeconds, 2), writes: { configmaps: ws(cmStats), pods: ws(podStats), deployment: ws(deployStats) },
      watches: { open: o.watchers, events: watchStats.events, bookmarks: watchStats.bookmarks, reopens: watchStats.reopens, relists: watchStats.relists, errors: watchStats.errors, serverErrors: watchStats.serverErrors },
      rssMb: Object.fromEntries(rows.map((r) => [r.c, { start: round(r.start), warm: round(r.warm), end: round(r.end), peak: round(r.peak), slopePer10Min: round(r.lsq, 2), theilSenPer10Min: round(r.theilSen, 2), warmSamples: r.n }])),
      restarts, targets: { slopeMbPer10Min: TARGET_MB_PER_10_MIN },
      verdicts: Object.fromEntries(rows.map((r) => [r.c, verdict(Number.isFinite(r.lsq) && r.lsq <= TARGET_MB_PER_10_MIN)])),
    }));
    return 0;
  } catch (err) {
    return benchFailed(err, up);
  } finally {
    clearInterval(sampler);
    abort.abort();
    await Promise.race([Promise.allSettled([...churns, ...watchers]), sleep(15_000)]);
    const all = new Map(pids);
    for (const [c, pid] of findComponents(up.pid)) all.set(c, pid);
    await up.stop(30_000);
    await stopStragglers(all);
    upLog.end();
    await cleanupAll();
  }
}

runBench(main);
