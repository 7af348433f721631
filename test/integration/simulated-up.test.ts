// `podium up --runtime simulated --nodes 2` as a user runs it: the built CLI starts an agent
// child after the API server is ready, and its nodes register through the written kubeconfig
// (HTTPS with the admin client certificate, the agent's kubeconfig path).
import { until } from '../support/wait.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeList } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectionFromKubeconfig } from '../../node-agent/api.js';
import { freePort, ROOT } from '../support/processes.js';

let up: ChildProcess | undefined;
let output = '';
let stdout = '';
let dataDir = '';

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGKILL');
    await new Promise((r) => up!.once('exit', r));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('up starts a simulated agent whose nodes become Ready, and stops it on SIGTERM', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'podium-sim-up-'));
  const port = await freePort();
  up = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'simulated', '--nodes', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => {
    output += d;
    stdout += d;
  });
  up.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 45_000;
  while (!output.includes('podium is ready')) {
    if (Date.now() > deadline || up.exitCode !== null) throw new Error(`up did not become ready:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // One readable line per component on stdout, the agent's naming its nodes.
  expect(stdout).toMatch(/^scheduler {11}started  pid \d+$/m);
  expect(stdout).toMatch(/^agent {15}started  pid \d+, 2 simulated nodes \(sim-0\.\.sim-1\), metrics http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
  expect(stdout).toContain(`kubeconfig: ${join(dataDir, 'kubeconfig')}\n`);
  // The metrics endpoints up prints serve the controller manager's and the agent's series.
  const metricsUrl = (component: string) => new RegExp(`^${component} .*metrics (http://\\S+/metrics)`, 'm').exec(stdout)?.[1];
  // The children were only started yet: their listeners, and the controllers' queues (after the
  // leader election), come a moment later.
  const scrape = (url: string, series: RegExp) => until(`${url} serves ${series}`, () => fetch(url).then(async (r) => series.test(await r.text())).catch(() => false), 20_000);
  await scrape(metricsUrl('controller-manager')!, /^workqueue_depth\{name="deployment"\} \d+$/m);
  await scrape(metricsUrl('agent')!, /^kubelet_running_pods \d+$/m);
  const api = new ApiClient(connectionFromKubeconfig(join(dataDir, 'kubeconfig')));
  try {
    let ready: string[] = [];
    while (Date.now() < deadline && ready.length < 2) {
      const nodes = await api.get<NodeList>('/api/v1/nodes');
      ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata?.name ?? '');
      if (ready.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready.sort()).toEqual(['sim-0', 'sim-1']);
  } finally {
    api.close();
  }
  const exited = new Promise<number | null>((r) => up!.once('exit', (code) => r(code)));
  up.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(output).toMatch(/"child":"agent".*"msg":"child stopped"/);
}, 90_000);
