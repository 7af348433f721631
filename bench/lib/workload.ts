// The measured phases, identical for the API server and the ceiling: watches open, creates,
// watch delivery, gets, lists. The targets see the same requests in the same order.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpTarget, summarize, timedPool, type Summary } from './http-client.js';
import { WatchClient } from './watch-client.js';

export interface WorkloadOptions {
  namespace: string;
  count: number;
  watchers: number;
  concurrency: number;
  getRounds: number;
  lists: number;
  /** How long after the last create acknowledgement every event may take to arrive. */
  deliveryTimeoutMs: number;
}

export interface WatchSummary extends Summary {
  /** Deliveries that arrived before their create was acknowledged, timed from the send instead. */
  beforeAck: number;
}

export interface WorkloadResult {
  create: Summary;
  get: Summary;
  list: Summary;
  watch: WatchSummary;
  /** Mean response sizes, to show both targets served the same payloads. */
  bytes: { create: number; get: number; list: number; event: number };
}

/** A ConfigMap shaped like application configuration: ten keys, a few hundred bytes. */
export function configMap(namespace: string, name: string, i: number): object {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { app: 'bench', shard: `s${i % 16}` } },
    data: {
      'log.level': i % 10 === 0 ? 'debug' : 'info',
      'http.port': String(8000 + (i % 100)),
      'http.timeout': '30s',
      'db.host': `postgres-${i % 7}.bench.svc.cluster.local`,
      'db.pool.max': String(10 + (i % 20)),
      'cache.ttl.seconds': '300',
      'feature.flags': 'search,checkout-v2,dark-mode',
      'retry.policy': '{"max":5,"backoffMs":200,"jitter":true}',
      'region': ['eu-west-1', 'us-east-1', 'ap-south-1'][i % 3]!,
      'application.properties': `service.name=svc-${i}\nservice.replicas=3\nmetrics.enabled=true\n`,
    },
  };
}

export function objectName(i: number): string {
  return `cm-${String(i).padStart(5, '0')}`;
}

