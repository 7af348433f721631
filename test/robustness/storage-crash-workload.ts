// A steady write load for the storage robustness tests: several writer clients create (fixed
// names and generateName), update and delete their own objects, and record every write the
// server acknowledged (key, resourceVersion, op, when) and every attempt it did not.
// verifyAcknowledged then checks a fresh LIST against that record.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { call } from '../support/http.js';
import { sleep } from '../support/wait.js';

export const LABEL = 'podium-robustness';

export type Resource = 'configmaps' | 'secrets';

export interface AckedWrite { resource: Resource; key: string; rv: number; op: 'create' | 'update' | 'delete'; at: number }

interface Owned { resource: Resource; name: string; rv: number; attempt: string }

/** What a key must look like after every acknowledged write: at `rv`, or gone. */
interface Expected { rv: number; deleted: boolean; at: number }

export class Writers {
  readonly acked: AckedWrite[] = [];
  /** Keys whose last write attempt was not acknowledged (it may or may not have happened). */
  readonly uncertain = new Set<string>();
  /** generateName creates not acknowledged, by their attempt label: each may exist at most once. */
  readonly unackedAttempts = new Set<string>();
  unackedWrites = 0;
  private readonly expected = new Map<string, Expected>();
  private running = false;
  private paused = false;
  private loops: Promise<void>[] = [];
  private idle = new Set<number>();

  constructor(private base: () => string, readonly namespace: string, private readonly count: number, private readonly resources: Resource[] = ['configmaps', 'secrets'], private readonly prefix = 'w') {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.count }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves once every writer finished its write in flight and waits. */
  async pause(): Promise<void> {
    this.paused = true;
    while (this.idle.size < this.count && this.running) await sleep(10);
  }

  resume(): void {
    this.paused = false;
  }

  private async loop(w: number): Promise<void> {
    const resource = this.resources[w % this.resources.length];
    const owned: Owned[] = [];
    let seq = 0;
    while (this.running) {
      if (this.paused) {
        this.idle.add(w);
        await sleep(10);
        continue;
      }
      this.idle.delete(w);
      seq++;
      const roll = Math.random();
      try {
        if (owned.length < 5 || roll < 0.4) await this.create(resource, w, seq, owned, roll < 0.2);
        else if (roll < 0.8) await this.update(owned, seq);
        else await this.remove(owned);
      } catch {
        // A connection refused or reset while a server is down: recorded by the op as unacknowledged.
        await sleep(50);
      }
    }
    this.idle.add(w);
  }

  private record(resource: Resource, name: string, rv: number, op: AckedWrite['op']): void {
    const key = `${resource}/${name}`;
    const at = Date.now();
    this.acked.push({ resource, key, rv, op, at });
    this.expected.set(key, { rv, deleted: op === 'delete', at });
  }

  private async create(resource: Resource, w: number, seq: number, owned: Owned[], generated: boolean): Promise<void> {
    const attempt = `${this.prefix}${w}-a${seq}`;
    const name = `${this.prefix}${w}-${seq}`;
    const metadata = generated ? { generateName: `${this.prefix}${w}-g-`, labels: { [LABEL]: 'true', attempt } } : { name, labels: { [LABEL]: 'true', attempt } };
    const body = resource === 'configmaps' ? { metadata, data: { seq: String(seq) } } : { metadata, stringData: { seq: String(seq) } };
    let status = 0;
    try {
      const r = await call(this.base(), 'POST', `/api/v1/namespaces/${this.namespace}/${resource}`, body);
      status = r.status;
      if (r.status === 201) {
        const created = r.body as { metadata: { name: string; resourceVersion: string } };
        this.record(resource, created.metadata.name, Number(created.metadata.resourceVersion), 'create');
        owned.push({ resource, name: created.metadata.name, rv: Number(created.metadata.resourceVersion), attempt });
        return;
      }
    } finally {
      if (status !== 201) {
        this.unackedWrites++;
        if (generated) this.unackedAttempts.add(attempt);
        else this.uncertain.add(`${resource}/${name}`);
      }
    }
  }

