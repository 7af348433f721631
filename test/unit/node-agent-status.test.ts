// PodStatus computation from runtime facts: pod-status.ts (upstream getPhase and conditions).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { generatePodStatus, sameJson } from '../../node-agent/pod-status.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from '../../node-agent/runtime/types.js';

const NOW = Date.parse('2026-01-01T00:00:10Z');
const ctx = { hostIP: '198.18.0.1', nowMs: NOW };

const pod = (restartPolicy: string, init: string[] = [], extra: Partial<Pod> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy, initContainers: init.map((name) => ({ name, image: 'busybox' })), containers: [{ name: 'main', image: 'busybox' }] },
  status: { phase: 'Pending', qosClass: 'BestEffort' },
  ...extra,
});
const c = (name: string, state: RuntimeContainerStatus['state'], more: Partial<RuntimeContainerStatus> = {}): RuntimeContainerStatus => ({
  name, kind: 'regular', state, containerID: 'simulated://abc', image: 'busybox', imageID: 'sha256:1', restartCount: 0, startedAt: '2026-01-01T00:00:01Z', ...more,
});
const rt = (...containers: RuntimeContainerStatus[]): RuntimePodStatus => ({ uid: 'u1', namespace: 'ns', name: 'p', sandboxReady: true, ips: ['10.128.0.2'], containers });
const cond = (s: ReturnType<typeof generatePodStatus>, type: string) => s.conditions?.find((x) => x.type === type);

test('a running container makes the pod Running and Ready, in one status', () => {
  const s = generatePodStatus(pod('Always'), rt(c('main', 'running')), ctx);
  expect(s.phase).toBe('Running');
  expect(s.conditions?.map((x) => `${x.type}=${x.status}`)).toEqual([
    'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True',
  ]);
  expect(cond(s, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:10Z');
  expect(s).toMatchObject({ podIP: '10.128.0.2', podIPs: [{ ip: '10.128.0.2' }], hostIP: '198.18.0.1', hostIPs: [{ ip: '198.18.0.1' }], qosClass: 'BestEffort', startTime: '2026-01-01T00:00:10Z' });
  expect(s.containerStatuses?.[0]).toMatchObject({ name: 'main', ready: true, started: true, state: { running: { startedAt: '2026-01-01T00:00:01Z' } }, containerID: 'simulated://abc' });
});

test('keeps lastTransitionTime and startTime when nothing changed', () => {
  const first = generatePodStatus(pod('Always'), rt(c('main', 'running')), ctx);
  const again = generatePodStatus({ ...pod('Always'), status: first }, rt(c('main', 'running')), { ...ctx, nowMs: NOW + 60_000 });
  expect(sameJson(first, again)).toBe(true);
});

test('Never: exit 0 -> Succeeded with PodCompleted, exit 1 -> Failed with reason Error', () => {
  const ok = generatePodStatus(pod('Never'), rt(c('main', 'exited', { exitCode: 0, reason: 'Completed', finishedAt: '2026-01-01T00:00:02Z' })), ctx);
  expect(ok.phase).toBe('Succeeded');
  expect(cond(ok, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  expect(cond(ok, 'PodReadyToStartContainers')?.status).toBe('False');
  const bad = generatePodStatus(pod('Never'), rt(c('main', 'exited', { exitCode: 1, reason: 'Error' })), ctx);
  expect(bad.phase).toBe('Failed');
  expect(bad.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', containerID: 'simulated://abc' });
  expect(cond(bad, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [main]' });
});

test('OnFailure in back-off: Running, waiting CrashLoopBackOff with the last termination', () => {
  const s = generatePodStatus(pod('OnFailure'), rt(c('main', 'exited', { exitCode: 2, reason: 'Error', restartCount: 1, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } })), ctx);
  expect(s.phase).toBe('Running');
  expect(s.containerStatuses?.[0]).toMatchObject({ restartCount: 1, ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 2 } } });
});

test('init containers: Pending and not Initialized until they all succeed', () => {
  const p = pod('Always', ['setup']);
  const s = generatePodStatus(p, rt(c('setup', 'running', { kind: 'init' })), ctx);
  expect(s.phase).toBe('Pending');
  expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [setup]' });
  expect(s.containerStatuses?.[0].state?.waiting?.reason).toBe('PodInitializing');
  const failed = generatePodStatus(pod('Never', ['setup']), rt(c('setup', 'exited', { kind: 'init', exitCode: 1, reason: 'Error' })), ctx);
  expect(failed.phase).toBe('Failed');
  const done = generatePodStatus(p, rt(c('setup', 'exited', { kind: 'init', exitCode: 0, reason: 'Completed' }), c('main', 'running')), ctx);
  expect(done.phase).toBe('Running');
  expect(cond(done, 'Initialized')?.status).toBe('True');
});

test('a terminal phase never changes back', () => {
  const s = generatePodStatus({ ...pod('Always'), status: { phase: 'Failed' } }, rt(c('main', 'running')), ctx);
  expect(s.phase).toBe('Failed');
});

test('readiness gates hold Ready back until their condition is True', () => {
  const p = pod('Always', [], { spec: { containers: [{ name: 'main', image: 'busybox' }], readinessGates: [{ conditionType: 'example.com/lb' }] } });
  const s = generatePodStatus(p, rt(c('main', 'running')), ctx);
  expect(cond(s, 'ContainersReady')?.status).toBe('True');
  expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
});

test('a deleted pod whose containers were killed ends Failed', () => {
  const killed = rt(c('main', 'exited', { exitCode: 137, reason: 'Error' }));
  const s = generatePodStatus({ ...pod('Always'), status: { phase: 'Running' } }, { ...killed, sandboxReady: false }, { ...ctx, terminating: true });
  expect(s.phase).toBe('Failed');
  expect(s.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
  expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('False');
});