export async function runWorkload(t: HttpTarget, o: WorkloadOptions, progress: (line: string) => void): Promise<WorkloadResult> {
  const base = `/api/v1/namespaces/${o.namespace}/configmaps`;
  await t.expect(201, 'POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.namespace } }));

  const emptyList = await t.expect(200, 'GET', base);
  const rv = (JSON.parse(emptyList.body!) as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  if (!rv) throw new Error(`${t.name}: list of ${base} has no metadata.resourceVersion: ${emptyList.body!.slice(0, 300)}`);

  const names = Array.from({ length: o.count }, (_, i) => objectName(i));
  const index = new Map(names.map((n, i) => [n, i]));
  const watchers = Array.from({ length: o.watchers }, () => new WatchClient(t.port, `${base}?watch=1&resourceVersion=${encodeURIComponent(rv)}`, index));
  try {
    await Promise.all(watchers.map((w) => w.open()));

    // Creates. Bodies are encoded up front so JSON.stringify is not inside the timed section.
    const bodies = names.map((n, i) => JSON.stringify(configMap(o.namespace, n, i)));
    const sent = new Float64Array(o.count);
    const acked = new Float64Array(o.count);
    const createLat = new Float64Array(o.count);
    let createBytes = 0;
    const createSecs = await timedPool(o.count, o.concurrency, createLat, async (i) => {
      sent[i] = performance.now();
      const r = await t.request('POST', base, { body: bodies[i], keepBody: true });
      // The headers' arrival, not the promise's settling, so the client's own await chain is not counted.
      acked[i] = r.headersAt;
      if (r.status !== 201) throw new Error(`${t.name}: create ${names[i]}: HTTP ${r.status}: ${r.body!.slice(0, 500)}`);
      createBytes += r.bytes;
    });
    progress(`${t.name}: ${o.count} creates in ${createSecs.toFixed(2)} s; waiting for ${o.count * o.watchers} watch deliveries`);

    await waitForDeliveries(t.name, watchers, o);
    const watch = deliverySummary(watchers, sent, acked);
    const eventBytes = watchers.reduce((s, w) => s + w.bytes, 0) / (o.count * o.watchers);
    const duplicates = watchers.reduce((s, w) => s + w.duplicates, 0);
    const unexpected = watchers.reduce((s, w) => s + w.unexpectedCount, 0);
    if (duplicates || unexpected) {
      const examples = watchers.flatMap((w) => w.unexpected).slice(0, 3).join('; ');
      progress(`${t.name}: WARNING: ${duplicates} duplicate deliveries, ${unexpected} unexpected events${examples ? ` (e.g. ${examples})` : ''}`);
    }
    for (const w of watchers) w.close();

    // Gets: every object, several rounds, in creation order.
    const gets = o.count * o.getRounds;
    const getLat = new Float64Array(gets);
    let getBytes = 0;
    const getSecs = await timedPool(gets, o.concurrency, getLat, async (k) => {
      const r = await t.request('GET', `${base}/${names[k % o.count]}`);
      if (r.status !== 200) throw new Error(`${t.name}: get ${names[k % o.count]}: HTTP ${r.status}`);
      getBytes += r.bytes;
    });

    // One checked list first (untimed): the namespace must hold exactly what was created.
    const full = await t.expect(200, 'GET', base);
    const items = (JSON.parse(full.body!) as { items?: unknown[] }).items?.length;
    if (items !== o.count) throw new Error(`${t.name}: list returned ${items} items, created ${o.count}`);
    const listLat = new Float64Array(o.lists);
    let listBytes = 0;
    const listSecs = await timedPool(o.lists, o.concurrency, listLat, async () => {
      const r = await t.request('GET', base);
      if (r.status !== 200) throw new Error(`${t.name}: list: HTTP ${r.status}`);
      listBytes += r.bytes;
    });

    return {
      create: summarize(createLat, createSecs),
      get: summarize(getLat, getSecs),
      list: summarize(listLat, listSecs),
      watch,
      bytes: { create: createBytes / o.count, get: getBytes / gets, list: listBytes / o.lists, event: eventBytes },
    };
  } finally {
    for (const w of watchers) w.close();
  }
}

async function waitForDeliveries(name: string, watchers: WatchClient[], o: WorkloadOptions): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), o.deliveryTimeoutMs);
  });
  try {
    await Promise.race([Promise.all(watchers.map((w) => w.complete)), timeout]);
  } catch (err) {
    const got = watchers.map((w) => w.count);
    const missing = got.reduce((s, c) => s + (o.count - c), 0);
    const firstMissing = watchers.flatMap((w) => {
      const i = w.received.findIndex((x) => Number.isNaN(x));
      return i >= 0 ? [objectName(i)] : [];
    });
    throw new Error(
      `${name}: watch delivery incomplete: ${(err as Error).message === 'timeout' ? `after waiting ${o.deliveryTimeoutMs} ms` : (err as Error).message}; ` +
        `${missing} of ${o.count * o.watchers} deliveries missing; per-watcher counts: ${got.join(',')}; ` +
        `first missing object per incomplete watcher: ${[...new Set(firstMissing)].slice(0, 5).join(',')}`,
    );
  } finally {
    clearTimeout(timer);
  }
  // Let any stray duplicate arrive before the streams close, so duplicates are counted.
  await sleep(50);
}

/**
 * Delivery latency = receipt − the create's acknowledgement. An event can beat its own
 * acknowledgement (they travel on different connections); that delivery is timed from the
 * send instead, so it is never negative, and counted.
 */
function deliverySummary(watchers: WatchClient[], sent: Float64Array, acked: Float64Array): WatchSummary {
  const n = sent.length;
  const lat = new Float64Array(n * watchers.length);
  let beforeAck = 0;
  let lastReceipt = 0;
  watchers.forEach((w, k) => {
    for (let i = 0; i < n; i++) {
      const r = w.received[i]!;
      if (r > lastReceipt) lastReceipt = r;
      if (r >= acked[i]!) lat[k * n + i] = r - acked[i]!;
      else {
        lat[k * n + i] = r - sent[i]!;
        beforeAck++;
      }
    }
  });
  const firstSend = sent.reduce((m, s) => Math.min(m, s), Infinity);
  // Throughput: deliveries per second from the first create sent to the last event received.
  return { ...summarize(lat, (lastReceipt - firstSend) / 1000), beforeAck };
}

/** A smaller run of the same phases, results discarded: JIT, connection pools and caches warm up. */
export async function warmUp(t: HttpTarget, o: WorkloadOptions, progress: (line: string) => void): Promise<void> {
  await runWorkload(t, { ...o, namespace: `${o.namespace}-warmup`, count: Math.min(o.count, 300), watchers: Math.min(o.watchers, 5), getRounds: 1, lists: Math.min(o.lists, 10) }, () => undefined);
  progress(`${t.name}: warm-up done`);
}
