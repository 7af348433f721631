// Child processes and temp directories the benchmarks own: spawning with captured output,
// waiting for readiness, resident memory, and a cleanup that runs on success, on error and
// on SIGINT/SIGTERM, so no redis-server or API server outlives the bench.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort as freePort } from '../../apimachinery/free-port.js';
export { freePort };

const TAIL_LINES = 200;

export class Child {
  readonly proc: ChildProcess;
  /** The last lines of stdout and stderr together, for the report when something fails. */
  readonly tail: string[] = [];
  /** Lines the child logged at warn (pino 40) or error (50) level, API server logs only. */
  readonly problems: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null };

  constructor(readonly name: string, command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; ipc?: boolean } = {}) {
    const stdio: StdioOptions = opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
    this.proc = spawn(command, args, { stdio, env: { ...process.env, ...opts.env } });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      // A spawn failure (binary missing) emits 'error' and never 'exit'.
      this.proc.once('error', (err) => {
        this.tail.push(`spawn error: ${err.message}`);
        this.exitInfo = { code: -1, signal: null };
        resolve(this.exitInfo);
      });
    });
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.note(line);
      });
    }
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error(`${this.name} has no pid (did it start?)`);
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  private note(line: string): void {
    if (!line.trim()) return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (/^\{.*"level":(40|50|60)[,}]/.test(line)) this.problems.push(line);
  }

  describeExit(): string {
    const e = this.exitInfo;
    return e ? `exited with ${e.signal ? `signal ${e.signal}` : `code ${e.code}`}` : 'still running';
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const live = new Set<Child>();
let interrupted = false;

/** True once a signal started the cleanup: failures after that are its consequence, not news. */
export function wasInterrupted(): boolean {
  return interrupted;
}
const tempDirs = new Set<string>();

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Stops every child still running (newest first, so clients go before Redis) and removes temp dirs. */
export async function cleanupAll(): Promise<void> {
  for (const c of [...live].reverse()) await c.stop().catch(() => undefined);
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  tempDirs.clear();
}

/** Ctrl-C or a kill must not leave servers behind: clean up, then exit as the signal would. */
export function cleanupOnSignals(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping children and removing temp dirs\n`);
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Last resort for an uncaught exit path: at least no child keeps running.
  process.on('exit', () => {
    for (const c of live) c.proc.kill('SIGKILL');
  });
}

/** Polls `probe` until it returns true; fails early when `child` dies, with its last output. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, child?: Child, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && !child.running) throw new Error(`${child.name} ${child.describeExit()} while waiting for ${what}:\n${child.tail.slice(-30).join('\n')}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const out = child ? `\nlast output of ${child.name}:\n${child.tail.slice(-30).join('\n')}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${out}`);
    }
    await sleep(intervalMs);
  }
}

export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let answer = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) sock.end();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => resolve(answer.startsWith('+PONG')));
  });
}

/** Resident set size in MB (MiB, as `ps` and the target mean it), from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

export type RedisPersistence = 'none' | 'everysec';

export interface RedisHandle {
  child: Child;
  port: number;
  url: string;
}

/** A throwaway redis-server on a free loopback port, its files in `dir`. */
export async function startRedis(dir: string, persistence: RedisPersistence): Promise<RedisHandle> {
  const port = await freePort();
  const persistArgs = persistence === 'everysec' ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const child = new Child('redis-server', 'redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--protected-mode', 'yes',
    '--dir', dir, '--save', '', ...persistArgs, '--daemonize', 'no', '--logfile', '',
  ]);
  await waitUntil(`redis-server on port ${port}`, () => redisPing(port), 15_000, child);
  return { child, port, url: `redis://127.0.0.1:${port}` };
}

/**
 * Runs a bench's main and exits with its code; a main that throws (rather than returning 1
 * after reporting) still gets its children cleaned up.
 */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      void cleanupAll().finally(() => process.exit(1));
    },
  );
}

/**
 * A bench's failure: the error and the last lines of the child it ran, unless a signal stopped
 * the run (cleanupOnSignals reports that). Returns the exit code, 1.
 */
export function benchFailed(err: unknown, child?: Child): number {
  if (wasInterrupted()) return 1;
  process.stderr.write(`\nbench failed: ${(err as Error).stack ?? String(err)}\n`);
  if (child) process.stderr.write(`\n${child.name} (${child.describeExit()}), last ${Math.min(40, child.tail.length)} lines of its output:\n${child.tail.slice(-40).join('\n')}\n`);
  return 1;
}