  private async update(owned: Owned[], seq: number): Promise<void> {
    const i = Math.floor(Math.random() * owned.length);
    const o = owned[i];
    const key = `${o.resource}/${o.name}`;
    let ok = false;
    try {
      const patch = o.resource === 'configmaps' ? { data: { seq: String(seq) } } : { stringData: { seq: String(seq) } };
      const body = { metadata: { name: o.name, resourceVersion: String(o.rv), labels: { [LABEL]: 'true', attempt: o.attempt } }, ...patch };
      const r = await call(this.base(), 'PUT', `/api/v1/namespaces/${this.namespace}/${o.resource}/${o.name}`, body);
      if (r.status === 200) {
        o.rv = Number((r.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
        this.record(o.resource, o.name, o.rv, 'update');
        ok = true;
      }
    } finally {
      if (!ok) this.abandon(owned, i, key);
    }
  }

  private async remove(owned: Owned[]): Promise<void> {
    const i = Math.floor(Math.random() * owned.length);
    const o = owned[i];
    const key = `${o.resource}/${o.name}`;
    let ok = false;
    try {
      const r = await call(this.base(), 'DELETE', `/api/v1/namespaces/${this.namespace}/${o.resource}/${o.name}`, { preconditions: { resourceVersion: String(o.rv) } });
      if (r.status === 200) {
        this.record(o.resource, o.name, Number((r.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion), 'delete');
        owned.splice(i, 1);
        ok = true;
      }
    } finally {
      if (!ok) this.abandon(owned, i, key);
    }
  }

  /** After an unacknowledged write the key's state is unknown: the writer leaves it alone from then on. */
  private abandon(owned: Owned[], i: number, key: string): void {
    this.unackedWrites++;
    this.uncertain.add(key);
    owned.splice(i, 1);
  }

  /** Each key's last acknowledged state, for keys with no unacknowledged attempt after it. */
  certain(): Map<string, Expected> {
    return new Map([...this.expected].filter(([k]) => !this.uncertain.has(k)));
  }

  /** Every key's last acknowledged state. */
  all(): Map<string, Expected> {
    return this.expected;
  }
}

export interface Found { key: string; rv: number; attempt: string }

/** A fresh LIST (consistent read) of the writers' objects of every resource. */
export async function listWritten(base: string, namespace: string, resources: Resource[] = ['configmaps', 'secrets']): Promise<Map<string, Found>> {
  const out = new Map<string, Found>();
  for (const resource of resources) {
    const r = await call(base, 'GET', `/api/v1/namespaces/${namespace}/${resource}?labelSelector=${LABEL}%3Dtrue`);
    if (r.status !== 200) throw new Error(`list ${resource}: ${r.status} ${JSON.stringify(r.body)}`);
    for (const item of (r.body as { items: { metadata: { name: string; resourceVersion: string; labels: Record<string, string> } }[] }).items) {
      const key = `${resource}/${item.metadata.name}`;
      out.set(key, { key, rv: Number(item.metadata.resourceVersion), attempt: item.metadata.labels.attempt });
    }
  }
  return out;
}

export interface Verdict { acknowledged: number; found: number; missing: string[]; duplicateAttempts: string[] }

/**
 * Every key's last acknowledged write is there (its resourceVersion, or its absence after a
 * delete), and no unacknowledged generateName create (by its attempt label) exists twice.
 */
export function verifyAcknowledged(writers: Writers, found: Map<string, Found>): Verdict {
  const certain = writers.certain();
  const missing: string[] = [];
  let ok = 0;
  for (const [key, want] of certain) {
    const got = found.get(key);
    const good = want.deleted ? !got : got?.rv === want.rv;
    if (good) ok++;
    else missing.push(`${key} want ${want.deleted ? 'deleted' : want.rv} got ${got ? got.rv : 'absent'}`);
  }
  const byAttempt = new Map<string, number>();
  for (const f of found.values()) byAttempt.set(f.attempt, (byAttempt.get(f.attempt) ?? 0) + 1);
  const duplicateAttempts = [...byAttempt].filter(([, n]) => n > 1).map(([a, n]) => `${a} x${n}`);
  return { acknowledged: certain.size, found: ok, missing, duplicateAttempts };
}

/**
 * A host crash under `appendfsync everysec`, simulated: samples the size of Redis's AOF while
 * the load runs, then kills Redis and cuts the AOF back to what it held `lossMs` before (the
 * most an everysec fsync can leave unsynced), as if the machine had lost its page cache.
 */
export function hostCrashSimulator(dir: string, lossMs = 1000): { crash(kill: () => Promise<void>): Promise<{ killedAt: number; cutAt: number }>; stop(): void } {
  const aof = incrementalAof(dir);
  const sizes: { at: number; size: number }[] = [];
  const sampler = setInterval(() => sizes.push({ at: Date.now(), size: statSync(aof).size }), 50);
  return {
    async crash(kill) {
      const killedAt = Date.now();
      await kill();
      clearInterval(sampler);
      const cut = [...sizes].reverse().find((s) => s.at <= killedAt - lossMs);
      if (!cut) throw new Error(`the AOF was not sampled ${lossMs} ms before the crash`);
      truncateSync(aof, cut.size);
      return { killedAt, cutAt: cut.at };
    },
    stop: () => clearInterval(sampler),
  };
}

/** The AOF file Redis appends to (Redis 7 keeps a base and an incremental file in appendonlydir). */
function incrementalAof(dir: string): string {
  const d = join(dir, 'appendonlydir');
  const f = readdirSync(d).find((n) => n.endsWith('.incr.aof'));
  if (!f) throw new Error(`no incremental AOF in ${d}`);
  return join(d, f);
}
