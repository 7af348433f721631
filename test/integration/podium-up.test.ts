// `podium up` end to end, as a user runs it: the built CLI (dist/), a managed
// redis-server, the API server child, stock kubectl with the written kubeconfig,
// a crashed child being restarted, and signals stopping everything with Redis last.
import { X509Certificate } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { UpProcess } from '../support/up-process.js';

const root = resolve(process.cwd());
const entry = join(root, 'dist/cmd/podium.js');
const kubectl = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.33', '/usr/bin/kubectl'].find((k) => existsSync(k));

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}

function readyz(kubeconfig: string): string {
  if (!kubectl) throw new Error('kubectl not found');
  return execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'get', '--raw', '/readyz'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

async function waitGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  expect(pids.filter(alive)).toEqual([]);
}

describe('podium up', () => {
  let dataDir: string;
  let port: number;
  const running: UpProcess[] = [];
  const up = (args: string[]): UpProcess => {
    const p = new UpProcess(args);
    running.push(p);
    return p;
  };

  beforeAll(() => {
    if (!existsSync(entry)) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    dataDir = mkdtempSync(join(tmpdir(), 'podium-up-'));
  }, 300_000);

  beforeEach(async () => {
    port = await freePort();
  });

  afterEach(() => {
    for (const p of running.splice(0)) p.forceCleanup();
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('podium version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(process.execPath, [entry, 'version'], { encoding: 'utf8' }).trim()).toBe(`podium v${pkg.version}`);
  });

  test('first start: PKI, kubeconfig, /readyz through kubectl, crash restart, SIGTERM stops all', async () => {
    const p = up(['--data-dir', dataDir, '--port', String(port), '--runtime', 'none']);
    await p.waitReady();
    const kubeconfigPath = join(dataDir, 'kubeconfig');
    // stdout is the readable account: one line per component as it comes up, then the kubeconfig.
    const pattern = (...lines: (string | RegExp)[]) => lines.map((l) => (typeof l === 'string' ? l : expect.stringMatching(l)));
    expect(p.stdout).toEqual(pattern(
      new RegExp(`^redis {15}ready {4}redis://127\\.0\\.0\\.1:\\d+ \\(pid \\d+, aof everysec, ${dataDir}/redis\\)$`),
      new RegExp(`^apiserver {11}ready {4}https://127\\.0\\.0\\.1:${port} \\(pid ${p.childPids('apiserver')[0]}\\)$`),
      new RegExp(`^controller-manager  started  pid ${p.childPids('controller-manager')[0]} \\(bookkeeping controllers only, metrics http://127\\.0\\.0\\.1:\\d+/metrics\\)$`),
      `kubeconfig: ${kubeconfigPath}`,
      `podium is ready: export KUBECONFIG=${kubeconfigPath}`,
    ));
    // The JSON logs on stderr stay quiet at the default -v 0: no debug detail.
    expect(p.logs.filter((l) => l.level === 20)).toEqual([]);
    for (const f of ['ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key', 'admin.crt', 'admin.key', 'sa.key', 'sa.pub', 'encryption-config.yaml']) expect(existsSync(join(dataDir, 'pki', f))).toBe(true);
    // The controller manager runs as itself, not as the admin.
    const cmUser = parse(readFileSync(join(dataDir, 'controller-manager.kubeconfig'), 'utf8')).users[0];
    expect(cmUser.name).toBe('system:kube-controller-manager');
    expect(new X509Certificate(Buffer.from(cmUser.user['client-certificate-data'], 'base64')).subject).toBe('CN=system:kube-controller-manager');

    const kc = parse(readFileSync(kubeconfigPath, 'utf8'));
    expect(kc['current-context']).toBe('podium');
    expect(kc.clusters[0].name).toBe('podium');
    expect(kc.clusters[0].cluster.server).toBe(`https://127.0.0.1:${port}`);
    expect(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(readFileSync(join(dataDir, 'pki/ca.crt'), 'utf8'));
    expect(kc.contexts[0]).toEqual({ name: 'podium', context: { cluster: 'podium', user: 'admin' } });
    expect(kc.users[0].name).toBe('admin');
    expect(kc.users[0].user['client-certificate-data']).toBeTruthy();
    expect(kc.users[0].user['client-key-data']).toBeTruthy();

    expect(readyz(kubeconfigPath)).toBe('ok');

    // `podium kubeconfig` makes another user: authenticated by certificate, authorized by RBAC only.
    const aliceKubeconfig = join(dataDir, 'alice.kubeconfig');
    execFileSync(process.execPath, [entry, 'kubeconfig', '--user', 'alice', '--group', 'dev', '--group', 'qa', '--data-dir', dataDir, '--out', aliceKubeconfig]);
    const asAlice = (...args: string[]) => execFileSync(kubectl!, ['--kubeconfig', aliceKubeconfig, ...args], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(asAlice('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}')).toBe('alice ["dev","qa","system:authenticated"]');
    // can-i prints "no" and exits 1.
    expect(() => asAlice('auth', 'can-i', 'list', 'pods', '-n', 'default')).toThrow(expect.objectContaining({ status: 1, stdout: 'no\n' }));
    expect(() => asAlice('get', 'pods', '-n', 'default')).toThrow(/pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/);

    // Leave a mark in the managed Redis to check persistence across restarts below.
    const client = new Redis(p.redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await client.set('podium-up-test', 'persisted');
    client.disconnect();

    const [first] = p.childPids('apiserver');
    expect(first).toBeDefined();
    kill(first!, 'SIGKILL');
    await p.waitFor('the restart', () => p.childPids('apiserver').length === 2);
    expect(p.logs.some((l) => l.msg === 'child exited unexpectedly; restarting' && l.child === 'apiserver' && l.signal === 'SIGKILL')).toBe(true);
    expect(p.stdout).toContain(`apiserver           restarted pid ${p.childPids('apiserver')[1]} (restart 1)`);
    await p.waitFor('readyz after the restart', () => {
      try {
        return readyz(kubeconfigPath) === 'ok';
      } catch {
        return false;
      }
    });

    const pids = [...p.childPids('apiserver'), ...p.childPids('redis')];
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    await waitGone(pids);
    // Clients of the API server stop first, then the API server, Redis last.
    const stops = p.logs.filter((l) => l.msg === 'child stopped').map((l) => l.child);
    expect(stops.slice(-2)).toEqual(['apiserver', 'redis']);
    // --runtime none is the API server with the bookkeeping controllers only (no scheduler or agent).
    expect(stops).toEqual(['controller-manager', 'apiserver', 'redis']);
    expect(existsSync(join(dataDir, 'podium.pid'))).toBe(false);
  }, 120_000);

  test('second start reuses certificates, kubeconfig and data; a second up on the same dir is refused; SIGINT stops all', async () => {
    // Same port as before, so the kubeconfig need not change.
    const before = readFileSync(join(dataDir, 'kubeconfig'), 'utf8');
    const server = parse(before).clusters[0].cluster.server as string;
    const previousPort = Number(new URL(server).port);
    const caBefore = readFileSync(join(dataDir, 'pki/ca.crt'), 'utf8');

    const p = up(['--data-dir', dataDir, '--port', String(previousPort), '--runtime', 'none']);
    await p.waitReady();
    expect(p.logs.some((l) => l.msg === 'generated certificates')).toBe(false);
    expect(readFileSync(join(dataDir, 'pki/ca.crt'), 'utf8')).toBe(caBefore);
    expect(readFileSync(join(dataDir, 'kubeconfig'), 'utf8')).toBe(before);
    expect(readyz(join(dataDir, 'kubeconfig'))).toBe('ok');

    const client = new Redis(p.redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    expect(await client.get('podium-up-test')).toBe('persisted');
    client.disconnect();

    const intruder = up(['--data-dir', dataDir, '--port', String(port), '--runtime', 'none']);
    expect(await intruder.exited).toBe(1);
    expect(intruder.rawStderr.join('\n')).toMatch(/in use by another podium/);

    const pids = [...p.childPids('apiserver'), ...p.childPids('redis')];
    p.proc.kill('SIGINT');
    expect(await p.exited).toBe(0);
    await waitGone(pids);
  }, 120_000);

  test('a taken port fails fast, before starting anything', async () => {
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const dir = mkdtempSync(join(tmpdir(), 'podium-up-busy-'));
    try {
      const p = up(['--data-dir', dir, '--port', String(port), '--runtime', 'none']);
      expect(await p.exited).toBe(1);
      expect(p.rawStderr.join('\n')).toMatch(/already in use/);
      expect(p.childPids('redis')).toEqual([]);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('--redis-url uses an external Redis and starts none', async () => {
    const redisPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'podium-up-ext-'));
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      const p = up(['--data-dir', dir, '--port', String(port), '--runtime', 'none', '--redis-url', `redis://127.0.0.1:${redisPort}`]);
      await p.waitReady();
      expect(p.childPids('redis')).toEqual([]);
      expect(p.stdout[0]).toBe(`redis               external redis://127.0.0.1:${redisPort}`);
      expect(readyz(join(dir, 'kubeconfig'))).toBe('ok');
      p.proc.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(redis.exitCode).toBeNull();
    } finally {
      redis.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
