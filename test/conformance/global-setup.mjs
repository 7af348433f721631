// Starts the cluster the conformance suite drives (`podium up --runtime docker`, with an ingress
// port) unless CONFORMANCE_KUBECONFIG already names one, and waits for a Ready node. The
// kubeconfig path reaches the test workers through the environment.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = new URL('../../', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  if (process.env.CONFORMANCE_KUBECONFIG) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'podium-conformance-'));
  const port = await freePort();
  const ingressPort = await freePort();
  const log = openSync(join(dataDir, 'up.log'), 'a');
  const up = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'docker', '--ingress-port', String(ingressPort)], { stdio: ['ignore', log, log], detached: true });
  globalThis.__podiumUp = { pid: up.pid, dataDir };
  const kubeconfig = join(dataDir, 'kubeconfig');
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (up.exitCode !== null) throw new Error(`podium up exited with ${up.exitCode}; see ${join(dataDir, 'up.log')}`);
    if (existsSync(kubeconfig)) {
      try {
        const out = execFileSync('/usr/lib/google-cloud-sdk/bin/kubectl.1.33', ['--kubeconfig', kubeconfig, 'get', 'nodes', '--no-headers'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        if (/\sReady\s/.test(out)) break;
      } catch {
        // not up yet
      }
    }
    if (Date.now() > deadline) throw new Error(`no Ready node within 180 s; see ${join(dataDir, 'up.log')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  process.env.CONFORMANCE_KUBECONFIG = kubeconfig;
  process.env.CONFORMANCE_INGRESS_PORT = String(ingressPort);
}
