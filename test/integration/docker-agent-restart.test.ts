// Issue 6's restart test: the real node agent (`podium agent --runtime docker`) on real Docker is
// killed with SIGKILL while its pods run. While it is down one pod is deleted gracefully (the API
// keeps it, with a deletionTimestamp, until the agent confirms), one is force-deleted (gone from
// the API at once, so only the agent's orphan clean-up can find its containers) and a new pod is
// bound to the node. After the agent restarts: the surviving pods keep the very same Docker
// containers (none duplicated, none lost, none restarted: same ids, same restartCounts, same
// containerIDs in status, same pod IP) and stay Running/Ready, both deleted pods are gone from
// the API and from Docker, and the new pod runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { removeTestPods } from '../support/docker.js';
import { CONTAINER_NAME_LABEL, POD_UID_LABEL } from '../../node-agent/runtime/docker/labels.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { call } from '../support/http.js';
import { ROOT, startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';

const IMAGE = 'podium.local/busybox:1.35';
const ID = `${process.pid}-${Date.now().toString(36).slice(-4)}`;
const NODE = `restart-test-${ID}`;
const NS = `agent-restart-${ID}`;
const NETWORK = `podium-restart-${ID}`;
// A /24 of 10.250.0.0/16: clear of the default 10.244.0.0/16 another podium may be using.
const SUBNET = `10.250.${process.pid % 250}.0/24`;

const docker = new Docker();
let redis: RedisProcess;
let api: ApiServerProcess;
let dataDir: string;
let agent: { proc: ChildProcess; out: () => string } | undefined;
const agentLogs: string[] = [];

function startAgent(): { proc: ChildProcess; out: () => string } {
  let out = '';
  const proc = spawn(process.execPath, [
    join(ROOT, 'dist/cmd/podium.js'), 'agent', '--server', api.url, '--runtime', 'docker', '--node-name', NODE,
    '--data-dir', dataDir, '--pod-subnet', SUBNET, '--pod-network', NETWORK,
    // Containers are this test's subject; node networking (the host's iptables chains, DNS, the
    // ingress port) has its own suites and would otherwise serve this throwaway cluster's Services.
    '--networking', 'false',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const a = { proc, out: () => out };
  proc.once('exit', () => agentLogs.push(out));
  return a;
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

async function stopAgent(signal: NodeJS.Signals): Promise<void> {
  if (!agent) return;
  const p = agent.proc;
  agent = undefined;
  const done = exited(p);
  p.kill(signal);
  await done;
}

function podSpec(name: string, spec: Pod['spec']): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { test: 'agent-restart' } },
    // No controller manager publishes kube-root-ca.crt, which the projected token volume needs.
    spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, ...spec } as Pod['spec'],
  };
}

const sleeper = (name: string) => ({ name, image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] });

async function createPod(p: Pod): Promise<Pod> {
  const r = await call<Pod>(api.url, 'POST', `/api/v1/namespaces/${NS}/pods`, p);
  expect(r.status).toBe(201);
  return r.body;
}

async function getPod(name: string): Promise<{ status: number; body: Pod }> {
  return call<Pod>(api.url, 'GET', `/api/v1/namespaces/${NS}/pods/${name}`);
}

function runningAndReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

async function waitRunning(name: string, ms = 90_000): Promise<Pod> {
  return until(`pod ${name} Running and Ready`, async () => {
    const r = await getPod(name);
    return r.status === 200 && runningAndReady(r.body) ? r.body : undefined;
  }, ms);
}

