// What bench/scale watches while the cluster works: the resident memory of each process that
// `podium up` started (found through /proc, since `up` spawns them itself and the bench only
// knows its pid), and the latency a light, steady client sees from the API server meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../../controllers/framework/client.js';
import { rssMb } from './processes.js';

export const COMPONENTS = ['apiserver', 'controller-manager', 'scheduler', 'agent', 'redis'] as const;
export type Component = (typeof COMPONENTS)[number];

function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined; // exited between readdir and read
  }
}

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15 of stat), in clock ticks of 1/100 s on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function argv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The components among the direct children of `upPid`, by the subcommand after `podium.js`. */
export function findComponents(upPid: number): Map<Component, number> {
  const found = new Map<Component, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (parentPid(pid) !== upPid) continue;
    const args = argv(pid);
    const entryIdx = args.findIndex((a) => a.endsWith('podium.js'));
    const sub = entryIdx >= 0 ? args[entryIdx + 1] : undefined;
    if (sub && (COMPONENTS as readonly string[]).includes(sub)) found.set(sub as Component, pid);
    else if (args[0]?.includes('redis-server')) found.set('redis', pid);
  }
  return found;
}

/**
 * Samples every component's RSS and CPU time each second and keeps the RSS peaks; CPU time
 * per phase says which process was busy, i.e. what a slow phase waited on. A supervised child that
 * restarts gets a new pid, so the children are looked up again on every sample; a restart
 * is also worth reporting in itself.
 */
export class ComponentSampler {
  readonly peakMb = new Map<Component, number>();
  readonly lastMb = new Map<Component, number>();
  /** Cumulative CPU seconds of the current process of each component. */
  readonly cpu = new Map<Component, number>();
  readonly pids = new Map<Component, number>();
  readonly restarts: string[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly upPid: number) {}

  sample(): void {
    for (const [name, pid] of findComponents(this.upPid)) {
      const before = this.pids.get(name);
      if (before !== undefined && before !== pid) this.restarts.push(`${name}: pid ${before} → ${pid}`);
      this.pids.set(name, pid);
      const cpu = cpuSeconds(pid);
      if (cpu !== undefined) this.cpu.set(name, cpu);
      let mb: number;
      try {
        mb = rssMb(pid);
      } catch {
        continue;
      }
      this.lastMb.set(name, mb);
      this.peakMb.set(name, Math.max(mb, this.peakMb.get(name) ?? 0));
    }
  }

  start(intervalMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface ProbeSample {
  /** performance.now() when the request was sent. */
  at: number;
  ms: number;
  ok: boolean;
}

/**
 * A light, steady client: one request at a time, a new one every `intervalMs` (or as soon as
 * the last returns, when it took longer), alternating a ConfigMap GET with a short node list.
 * It uses its own client, so its requests never queue behind the bench's polling.
 */
export class LatencyProbe {
  readonly samples: ProbeSample[] = [];
  readonly errors: string[] = [];
  private running = false;
  private loop?: Promise<void>;

  constructor(private readonly client: ApiClient, private readonly configMapPath: string, private readonly intervalMs = 100) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const at = performance.now();
      let ok = true;
      try {
        if (i % 2 === 0) await this.client.get(this.configMapPath);
        else await this.client.list('/api/v1/nodes', { limit: '5' });
      } catch (err) {
        ok = false;
        if (this.errors.length < 20) this.errors.push((err as Error).message);
      }
      const ms = performance.now() - at;
      this.samples.push({ at, ms, ok });
      const wait = this.intervalMs - ms;
      if (wait > 0) await sleep(wait);
    }
  }

  /** Latencies (ms) of the requests sent in [from, to). */
  between(from: number, to: number): Float64Array {
    return Float64Array.from(this.samples.filter((s) => s.at >= from && s.at < to).map((s) => s.ms));
  }
}

/** Only for an `up` that had to be killed: no component of this bench may outlive it. */
export async function stopStragglers(pids: Map<Component, number>): Promise<void> {
  for (const [name, pid] of pids) {
    // By its command line, so a pid the kernel has since handed to someone else is left alone.
    const alive = (): boolean => {
      try {
        return /podium\.js|redis-server/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    };
    if (!alive()) continue;
    process.stderr.write(`warning: ${name} (pid ${pid}) outlived podium up; stopping it\n`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
    if (alive()) process.kill(pid, 'SIGKILL');
  }
}
