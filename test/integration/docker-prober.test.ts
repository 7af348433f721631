// Probes against real Docker containers: the prober manager driving the Docker runtime the way
// the pod workers do (sync, hand the runtime's view to the prober, read readiness back).
// Covers an httpGet readiness probe holding the container unready until httpd listens, and an
// exec liveness probe whose failures kill the container (Unhealthy, Killing) so the runtime
// restarts it with restartCount 1 and lastState terminated.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { removeTestPods } from '../support/docker.js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { EventType, PodEventSink } from '../../node-agent/events.js';
import { ProberManager } from '../../node-agent/prober/manager.js';
import { DockerRuntime } from '../../node-agent/runtime/docker.js';
import type { RuntimeEvent, RuntimePodStatus } from '../../node-agent/runtime/types.js';

const IMAGE = 'podium.local/busybox:1.35';
const NS = `dockerprobe-${randomUUID().slice(0, 8)}`;
const NETWORK = `podium-pr-${NS.slice(-8)}`;
const docker = new Docker();
let dataDir: string;
let rt: DockerRuntime;
let prober: ProberManager;
const uids: string[] = [];
const events: { fieldPath?: string; type: EventType; reason: string; message: string }[] = [];
const runtimeEvents: RuntimeEvent[] = [];
const resyncs: string[] = [];

const sink: PodEventSink = { event: (_pod, fieldPath, type, reason, message) => void events.push({ fieldPath, type, reason, message }) };

function pod(name: string, c: Container): Pod {
  const uid = randomUUID();
  uids.push(uid);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid },
    spec: { containers: [{ image: IMAGE, imagePullPolicy: 'IfNotPresent', ...c }], terminationGracePeriodSeconds: 1 },
  };
}

/** What a pod worker does: sync the runtime, then let the prober see the result. */
async function syncUntil(p: Pod, ok: (s: RuntimePodStatus) => boolean, timeoutMs = 45_000): Promise<RuntimePodStatus> {
  const end = Date.now() + timeoutMs;
  let last: RuntimePodStatus | undefined;
  while (Date.now() < end) {
    last = await rt.syncPod(p);
    prober.syncPod(p, last);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out; last status ${JSON.stringify(last, null, 1)}`);
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'podium-docker-probe-'));
  rt = await DockerRuntime.create({ dataDir, network: NETWORK, subnet: '10.253.78.0/24', hostIP: '192.0.2.10', onEvent: (e) => void runtimeEvents.push(e) });
  prober = new ProberManager({ runtime: rt, events: sink });
  prober.setResync((uid) => void resyncs.push(uid));
}, 60_000);

afterAll(async () => {
  prober?.close();
  await rt?.close();
  await removeTestPods(docker, NS, NETWORK, uids);
  rmSync(dataDir, { recursive: true, force: true });
  http.globalAgent.destroy();
}, 60_000);

test('httpGet readiness holds the container unready until httpd listens', async () => {
  const p = pod('ready', {
    name: 'web',
    command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && sleep 3 && exec httpd -f -p 8080 -h /www'],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { port: 'http', path: '/index.html' }, periodSeconds: 1 },
  });
  const s = await syncUntil(p, (x) => x.containers[0]?.state === 'running');
  const id = s.containers[0].containerID;
  expect(prober.containerState(p, 'web', id)).toEqual({ started: true, ready: false });
  const end = Date.now() + 20_000;
  while (!prober.containerState(p, 'web', id).ready && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  expect(prober.containerState(p, 'web', id).ready).toBe(true);
  expect(resyncs).toContain(p.metadata!.uid);
  // Failed attempts before httpd listened were recorded as Unhealthy on the container.
  expect(events.some((e) => e.reason === 'Unhealthy' && e.type === 'Warning' && e.fieldPath === 'spec.containers{web}' && e.message.startsWith('Readiness probe failed: Get "http://'))).toBe(true);
  expect(runtimeEvents.map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulled', 'Created', 'Started']));
  expect(runtimeEvents.find((e) => e.reason === 'Pulled')?.message).toBe(`Container image "${IMAGE}" already present on machine`);
  expect(runtimeEvents.find((e) => e.reason === 'Created')?.message).toBe('Created container web');
  prober.removePod(p.metadata!.uid!);
  await rt.killPod(p, 0);
}, 60_000);

test('exec liveness failure kills the container; the runtime restarts it with restartCount 1', async () => {
  const p = pod('live', {
    name: 'app',
    command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 3600'],
    livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
  });
  const s = await syncUntil(p, (x) => x.containers[0]?.restartCount === 1 && x.containers[0].state === 'running', 45_000);
  const c = s.containers[0];
  expect(c.last?.exitCode).toBe(137);
  const unhealthy = events.find((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed:'));
  expect(unhealthy?.message).toMatch(/No such file or directory/);
  expect(events).toContainEqual({ fieldPath: 'spec.containers{app}', type: 'Normal', reason: 'Killing', message: 'Container app failed liveness probe, will be restarted' });
  prober.removePod(p.metadata!.uid!);
  await rt.killPod(p, 0);
}, 60_000);
