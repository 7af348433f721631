// Watch streams from the watch cache: initial state where asked, then every later event once
// and in order; selector transitions become ADDED/DELETED as upstream; 410 when the start is
// older than what is kept; bookmarks; a timeout; slow and stuck readers are cut off.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../registry/types.js';
import type { Store } from './store.js';
import type { ListOptions } from './selection.js';
import type { CacheEvent, EventType } from '../storage/watch-cache.js';
import { materialize } from '../storage/watch-cache.js';
import { isResourceVersion } from './list.js';
import { badRequest, gone, serviceUnavailable, timeout } from '../../apimachinery/errors.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('watch');

export type EventEncoder = (type: EventType | 'BOOKMARK' | 'ERROR', obj: KubeObject, first: boolean) => string;

/**
 * A watcher whose unsent events (beyond its initial state) pass this is disconnected rather
 * than buffered further: it bounds what one reader that keeps up too slowly can hold.
 */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/**
 * A watcher with more than STALLED_BYTES unsent whose socket takes nothing for STALL_TIMEOUT_MS
 * has stopped reading (the kernel's buffers, several MB on loopback, are full before this
 * counts anything). Upstream's cacher closes such a watcher once its channel stays full past a
 * short budget ("Forcing watcher close due to unresponsiveness"); closing it here keeps a stuck
 * client from pinning events that the cache's ring has long let go of.
 */
const STALLED_BYTES = 1024 * 1024;
const STALL_TIMEOUT_MS = 5000;
const BOOKMARK_INTERVAL_MS = 30_000;

interface Delivery { type: EventType; object: KubeObject; ev?: CacheEvent }

