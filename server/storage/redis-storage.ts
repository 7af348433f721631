// The Redis side of storage (ARCHITECTURE.md § Storage): per resource type T, keys hash-tagged
// {T}: objects (hash "ns/name" -> "<rev> <json>"), names (sorted index), rev (counter), events
// (stream, entry id "<rev>-0"), rollbacks (how often the counter was found behind a revision
// already handed out, after Redis lost writes). Every write is one Lua script; nothing else
// writes these keys.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { logger } from '../../apimachinery/log.js';
import { serviceUnavailable } from '../../apimachinery/errors.js';
import type { EncryptionTransformer } from './encryption.js';

const log = logger('storage');
const script = (name: string) => readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

export type WriteOp = 'create' | 'update' | 'delete';
export type WriteResult =
  | { status: 'ok'; rev: number }
  | { status: 'exists' | 'conflict'; rev: number }
  | { status: 'missing' };

export interface StoredEvent { rev: number; type: 'ADDED' | 'MODIFIED' | 'DELETED'; key: string; json: string }

export const keysOf = (type: string) => ({
  objects: `{${type}}:objects`,
  names: `{${type}}:names`,
  rev: `{${type}}:rev`,
  events: `{${type}}:events`,
  /** Bumped whenever a write or a reload found the counter behind a revision already handed out. */
  rollbacks: `{${type}}:rollbacks`,
});

type ScriptedRedis = Redis & {
  podiumWrite(o: string, n: string, r: string, e: string, rb: string, op: string, key: string, expected: string, json: string, window: string, floor: string): Promise<[string, string]>;
  podiumLoad(o: string, r: string, rb: string, floor: string): Promise<[string, string[], string]>;
  podiumRevisions(o: string, r: string): Promise<[string, string[]]>;
};

/**
 * How long one Redis command may take before the request fails with 503 instead of hanging
 * (Redis stopped, or unreachable without a connection reset).
 */
const COMMAND_TIMEOUT_MS = 2000;
/** Reconnect quickly once Redis is back; a request in between fails at once (no offline queue). */
/** The longest BLOCK a stream tail may ask for. */
export const MAX_TAIL_BLOCK_MS = 1000;
const reconnectDelay = (times: number) => Math.min(times * 50, 500);

export class RedisStorage {
  readonly client: ScriptedRedis;
  /** A second connection for blocking stream reads, so writes never wait behind them. */
  private readonly tailClient: Redis;

  /**
   * The highest revision of each type this server has seen (acknowledged or applied). Redis with
   * `appendfsync everysec` can come back from a crash without its last writes, so its counter
   * can fall behind revisions clients already hold; every write raises it past this floor
   * first, so a revision is never handed out twice.
   */
  private readonly seen = new Map<string, number>();
  /** Counts the tail connection's drops: the cacher checks for a Redis restart after each. */
  tailConnectionEpoch = 0;

  constructor(url: string, private readonly eventWindow: number, private readonly encryption?: EncryptionTransformer) {
    // No offline queue and no retries: while Redis is down a request fails at once (503) rather
    // than waiting for a reconnect, and a write is never resent behind the client's back. No
    // auto-pipelining: it holds new commands until the previous batch is answered, so with Redis
    // hung each request would wait out the timeouts of the ones before it. (Concurrent commands
    // still share the connection without waiting for each other's replies.)
    this.client = new Redis(url, {
      lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false, commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: COMMAND_TIMEOUT_MS, retryStrategy: reconnectDelay,
    }) as ScriptedRedis;
    this.tailClient = new Redis(url, {
      enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, connectTimeout: COMMAND_TIMEOUT_MS, retryStrategy: reconnectDelay,
      // A blocking read waits up to its BLOCK time; past that plus the usual allowance, Redis is not answering.
      commandTimeout: MAX_TAIL_BLOCK_MS + COMMAND_TIMEOUT_MS,
    });
    this.tailClient.on('close', () => this.tailConnectionEpoch++);
    this.client.defineCommand('podiumWrite', { numberOfKeys: 5, lua: script('write.lua') });
    this.client.defineCommand('podiumLoad', { numberOfKeys: 3, lua: script('load.lua') });
    this.client.defineCommand('podiumRevisions', { numberOfKeys: 2, lua: script('revisions.lua') });
    for (const c of [this.client, this.tailClient]) c.on('error', (err: Error) => log.v(1, 'redis connection error', { err: err.message }));
  }

  /** Records that `rev` of `type` exists (an acknowledged write, or an event the cache applied). */
  observe(type: string, rev: number): void {
    if (rev > (this.seen.get(type) ?? 0)) this.seen.set(type, rev);
  }

  /** The highest revision of `type` this server has seen. */
  seenRevision(type: string): number {
    return this.seen.get(type) ?? 0;
  }

  /** Identifies the running Redis process: a new id means Redis restarted (and may have lost writes). */
  async runId(): Promise<string> {
    const info = await this.client.info('server');
    return /run_id:(\w+)/.exec(info)?.[1] ?? '';
  }

  /** Each type's revision counter and rollback counter. */
  async counters(types: string[]): Promise<{ rev: number; rollbacks: number }[]> {
    const vals = await this.client.mget(...types.flatMap((t) => [keysOf(t).rev, keysOf(t).rollbacks]));
    return types.map((_, i) => ({ rev: Number(vals[2 * i] ?? 0), rollbacks: Number(vals[2 * i + 1] ?? 0) }));
  }

  /**
   * Encryption at rest happens here, the one place every value passes on its way to and from
   * Redis: the object hash and the event stream both hold the sealed form. The storage key is
   * bound as authenticated data, so a sealed value copied under another key does not open.
   */
  private seal(type: string, key: string, json: string): string {
    return this.encryption ? this.encryption.transformToStorage(encryptionResource(type), json, `/${type}/${key}`) : json;
  }

