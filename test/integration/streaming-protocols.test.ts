// kubectl exec/attach/cp/port-forward, real binaries 1.27 (SPDY) and 1.33 (WebSocket, and
// its SPDY fallback), against node-agent/streaming served by a fake pod server whose
// "container" is a local child process (test/support/fake-pod-server.ts).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLocal, startFakePodServer, type FakePodServer } from '../support/fake-pod-server.js';

const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
const kubectlPath = (minor: number): string => join(KUBECTL_DIR, `kubectl.1.${minor}`);

interface Run { code: number | null; stdout: string; stderr: string }

function kubectl(fake: FakePodServer, minor: number, args: string[], input?: string | Buffer, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(kubectlPath(minor), ['--cache-dir', join(fake.home, 'cache'), ...args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: fake.home, KUBECONFIG: fake.kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`kubectl 1.${minor} ${args.join(' ')} timed out; stderr: ${Buffer.concat(err).toString()}`)); }, timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    p.stdin.on('error', () => undefined);
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

describe.each([
  { minor: 27, mode: 'spdy' as const },
  { minor: 33, mode: 'websocket' as const },
  { minor: 33, mode: 'spdy-fallback' as const },
])('kubectl 1.$minor exec/cp over $mode', ({ minor, mode }) => {
  let fake: FakePodServer;
  beforeAll(async () => { fake = await startFakePodServer(); });
  afterAll(async () => { await fake.close(); });
  beforeEach(() => { if (mode === 'spdy-fallback') fake.rejectWebSockets(10); });
  afterEach(() => { fake.rejectWebSockets(0); });

  const expectTransport = (): void => {
    const last = fake.upgrades.filter((u) => !u.rejected).at(-1)!;
    expect(last.upgrade.toLowerCase()).toBe(mode === 'websocket' ? 'websocket' : 'spdy/3.1');
    if (mode === 'spdy-fallback') expect(fake.upgrades.some((u) => u.rejected)).toBe(true);
  };

  test('exec echoes a computed value', async () => {
    const r = await kubectl(fake, minor, ['exec', 'p', '-c', 'c', '--', 'sh', '-c', 'echo $((6*7))']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\n');
    expect(r.code).toBe(0);
    expectTransport();
  });

  test('exec -i cat echoes piped stdin and ends at EOF', async () => {
    const input = 'hello over stdin\nsecond line\n';
    const r = await kubectl(fake, minor, ['exec', '-i', 'p', '-c', 'c', '--', 'cat'], input);
    expect(r.stdout).toBe(input);
    expect(r.code).toBe(0);
    expectTransport();
  });

  test('exec propagates a non-zero exit code', async () => {
    const r = await kubectl(fake, minor, ['exec', 'p', '-c', 'c', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 3');
    expect(r.code).toBe(3);
    expectTransport();
  });

  test('exec -it: stdout and stderr share the terminal, the size is reported', async () => {
    // kubectl only allocates a TTY when its stdin is a terminal: run it under script(1).
    // script's pty starts at 0x0, which kubectl does not report; give it a size first. The
    // command sleeps briefly so the first resize arrives while it runs.
    const inner = `stty cols 91 rows 17; ${kubectlPath(minor)} --cache-dir ${join(fake.home, 'cache')} exec -it p -c c -- sh -c 'sleep 0.5; echo to-out; echo to-err >&2; exit 5'`;
    const r = await new Promise<Run>((resolve) => {
      const p = spawn('script', ['-qec', inner, '/dev/null'], {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: fake.home, KUBECONFIG: fake.kubeconfig, TERM: 'dumb' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
      p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
      p.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stdout).toContain('to-out');
    expect(r.stdout).toContain('to-err');
    expect(r.stdout).toContain('command terminated with exit code 5');
    expect(r.code).toBe(5);
    expect(fake.resizes.at(-1)).toEqual({ width: 91, height: 17 });
    expectTransport();
  });

  test('attach: a failure of the runtime reaches kubectl as an error', async () => {
    const r = await kubectl(fake, minor, ['attach', 'p', '-c', 'c']);
    expect(r.stderr).toContain('attach to a process is not supported by the fake');
    expect(r.code).toBe(1);
  });

  test('cp copies a 2 MB file into the pod and back out', async () => {
    const local = mkdtempSync(join(tmpdir(), 'podium-cp-'));
    try {
      const payload = randomBytes(2 * 1024 * 1024 + 123);
      writeFileSync(join(local, 'blob.bin'), payload);
      // As in a real container, tar -C needs the destination directory to exist.
      rmSync(join(fake.root, 'data'), { recursive: true, force: true });
      mkdirSync(join(fake.root, 'data'));
      const up = await kubectl(fake, minor, ['cp', join(local, 'blob.bin'), 'ns/p:/data/blob.bin', '-c', 'c'], undefined, 60_000);
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      expect(existsSync(join(fake.root, 'data', 'blob.bin'))).toBe(true);
      expect(readFileSync(join(fake.root, 'data', 'blob.bin')).equals(payload)).toBe(true);
      expectTransport();

      const down = await kubectl(fake, minor, ['cp', 'ns/p:/data/blob.bin', join(local, 'back.bin'), '-c', 'c'], undefined, 60_000);
      expect(down.stderr).toBe('');
      expect(fake.commands.at(-1)).toEqual(['tar', 'cf', '-', '/data/blob.bin']);
      expect(down.code).toBe(0);
      expect(readFileSync(join(local, 'back.bin')).equals(payload)).toBe(true);
      expectTransport();
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  }, 120_000);
});

/** GET over a fresh TCP connection each time, so every request is a new forward. */
function getOnce(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent: false, headers: { Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`GET ${path} through the forward timed out`)));
  });
}

interface PortForward { localPort: number; stderr(): string; stop(): void }

/** Starts `kubectl port-forward pod/p :<remote>` and waits for its local port. */
async function startPortForward(fake: FakePodServer, minor: number, remote: number): Promise<PortForward> {
  const p = spawn(kubectlPath(minor), ['--cache-dir', join(fake.home, 'cache'), 'port-forward', 'pod/p', `:${remote}`, ...(process.env['KUBECTL_V'] ? [`-v=${process.env['KUBECTL_V']}`] : [])], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: fake.home, KUBECONFIG: fake.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  p.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const stop = (): void => {
    p.kill('SIGTERM');
    if (process.env['KUBECTL_V']) process.stderr.write(stderr);
  };
  try {
    const localPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${out} ${stderr}`)), 20_000);
      p.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remote}`).exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      p.once('exit', (code) => reject(new Error(`port-forward exited ${code}: ${stderr}`)));
    });
    return { localPort, stderr: () => stderr, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

describe.each([
  { minor: 27, mode: 'spdy' as const },
  { minor: 33, mode: 'websocket' as const },
  { minor: 33, mode: 'spdy-fallback' as const },
])('kubectl 1.$minor port-forward over $mode', ({ minor, mode }) => {
  let fake: FakePodServer;
  let web: Server;
  let webPort: number;
  const big = randomBytes(512 * 1024).toString('hex'); // 1 MiB of text

  beforeAll(async () => {
    web = createServer((req, res) => {
      const body = req.url === '/big' ? big : `hello from the pod: ${req.url}\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
    webPort = (web.address() as { port: number }).port;
    fake = await startFakePodServer({
      forward: (port) => (port === 80 ? connectLocal(webPort) : Promise.reject(new Error(`connection refused on port ${port}`))),
    });
  });
  afterAll(async () => {
    await fake.close();
    await new Promise<void>((resolve) => web.close(() => resolve()));
  });

  test('forwards two connections to the pod port, requestid incrementing', async () => {
    if (mode === 'spdy-fallback') fake.rejectWebSockets(1);
    const pf = await startPortForward(fake, minor, 80);
    try {
      const localPort = pf.localPort;
      const first = await getOnce(localPort, '/one');
      expect(first).toEqual({ status: 200, body: 'hello from the pod: /one\n' });
      const second = await getOnce(localPort, '/big');
      expect(second.status).toBe(200);
      expect(second.body.length).toBe(big.length);
      expect(second.body === big).toBe(true);
      expect(fake.portForwardRequests).toEqual(['0', '1']);

      const pfUpgrades = fake.upgrades.filter((u) => u.path.endsWith('/portforward'));
      const used = pfUpgrades.filter((u) => !u.rejected);
      expect(used).toHaveLength(1);
      if (mode === 'websocket') expect(used[0]!.protocols).toContain('SPDY/3.1+portforward.k8s.io');
      else expect(used[0]!.upgrade.toLowerCase()).toBe('spdy/3.1');
      if (mode === 'spdy-fallback') expect(pfUpgrades[0]!.rejected).toBe(true);
    } finally {
      pf.stop();
    }
  }, 60_000);

  test('a port nobody listens on: the failure text reaches kubectl, the connection closes', async () => {
    if (mode === 'spdy-fallback') fake.rejectWebSockets(1);
    const pf = await startPortForward(fake, minor, 81);
    try {
      await expect(getOnce(pf.localPort, '/')).rejects.toThrow();
      const deadline = Date.now() + 10_000;
      while (!pf.stderr().includes('connection refused on port 81') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(pf.stderr()).toContain('error forwarding port 81 to pod: connection refused on port 81');
    } finally {
      pf.stop();
    }
  }, 60_000);
});

// The versions in between, one exec and one forward each: 1.28–1.29 are SPDY only,
// 1.30 adds WebSocket exec, 1.31+ add tunnelled port-forward (kubectl-wire.md §11).
describe.each([28, 29, 30, 31, 32])('kubectl 1.%i', (minor) => {
  let fake: FakePodServer;
  let web: Server;
  beforeAll(async () => {
    web = createServer((_req, res) => res.end('pod says hi\n'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
    const webPort = (web.address() as { port: number }).port;
    fake = await startFakePodServer({ forward: () => connectLocal(webPort) });
  });
  afterAll(async () => {
    await fake.close();
    await new Promise<void>((resolve) => web.close(() => resolve()));
  });

  test('exec -i with an exit code', async () => {
    const r = await kubectl(fake, minor, ['exec', '-i', 'p', '-c', 'c', '--', 'sh', '-c', 'cat; exit 7'], 'round trip\n');
    expect(r.stdout).toBe('round trip\n');
    expect(r.stderr).toContain('command terminated with exit code 7');
    expect(r.code).toBe(7);
    const exec = fake.upgrades.filter((u) => u.path.endsWith('/exec'));
    expect(exec.at(-1)!.upgrade.toLowerCase()).toBe(minor >= 30 ? 'websocket' : 'spdy/3.1');
  });

  test('port-forward', async () => {
    const pf = await startPortForward(fake, minor, 80);
    try {
      expect(await getOnce(pf.localPort, '/')).toEqual({ status: 200, body: 'pod says hi\n' });
      const used = fake.upgrades.filter((u) => u.path.endsWith('/portforward'));
      expect(used.at(-1)!.upgrade.toLowerCase()).toBe(minor >= 31 ? 'websocket' : 'spdy/3.1');
    } finally {
      pf.stop();
    }
  }, 60_000);
});