export async function serveWatch(store: Store, redis: RedisStorage, namespace: string, opts: ListOptions, res: ServerResponse, encode: EventEncoder, encodingKey: string): Promise<void> {
  const pred = store.predicate(opts);
  const prefix = store.def.namespaced && namespace ? `${namespace}/` : '';
  const rvParam = opts.resourceVersion ?? '';
  if (rvParam && !isResourceVersion(rvParam)) throw badRequest(`invalid resource version "${rvParam}"`);
  // While Redis is away the cache gets no events: a watch would look healthy and stay silent.
  if (!store.storageHealthy()) throw serviceUnavailable('storage is unavailable: the watch cache is not receiving events');
  const cache = rvParam === '' ? await store.fresh() : store.cache();
  // A watch from a revision this server has not seen yet waits for it briefly, as upstream.
  const tooNew = rvParam !== '' && !(await cache.waitFor(Number(rvParam), 3000));
  const inScope = (key: string) => !prefix || key.startsWith(prefix);
  const matches = (o: KubeObject | undefined) => !!o && (pred.empty || pred.matches(store.out(o)));

  let first = true;
  let closed = false;
  /** Output of the current batch, written with one write (one chunk) per batch. */
  let batch: (string | Buffer)[] = [];
  /** Bytes given to res.write, and those the socket has taken (write callbacks); the difference sits in our memory. */
  let written = 0;
  let delivered = 0;
  /** The initial state goes out first and does not count as a backlog of events. */
  let initialBytes = 0;
  let stallTimer: NodeJS.Timeout | undefined;
  const cutOff = (why: string) => {
    log.warn('Forcing watcher close due to unresponsiveness', { resource: store.type, reason: why, unsentBytes: written - delivered });
    finish(true);
  };
  const watchForStall = (mark: number) => {
    stallTimer = setTimeout(() => {
      stallTimer = undefined;
      if (closed || written - delivered <= STALLED_BYTES) return;
      if (delivered === mark) cutOff(`nothing read for ${STALL_TIMEOUT_MS} ms`);
      else watchForStall(delivered);
    }, STALL_TIMEOUT_MS);
  };
  const flush = () => {
    if (closed || batch.length === 0) return;
    const chunk = batch.length === 1 ? batch[0] : Buffer.concat(batch.map((b) => (typeof b === 'string' ? Buffer.from(b) : b)));
    batch = [];
    const n = Buffer.byteLength(chunk);
    written += n;
    res.write(chunk, () => (delivered += n));
    if (written - Math.max(delivered, initialBytes) > MAX_BUFFERED_BYTES) cutOff('buffer full');
    else if (!stallTimer && written - delivered > STALLED_BYTES) watchForStall(delivered);
  };
  const write = (line: string) => {
    batch.push(line);
    first = false;
  };

  /** Upstream's filtering: a change that moves an object in or out of the selection is ADDED or DELETED. */
  const deliver = (ev: CacheEvent) => {
    if (!inScope(ev.key)) return;
    const now = ev.type !== 'DELETED' && matches(ev.object);
    const before = ev.type === 'ADDED' ? false : ev.prev ? matches(ev.prev) : ev.type === 'DELETED' ? matches(ev.object) : now;
    let type: EventType;
    if (ev.type === 'DELETED') { if (!before) return; type = 'DELETED'; }
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return;
    if (type === ev.type && !first) {
      let bytes = ev.encoded.get(encodingKey);
      if (!bytes) ev.encoded.set(encodingKey, (bytes = Buffer.from(encode(type, store.out(ev.object), false))));
      batch.push(bytes);
      return;
    }
    write(encode(type, store.out(ev.object), first));
  };
  const deliverAll = (events: CacheEvent[]) => {
    for (const ev of events) deliver(ev);
    flush();
  };

  let pending: CacheEvent[] | null = [];
  // The cache was reloaded across a hole (Redis lost writes, or the stream outran it): end with
  // 410 as upstream's cacher does when it reinitializes, so the client relists.
  const expire = (reason: string) => {
    if (closed) return;
    write(encode('ERROR', gone(`The resourceVersion for the provided watch is too old: ${reason}`).toStatus() as KubeObject, first));
    flush();
    finish(false);
  };
  const unsubscribe = cache.subscribe((events) => (pending ? pending.push(...events) : deliverAll(events)), expire);
  let bookmarkTimer: NodeJS.Timeout | undefined;
  const timeoutMs = (opts.timeoutSeconds && opts.timeoutSeconds > 0 ? opts.timeoutSeconds : 1800 + Math.random() * 1800) * 1000;
  const endTimer = setTimeout(() => finish(false), timeoutMs);
  function finish(destroy: boolean) {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearTimeout(endTimer);
    clearTimeout(stallTimer);
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    if (destroy) res.destroy(); else res.end();
  }
  res.on('close', () => finish(false));

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();

  const bookmark = (annotations?: Record<string, string>) => {
    const obj: KubeObject = { kind: store.def.kind, apiVersion: store.def.group ? `${store.def.group}/${store.def.version}` : store.def.version, metadata: { resourceVersion: String(cache.rev), ...(annotations ? { annotations } : {}) } };
    write(encode('BOOKMARK', obj, first));
    flush();
  };

  if (tooNew) {
    write(encode('ERROR', timeout(`Timeout: Too large resource version: ${rvParam}, current: ${cache.rev}`).toStatus() as KubeObject, first));
    flush();
    finish(false);
    return;
  }

  let backlog: Delivery[] | CacheEvent[];
  const initial = rvParam === '' || rvParam === '0' || opts.sendInitialEvents === true;
  if (initial) {
    const items: Delivery[] = [];
    for (const [key, e] of cache.entries(prefix)) if (inScope(key) && matches(e.object)) items.push({ type: 'ADDED', object: e.object });
    for (const d of items) write(encode('ADDED', store.out(d.object), first));
    initialBytes = batch.reduce((n, b) => n + Buffer.byteLength(b), 0);
    if (opts.sendInitialEvents && opts.allowWatchBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
    backlog = [];
  } else {
    const from = Number(rvParam);
    const fromRing = from < cache.expiredBefore ? undefined : cache.eventsSince(from);
    if (fromRing) backlog = fromRing;
    else {
      // Older than this server's ring: the Redis stream may still hold the events.
      const oldest = await redis.oldestEventRevision(store.type).catch(() => undefined);
      if (oldest === undefined || oldest > from + 1 || from < cache.expiredBefore) {
        write(encode('ERROR', gone(`too old resource version: ${from} (${cache.rev})`).toStatus() as KubeObject, first));
        flush();
        finish(false);
        return;
      }
      const stored = await redis.eventsAfter(store.type, from, 1_000_000);
      const last = new Map<string, KubeObject>();
      backlog = stored.filter((e) => e.rev <= cache.rev).map((e) => {
        const object = materialize(e.json, e.rev);
        const ev: CacheEvent = { type: e.type, rev: e.rev, key: e.key, object, prev: last.get(e.key), encoded: new Map(), appliedAt: 0 };
        last.set(e.key, object);
        return ev;
      });
    }
  }
  if (closed) return;
  for (const ev of backlog as CacheEvent[]) deliver(ev);
  const queued = pending;
  pending = null;
  const lastSent = (backlog as CacheEvent[]).at(-1)?.rev ?? 0;
  deliverAll(queued.filter((ev) => ev.rev > lastSent));
  if (opts.allowWatchBookmarks) bookmarkTimer = setInterval(() => bookmark(), BOOKMARK_INTERVAL_MS);
}
