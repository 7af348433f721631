// The Redis that `podium up` runs when no --redis-url is given: AOF on (every write
// the API server acknowledged survives a crash, up to the fsync policy), no RDB
// snapshots, loopback only, data under DATA_DIR/redis.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from '../apimachinery/log.js';
import type { AppendFsync } from './flags.js';
import { SupervisedChild } from './supervisor.js';

export interface ManagedRedisOptions {
  /** The podium data directory; Redis keeps its files in DATA_DIR/redis. */
  dataDir: string;
  appendfsync: AppendFsync;
  /** Defaults to redis-server on the PATH. */
  redisServer?: string;
  /** Aborts the wait for Redis to answer (the process keeps running until stop()). */
  signal?: AbortSignal;
  /** Called after every start of redis-server, the supervisor's restarts included. */
  onStarted?: (pid: number, restarts: number) => void;
}

export interface ManagedRedis {
  url: string;
  port: number;
  /** Where its AOF lives (DATA_DIR/redis). */
  dir: string;
  readonly pid: number | undefined;
  /** Graceful SHUTDOWN via SIGTERM (Redis flushes the AOF), SIGKILL after 30 s. */
  stop(): Promise<void>;
  kill(): void;
}

const log = logger('redis');

export async function startManagedRedis(opts: ManagedRedisOptions): Promise<ManagedRedis> {
  const command = findExecutable(opts.redisServer ?? 'redis-server');
  const dir = join(opts.dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pidFile = join(dir, 'redis.pid');
  await stopStaleRedis(pidFile);
  const port = await freePort();
  const child = new SupervisedChild(
    {
      name: 'redis',
      command,
      args: [
        '--bind', '127.0.0.1',
        '--port', String(port),
        '--protected-mode', 'yes',
        '--dir', dir,
        '--appendonly', 'yes',
        '--appendfsync', opts.appendfsync,
        '--save', '',
        '--daemonize', 'no',
        '--pidfile', pidFile,
        '--logfile', '',
      ],
      output: redisLogLine,
      // The AOF flush on shutdown can take a moment on a large data set; killing it early risks the tail.
      stopTimeoutMs: 30_000,
      // A crashed Redis is restarted like every other component (same port, same AOF): the cluster
      // must not stay down because its storage died once.
      onStarted: opts.onStarted,
    },
    logger('supervisor'),
  );
  child.start();
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitForPong(port, opts.signal);
  } catch (err) {
    // The caller never gets a handle to stop it with, so stop it here.
    await child.stop();
    throw err;
  }
  log.info('redis is ready', { url, dir, appendfsync: opts.appendfsync });
  return {
    url,
    port,
    dir,
    get pid() {
      return child.pid;
    },
    stop: () => child.stop(),
    kill: () => child.kill(),
  };
}

// Redis log lines look like "1234:M 26 Nov 2025 19:22:00.123 * Ready to accept connections";
// the mark before the message is the level: '#' warning, '*' notice, '-' verbose, '.' debug.
function redisLogLine(line: string): void {
  const m = /^\d+:[A-Z] .+? \d\d:\d\d:\d\d\.\d+ ([#*.-]) (.*)$/.exec(line);
  if (!m) {
    if (line.trim()) log.v(1, line);
    return;
  }
  const msg = m[2]!;
  // Redis prints its start-up banner and shutdown steps at warning level too; only real warnings should look like one.
  if (m[1] === '#') {
    if (/warning|error|bad |can't|cannot|fail|unable|corrupt|truncat/i.test(msg)) log.warn(msg);
    else log.v(1, msg);
  } else if (m[1] === '*') log.v(1, msg);
  else log.v(3, msg);
}

/**
 * A Redis left running by an `up` that was SIGKILLed would keep the AOF open while
 * a second Redis appends to it. `up` holds a lock on the data directory, so any
 * Redis still named in our pid file here is such an orphan.
 */
async function stopStaleRedis(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (!isRedisProcess(pid)) {
    await rm(pidFile, { force: true });
    return;
  }
  log.warn('stopping a redis-server left over from an earlier run', { pid });
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 300 && isAlive(pid); i++) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isRedisProcess(pid: number): boolean {
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync(cmdline)) return isAlive(pid) && process.platform !== 'linux';
  try {
    return readFileSync(cmdline, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

// Checked up front: a missing binary would otherwise turn into an endless restart loop.
function findExecutable(name: string): string {
  const candidates = isAbsolute(name) ? [name] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${name} not found on PATH; install Redis or point podium at one with --redis-url`);
}

/** A port the kernel just handed out on 127.0.0.1; it stays free long enough for the child to bind it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves when Redis answers PING with PONG (not -LOADING, which it says while replaying the AOF). */
async function waitForPong(port: number, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  let lastReply = '';
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    lastReply = await ping(port).catch((err: Error) => err.message);
    if (lastReply.startsWith('+PONG')) return;
    if (attempt % 40 === 39) log.info('waiting for redis', { port, lastReply: lastReply.trim(), waitedMs: Date.now() - started });
    await sleep(attempt < 20 ? 50 : 250);
  }
}

function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let reply = '';
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      reply += d.toString('utf8');
      if (reply.includes('\r\n')) {
        sock.end();
        resolve(reply);
      }
    });
    sock.once('error', reject);
    sock.once('close', () => resolve(reply));
  });
}
