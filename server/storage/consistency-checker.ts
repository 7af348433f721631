// The watch-cache consistency checker (upstream's KUBE_WATCHCACHE_CONSISTENCY_CHECKER): every
// interval, and on demand, each type's cache is compared with Redis at one revision. Redis gives
// its revision and every object's key and revision atomically; the cache is compared as of that
// revision (waiting for it, or undoing later events from the ring). A revision names an
// object's content, so key+revision pairs are enough. A divergence is logged with the type,
// revision, both digests and the first differing keys, and (the mode tests run in) ends the
// process with a non-zero exit so no test can miss it.
import { createHash } from 'node:crypto';
import type { Cacher } from './cacher.js';
import type { WatchCache } from './watch-cache.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('consistency-checker');

/** How long a check waits for the cache to reach Redis's revision before skipping that type this round. */
const CATCH_UP_MS = 5000;
const SHOWN_KEYS = 5;

export type DivergenceAction = 'log' | 'exit';

export interface Divergence { type: string; rev: number; redisDigest: string; cacheDigest: string; keys: string[] }

export class ConsistencyChecker {
  private timer?: NodeJS.Timeout;
  private running?: Promise<Divergence[]>;
  /** Rounds completed and types compared (logged at -v 2, so quiet runs stay quiet). */
  rounds = 0;

  constructor(private readonly cacher: Cacher, private readonly intervalMs: number, private readonly action: DivergenceAction) {}

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => void this.check().finally(tick), this.intervalMs);
      this.timer.unref();
    };
    tick();
    log.info('watch cache consistency checker enabled', { intervalMs: this.intervalMs, onDivergence: this.action });
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Checks every type now (one round at a time; a caller during a round shares it). */
  check(): Promise<Divergence[]> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<Divergence[]> {
    const found: Divergence[] = [];
    let compared = 0;
    for (const cache of this.cacher.caches.values()) {
      let d: Divergence | undefined | 'skipped';
      try {
        d = await this.compare(cache);
      } catch (err) {
        // Redis unavailable: nothing to compare against; /readyz reports that.
        log.v(2, 'consistency check skipped', { type: cache.type, err: (err as Error).message });
        continue;
      }
      if (d === 'skipped') continue;
      compared++;
      if (d) found.push(d);
    }
    this.rounds++;
    log.v(2, 'consistency check round', { compared, divergent: found.length });
    for (const d of found) {
      log.error('watch cache is inconsistent with storage', { ...d });
    }
    if (found.length && this.action === 'exit') {
      process.stderr.write(`watch cache consistency check failed for ${found.map((d) => d.type).join(', ')}; exiting\n`);
      process.exit(3);
    }
    return found;
  }

  private async compare(cache: WatchCache): Promise<Divergence | undefined | 'skipped'> {
    const stored = await this.cacher.redis.revisions(cache.type);
    if (cache.rev < stored.rev && !(await cache.waitFor(stored.rev, CATCH_UP_MS))) return 'skipped';
    let cached: Map<string, number>;
    if (cache.rev === stored.rev) {
      cached = new Map();
      for (const [key, entry] of cache.entries()) cached.set(key, entry.rev);
    } else {
      // The cache moved on while Redis answered: compare its state as of Redis's revision.
      const snap = cache.snapshotAt(stored.rev);
      if (!snap) return 'skipped';
      cached = new Map(snap.map(([key, obj]) => [key, Number(obj.metadata?.resourceVersion)]));
    }
    const redisDigest = digest(stored.revs);
    const cacheDigest = digest(cached);
    if (redisDigest === cacheDigest) return undefined;
    return { type: cache.type, rev: stored.rev, redisDigest, cacheDigest, keys: differingKeys(stored.revs, cached) };
  }
}

function digest(revs: Map<string, number>): string {
  const h = createHash('sha256');
  for (const key of [...revs.keys()].sort()) h.update(`${key}\0${revs.get(key)}\n`);
  return h.digest('hex').slice(0, 16);
}

/** The first few keys whose revision differs, each as "key redis=<rev|absent> cache=<rev|absent>". */
function differingKeys(redis: Map<string, number>, cache: Map<string, number>): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...redis.keys(), ...cache.keys()])].sort()) {
    if (redis.get(key) === cache.get(key)) continue;
    out.push(`${key} redis=${redis.get(key) ?? 'absent'} cache=${cache.get(key) ?? 'absent'}`);
    if (out.length >= SHOWN_KEYS) break;
  }
  return out;
}
