// Times `podium up` from spawn until the API server answers GET /readyz over HTTPS with the
// credentials a user gets: the kubeconfig `up` writes (server URL, CA and admin client
// certificate embedded). The first start in a fresh data dir also creates the PKI; the
// second start is the warm figure the target is about.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';
import { Child } from './processes.js';

export interface UpTiming {
  /** Spawn to the first `ok` from https /readyz. */
  readyMs: number;
  /** Spawn to `up` printing "podium is ready" (it polls /readyz itself, every 250 ms). */
  announcedMs?: number;
  /** SIGTERM to exit. */
  stopMs: number;
  exitCode: number | null;
}

interface Credentials {
  server: string;
  ca: string;
  cert: string;
  key: string;
}

function readKubeconfig(path: string): Credentials | undefined {
  if (!existsSync(path)) return undefined;
  type Kubeconfig = {
    clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
    users?: { user?: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
  };
  let doc: Kubeconfig;
  try {
    doc = parse(readFileSync(path, 'utf8')) as Kubeconfig;
  } catch {
    return undefined; // caught mid-write; the next poll reads it whole
  }
  const cluster = doc.clusters?.[0]?.cluster;
  const user = doc.users?.[0]?.user;
  const b64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');
  if (!cluster?.server || !cluster['certificate-authority-data'] || !user?.['client-certificate-data'] || !user['client-key-data']) return undefined;
  return { server: cluster.server, ca: b64(cluster['certificate-authority-data']), cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) };
}

function readyz(c: Credentials): Promise<boolean> {
  const url = new URL('/readyz', c.server);
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'GET', agent: false, timeout: 2000, ca: c.ca, cert: c.cert, key: c.key },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** One start/ready/stop cycle of `podium up` in `dataDir`; a restart should pass the same port, as a user would. */
export async function timeUp(podiumJs: string, dataDir: string, port: number, timeoutMs = 60_000): Promise<UpTiming> {
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  const started = performance.now();
  const child = new Child('podium up', process.execPath, [podiumJs, 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'none']);
  let announcedMs: number | undefined;
  child.proc.stdout?.on('data', (d: Buffer) => {
    if (announcedMs === undefined && d.toString().includes('podium is ready')) announcedMs = performance.now() - started;
  });
  try {
    let readyMs: number | undefined;
    while (readyMs === undefined) {
      if (!child.running) throw new Error(`podium up ${child.describeExit()} before it was ready:\n${child.tail.slice(-30).join('\n')}`);
      if (performance.now() - started > timeoutMs) throw new Error(`podium up not ready after ${timeoutMs} ms:\n${child.tail.slice(-30).join('\n')}`);
      const creds = readKubeconfig(kubeconfigPath);
      // A kubeconfig naming another port is one `up` has yet to rewrite.
      if (creds && new URL(creds.server).port === String(port) && (await readyz(creds))) readyMs = performance.now() - started;
      else await sleep(20);
    }
    const stopStarted = performance.now();
    await child.stop(30_000);
    const stopMs = performance.now() - stopStarted;
    await stopLeftoverRedis(join(dataDir, 'redis', 'redis.pid'));
    return { readyMs, announcedMs, stopMs, exitCode: child.exitInfo?.code ?? null };
  } finally {
    await child.stop(5_000);
    await stopLeftoverRedis(join(dataDir, 'redis', 'redis.pid'));
  }
}

/**
 * `up` stops its Redis itself; this is only for an `up` that died without doing so, so the
 * Redis it started for this bench does not outlive the bench.
 */
async function stopLeftoverRedis(pidFile: string): Promise<void> {
  const pid = Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '');
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // not running
  }
  if (!cmdline.includes('redis-server')) return;
  process.stderr.write(`warning: redis-server ${pid} from ${pidFile} was still running after podium up exited; stopping it\n`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
  process.kill(pid, 'SIGKILL');
}
