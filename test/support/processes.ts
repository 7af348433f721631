// Real processes for integration tests: a throwaway redis-server and a real API server
// (`node dist/cmd/podium.js apiserver`, so `npm run build` must have run).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort as freePort } from '../../apimachinery/free-port.js';

export { freePort };

export const ROOT = new URL('../../', import.meta.url).pathname;

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms`);
}

function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

export interface RedisProcess {
  url: string; port: number; dir: string;
  /** The current redis-server's pid (changes on restart). */
  readonly pid: number;
  stop(): Promise<void>;
  /** kill -9 (the data dir stays, for restart()). */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port and data dir (after kill() or stop({ keepData: true })). */
  restart(): Promise<void>;
}

export interface RedisOptions {
  /** Runs with AOF on and this fsync policy (`always` acknowledges nothing Redis could lose). */
  appendfsync?: 'always' | 'everysec' | 'no';
  extra?: string[];
}

async function redisAnswers(url: string): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await c.connect();
    // LOADING while it replays the AOF: not ready yet.
    return (await c.ping()) === 'PONG';
  } finally {
    c.disconnect();
  }
}

/** A throwaway redis-server (no persistence unless `appendfsync` asks for AOF); `extra` are more redis-server arguments. */
export async function startRedis(options: string[] | RedisOptions = []): Promise<RedisProcess> {
  const opts: RedisOptions = Array.isArray(options) ? { extra: options } : options;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'podium-redis-'));
  const persistence = opts.appendfsync ? ['--appendonly', 'yes', '--appendfsync', opts.appendfsync] : ['--appendonly', 'no'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, ...(opts.extra ?? [])];
  const url = `redis://127.0.0.1:${port}`;
  let p: ChildProcess;
  const launch = async () => {
    p = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(async () => {
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode}`);
      return redisAnswers(url);
    }, 'redis-server');
  };
  await launch();
  return {
    url, port, dir,
    get pid() { return p.pid!; },
    async stop() { await stopProcess(p); rmSync(dir, { recursive: true, force: true }); },
    async kill() { await stopProcess(p, 'SIGKILL'); },
    async restart() {
      await stopProcess(p, 'SIGKILL');
      await launch();
    },
  };
}

export interface ApiServerProcess {
  url: string; port: number;
  /** The current server's pid (changes on restart). */
  readonly pid: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts the API server again with the same arguments on the same port (after kill() or stop()). */
  restart(): Promise<void>;
  /** Everything every run of this server printed. */
  output(): string;
  /** Resolves with the exit code (or signal) when the current server process exits. */
  exited(): Promise<number | string>;
}

/** What plain-HTTP tests that are not about security run with: every request is admitted as system:anonymous. */
export const OPEN_ACCESS = ['--authorization-mode', 'AlwaysAllow', '--anonymous-auth', 'true'];

/**
 * Tests run the watch-cache consistency checker (as upstream's e2e runs with
 * KUBE_WATCHCACHE_CONSISTENCY_CHECKER): a divergence between a cache and Redis makes the
 * server exit, so whatever the test does next fails.
 */
export const CONSISTENCY_CHECK = ['--watch-cache-consistency-check-interval', '2s', '--watch-cache-consistency-check-action', 'exit'];

/**
 * Starts `podium apiserver` over plain HTTP on loopback against the given Redis, open to
 * everyone (OPEN_ACCESS) unless `args` choose an --authorization-mode of their own, with the
 * consistency checker on (CONSISTENCY_CHECK) unless `args` set its interval.
 */
export async function startApiServer(redisUrl: string, args: string[] = [], port?: number): Promise<ApiServerProcess> {
  port ??= await freePort();
  if (!args.includes('--authorization-mode')) args = [...OPEN_ACCESS, ...args];
  if (!args.includes('--watch-cache-consistency-check-interval')) args = [...CONSISTENCY_CHECK, ...args];
  let out = '';
  let p: ChildProcess;
  let exit: Promise<number | string>;
  const url = `http://127.0.0.1:${port}`;
  const launch = async () => {
    p = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'apiserver', '--redis-url', redisUrl, '--port', String(port), '--bind-address', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const child = p;
    exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`apiserver exited: ${out}`);
      return (await fetch(`${url}/readyz`)).ok;
    }, 'apiserver');
  };
  await launch();
  return {
    url, port: port!,
    get pid() { return p.pid!; },
    stop: () => stopProcess(p),
    kill: () => stopProcess(p, 'SIGKILL'),
    async restart() {
      await stopProcess(p, 'SIGKILL');
      await launch();
    },
    output: () => out,
    exited: () => exit,
  };
}
