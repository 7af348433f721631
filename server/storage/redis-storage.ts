// The Redis side of storage (ARCHITECTURE.md § Storage): per resource type T, keys hash-tagged
// {T}: objects (hash "ns/name" -> "<rev> <json>"), names (sorted index), rev (counter), events
// (stream, entry id "<rev>-0"). Every write is one Lua script; nothing else writes these keys.
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
});

type ScriptedRedis = Redis & {
  podiumWrite(o: string, n: string, r: string, e: string, op: string, key: string, expected: string, json: string, window: string): Promise<[string, string]>;
  podiumLoad(o: string, r: string): Promise<[string, string[]]>;
};

export class RedisStorage {
  readonly client: ScriptedRedis;
  /** A second connection for blocking stream reads, so writes never wait behind them. */
  private readonly tailClient: Redis;

  constructor(url: string, private readonly eventWindow: number, private readonly encryption?: EncryptionTransformer) {
    const opts = { maxRetriesPerRequest: 1, enableAutoPipelining: true, lazyConnect: false };
    this.client = new Redis(url, opts) as ScriptedRedis;
    this.tailClient = new Redis(url, { maxRetriesPerRequest: null });
    this.client.defineCommand('podiumWrite', { numberOfKeys: 4, lua: script('write.lua') });
    this.client.defineCommand('podiumLoad', { numberOfKeys: 2, lua: script('load.lua') });
    for (const c of [this.client, this.tailClient]) c.on('error', (err: Error) => log.v(1, 'redis connection error', { err: err.message }));
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
    const [status, rev] = await unavailableOnError(this.client.podiumWrite(k.objects, k.names, k.rev, k.events, op, key, expectedRev === undefined ? '' : String(expectedRev), this.seal(type, key, json), String(this.eventWindow)));
    if (status === 'missing') return { status };
    return { status: status as 'ok' | 'exists' | 'conflict', rev: Number(rev) };
  }

  /** Reads one object straight from Redis (used to retry after a conflict, when the cache may lag). */
  async read(type: string, key: string): Promise<{ rev: number; json: string } | undefined> {
    const v = await unavailableOnError(this.client.hget(keysOf(type).objects, key));
    if (v === null) return undefined;
    const stored = splitStored(v);
    return { rev: stored.rev, json: this.open(type, key, stored.json) };
  }

  async load(type: string): Promise<{ rev: number; objects: Map<string, { rev: number; json: string }> }> {
    const k = keysOf(type);
    const [rev, flat] = await this.client.podiumLoad(k.objects, k.rev);
    const objects = new Map<string, { rev: number; json: string }>();
    for (let i = 0; i < flat.length; i += 2) {
      const stored = splitStored(flat[i + 1]);
      objects.set(flat[i], { rev: stored.rev, json: this.open(type, flat[i], stored.json) });
    }
    return { rev: Number(rev), objects };
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
    const entries = (await this.client.xrange(keysOf(type).events, `(${rev}-0`, '+', 'COUNT', count)) as [string, string[]][];
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
async function unavailableOnError<T>(p: Promise<T>): Promise<T> {
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
