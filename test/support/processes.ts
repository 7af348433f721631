// Real processes for integration tests: a throwaway redis-server and a real API server
// (`node dist/cmd/podium.js apiserver`, so `npm run build` must have run).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

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

export interface RedisProcess { url: string; port: number; dir: string; pid: number; stop(): Promise<void>; kill(): Promise<void> }

export async function startRedis(extra: string[] = []): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'podium-redis-'));
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const { Redis } = await import('ioredis');
  await waitFor(async () => {
    const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } finally {
      c.disconnect();
    }
  }, 'redis-server');
  return {
    url, port, dir, pid: p.pid!,
    async stop() { await stopProcess(p); rmSync(dir, { recursive: true, force: true }); },
    async kill() { await stopProcess(p, 'SIGKILL'); },
  };
}

export interface ApiServerProcess { url: string; port: number; pid: number; stop(): Promise<void>; kill(): Promise<void>; output(): string }

/** What plain-HTTP tests that are not about security run with: every request is admitted as system:anonymous. */
export const OPEN_ACCESS = ['--authorization-mode', 'AlwaysAllow', '--anonymous-auth', 'true'];

/**
 * Starts `podium apiserver` over plain HTTP on loopback against the given Redis, open to
 * everyone (OPEN_ACCESS) unless `args` choose an --authorization-mode of their own.
 */
export async function startApiServer(redisUrl: string, args: string[] = [], port?: number): Promise<ApiServerProcess> {
  port ??= await freePort();
  if (!args.includes('--authorization-mode')) args = [...OPEN_ACCESS, ...args];
  let out = '';
  const p = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'apiserver', '--redis-url', redisUrl, '--port', String(port), '--bind-address', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (p.exitCode !== null) throw new Error(`apiserver exited: ${out}`);
    return (await fetch(`${url}/readyz`)).ok;
  }, 'apiserver');
  return { url, port, pid: p.pid!, stop: () => stopProcess(p), kill: () => stopProcess(p, 'SIGKILL'), output: () => out };
}