/** Every Docker container (any state) of the pod: id -> container name label (POD for the sandbox). */
async function containersOf(uid: string): Promise<Map<string, string>> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${POD_UID_LABEL}=${uid}`] } });
  return new Map(list.map((c) => [c.Id, c.Labels?.[CONTAINER_NAME_LABEL] ?? '']));
}

interface Snapshot {
  uid: string;
  podIP?: string;
  docker: Map<string, string>;
  /** container name -> [containerID, restartCount], init containers included. */
  statuses: Map<string, [string, number]>;
}

function statusesOf(p: Pod): Map<string, [string, number]> {
  const all = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  return new Map(all.map((s) => [s.name, [s.containerID ?? '', s.restartCount]]));
}

async function snapshot(p: Pod): Promise<Snapshot> {
  const uid = p.metadata!.uid!;
  return { uid, podIP: p.status?.podIP, docker: await containersOf(uid), statuses: statusesOf(p) };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'podium-agent-restart-'));
  redis = await startRedis();
  api = await startApiServer(redis.url);
  expect((await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status).toBe(201);
  // No controller manager runs: the ServiceAccount admission wants the namespace's `default`.
  expect((await call(api.url, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })).status).toBe(201);
  agent = startAgent();
  await until('the node registered', async () => {
    if (agent!.proc.exitCode !== null) throw new Error(`agent exited: ${agent!.out()}`);
    return (await call(api.url, 'GET', `/api/v1/nodes/${NODE}`)).status === 200;
  }, 60_000);
}, 90_000);

afterAll(async () => {
  await stopAgent('SIGTERM').catch(() => undefined);
  await removeTestPods(docker, NS, NETWORK);
  await api?.stop();
  await redis?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

test('kill -9 of the agent while pods run: after the restart nothing is duplicated, lost or restarted', async () => {
  await createPod(podSpec('two', { containers: [sleeper('a'), sleeper('b')] }));
  await createPod(podSpec('init', {
    initContainers: [{ name: 'setup', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'echo ready > /work/flag'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    containers: [{ ...sleeper('main'), volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    volumes: [{ name: 'work', emptyDir: {} }],
  }));
  await createPod(podSpec('plain', { containers: [sleeper('main')] }));
  await createPod(podSpec('forced', { containers: [sleeper('main')] }));

  const before = new Map<string, Snapshot>();
  for (const name of ['two', 'init', 'plain', 'forced']) before.set(name, await snapshot(await waitRunning(name)));
  // Sanity before the kill: one Docker container per pod container (plus the sandbox), none restarted.
  expect([...before.get('two')!.docker.values()].sort()).toEqual(['POD', 'a', 'b']);
  expect([...before.get('init')!.docker.values()].sort()).toEqual(['POD', 'main', 'setup']);
  for (const s of before.values()) {
    for (const [, [cid, restarts]] of s.statuses) {
      expect(restarts).toBe(0);
      expect(s.docker.has(cid.replace('docker://', ''))).toBe(true);
    }
  }

  await stopAgent('SIGKILL');

  // While the agent is down: a graceful delete (kept with a deletionTimestamp until the agent
  // confirms), a forced one (gone from the API at once), and a new pod bound to the node.
  const graceful = await call<Pod>(api.url, 'DELETE', `/api/v1/namespaces/${NS}/pods/plain`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 1 });
  // 202 Accepted: marked, not yet deleted.
  expect(graceful.status).toBe(202);
  const kept = await getPod('plain');
  expect(kept.status).toBe(200);
  expect(kept.body.metadata?.deletionTimestamp).toBeDefined();
  const forced = await call(api.url, 'DELETE', `/api/v1/namespaces/${NS}/pods/forced`, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 });
  expect(forced.status).toBe(200);
  expect((await getPod('forced')).status).toBe(404);
  await createPod(podSpec('late', { containers: [sleeper('main')] }));
  // Nothing touched the containers while no agent ran.
  expect((await containersOf(before.get('forced')!.uid)).size).toBe(2);

  agent = startAgent();

  // The new pod runs; both deleted pods are gone from the API and from Docker.
  const late = await waitRunning('late');
  expect([...(await containersOf(late.metadata!.uid!)).values()].sort()).toEqual(['POD', 'main']);
  await until('pod plain deleted', async () => (await getPod('plain')).status === 404, 60_000);
  await until('the containers of pod plain removed', async () => (await containersOf(before.get('plain')!.uid)).size === 0, 60_000);
  await until('the containers of the force-deleted pod removed', async () => (await containersOf(before.get('forced')!.uid)).size === 0, 60_000);

  // Let a few syncs pass (the agent could still be duplicating or restarting something), then compare.
  await new Promise((r) => setTimeout(r, 3000));
  for (const name of ['two', 'init']) {
    const was = before.get(name)!;
    const now = await getPod(name);
    expect(now.status).toBe(200);
    expect(now.body.metadata?.uid).toBe(was.uid);
    expect(runningAndReady(now.body)).toBe(true);
    expect(now.body.status?.podIP).toBe(was.podIP);
    // The same Docker containers: none duplicated, none lost.
    expect(await containersOf(was.uid)).toEqual(was.docker);
    // None restarted: the same container ids and restart counts in status.
    expect(statusesOf(now.body)).toEqual(was.statuses);
    const running = await docker.listContainers({ filters: { label: [`${POD_UID_LABEL}=${was.uid}`], status: ['running'] } });
    expect(running.length).toBe(name === 'two' ? 3 : 2);
  }
  expect(agent!.proc.exitCode).toBeNull();
}, 240_000);

// PODIUM_TEST_AGENT_LOGS=1 prints both agent runs' logs (for a failing run).
afterAll(() => {
  if (process.env.PODIUM_TEST_AGENT_LOGS) console.log([...agentLogs, agent?.out() ?? ''].join('\n---- next agent run ----\n').slice(-30000));
});