  private open(type: string, key: string, stored: string): string {
    return this.encryption ? this.encryption.transformFromStorage(encryptionResource(type), stored, `/${type}/${key}`) : stored;
  }

  async write(type: string, op: WriteOp, key: string, expectedRev: number | undefined, json: string): Promise<WriteResult> {
    const k = keysOf(type);
    const [status, rev] = await unavailableOnError(this.client.podiumWrite(k.objects, k.names, k.rev, k.events, k.rollbacks, op, key, expectedRev === undefined ? '' : String(expectedRev), this.seal(type, key, json), String(this.eventWindow), String(this.seenRevision(type))));
    if (status === 'missing') return { status };
    if (status === 'ok') this.observe(type, Number(rev));
    return { status: status as 'ok' | 'exists' | 'conflict', rev: Number(rev) };
  }

  /** Reads one object straight from Redis (used to retry after a conflict, when the cache may lag). */
  async read(type: string, key: string): Promise<{ rev: number; json: string } | undefined> {
    const v = await unavailableOnError(this.client.hget(keysOf(type).objects, key));
    if (v === null) return undefined;
    const stored = splitStored(v);
    return { rev: stored.rev, json: this.open(type, key, stored.json) };
  }

  /**
   * A consistent snapshot of one type. With `floor`, the revision counter is first raised to at
   * least it (in the same script), so the snapshot's revision is past every revision seen.
   */
  async load(type: string, floor = 0): Promise<{ rev: number; rollbacks: number; objects: Map<string, { rev: number; json: string }> }> {
    const k = keysOf(type);
    const [rev, flat, rollbacks] = await this.client.podiumLoad(k.objects, k.rev, k.rollbacks, String(floor));
    const objects = new Map<string, { rev: number; json: string }>();
    for (let i = 0; i < flat.length; i += 2) {
      const stored = splitStored(flat[i + 1]);
      objects.set(flat[i], { rev: stored.rev, json: this.open(type, flat[i], stored.json) });
    }
    return { rev: Number(rev), rollbacks: Number(rollbacks), objects };
  }

  /** The revision and each object's key and revision of one type, read atomically (the consistency checker's digest input). */
  async revisions(type: string): Promise<{ rev: number; revs: Map<string, number> }> {
    const k = keysOf(type);
    const [rev, flat] = await this.client.podiumRevisions(k.objects, k.rev);
    const revs = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) revs.set(flat[i], Number(flat[i + 1]));
    return { rev: Number(rev), revs };
  }

  async currentRevisions(types: string[]): Promise<number[]> {
    const vals = await this.client.mget(...types.map((t) => keysOf(t).rev));
    return vals.map((v) => Number(v ?? 0));
  }

  async currentRevision(type: string): Promise<number> {
    return Number((await this.client.get(keysOf(type).rev)) ?? 0);
  }

  /** The oldest revision still in the type's stream, or undefined when the stream is empty. */
  async oldestEventRevision(type: string): Promise<number | undefined> {
    const first = (await this.client.xrange(keysOf(type).events, '-', '+', 'COUNT', 1)) as [string, string[]][];
    return first.length ? Number(first[0][0].split('-')[0]) : undefined;
  }

  async eventsAfter(type: string, rev: number, count = 10000): Promise<StoredEvent[]> {
    const entries = (await unavailableOnError(this.client.xrange(keysOf(type).events, `(${rev}-0`, '+', 'COUNT', count))) as [string, string[]][];
    return entries.map((e) => this.openEvent(type, parseEntry(e)));
  }

  private openEvent(type: string, e: StoredEvent): StoredEvent {
    return this.encryption ? { ...e, json: this.open(type, e.key, e.json) } : e;
  }

  /** Blocks up to `blockMs` for events after the given revisions; returns them per type. */
  async tail(positions: Map<string, number>, blockMs: number): Promise<Map<string, StoredEvent[]>> {
    const types = [...positions.keys()];
    const out = new Map<string, StoredEvent[]>();
    if (types.length === 0) return out;
    const reply = (await this.tailClient.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', ...types.map((t) => keysOf(t).events), ...types.map((t) => `${positions.get(t)}-0`))) as [string, [string, string[]][]][] | null;
    for (const [stream, entries] of reply ?? []) {
      const type = stream.slice(1, stream.indexOf('}:events'));
      out.set(type, entries.map((e) => this.openEvent(type, parseEntry(e))));
    }
    return out;
  }

  async ping(): Promise<boolean> {
    try { return (await this.client.ping()) === 'PONG'; } catch { return false; }
  }

  async close(): Promise<void> {
    this.tailClient.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** The resource name an EncryptionConfiguration lists for a storage type: "secrets", "deployments.apps". */
function encryptionResource(type: string): string {
  const slash = type.indexOf('/');
  const group = type.slice(0, slash);
  const resource = type.slice(slash + 1);
  return group === 'core' ? resource : `${resource}.${group}`;
}

/** A Redis failure is the storage being unavailable (503), never an internal error. */
export async function unavailableOnError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw serviceUnavailable(`storage is unavailable: ${(err as Error).message}`);
  }
}

function splitStored(v: string): { rev: number; json: string } {
  const space = v.indexOf(' ');
  return { rev: Number(v.slice(0, space)), json: v.slice(space + 1) };
}

function parseEntry([id, fields]: [string, string[]]): StoredEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { rev: Number(id.split('-')[0]), type: f.t as StoredEvent['type'], key: f.k, json: f.o };
}
