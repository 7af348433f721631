// Restart-policy decisions shared by every runtime: pod-actions.ts.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { backoffDelayMs, computePodActions, shouldRestart } from '../../node-agent/runtime/pod-actions.js';
import type { RuntimeContainerStatus } from '../../node-agent/runtime/types.js';

const pod = (restartPolicy: string, init: string[] = [], containers = ['main']): Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy, initContainers: init.map((name) => ({ name, image: 'i' })), containers: containers.map((name) => ({ name, image: 'i' })) },
});

const exited = (name: string, exitCode: number, kind: 'init' | 'regular' = 'regular', restartCount = 0, finishedAt = '2026-01-01T00:00:00Z'): RuntimeContainerStatus => ({
  name, kind, state: 'exited', exitCode, containerID: 'simulated://x', image: 'i', imageID: 'sha256:x', restartCount, finishedAt,
});
const running = (name: string, kind: 'init' | 'regular' = 'regular'): RuntimeContainerStatus => ({
  name, kind, state: 'running', containerID: 'simulated://x', image: 'i', imageID: 'sha256:x', restartCount: 0,
});
const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('shouldRestart', () => {
  test.each([
    ['Always', 0, true], ['Always', 1, true],
    ['OnFailure', 0, false], ['OnFailure', 3, true],
    ['Never', 0, false], ['Never', 1, false],
  ] as const)('regular container, policy %s, exit %d -> %s', (policy, code, want) => {
    expect(shouldRestart(policy, code, 'regular')).toBe(want);
  });
  test('a succeeded init container never runs again; a failed one unless Never', () => {
    expect(shouldRestart('Always', 0, 'init')).toBe(false);
    expect(shouldRestart('Always', 1, 'init')).toBe(true);
    expect(shouldRestart('OnFailure', 1, 'init')).toBe(true);
    expect(shouldRestart('Never', 1, 'init')).toBe(false);
  });
});

test('CrashLoopBackOff: first restart immediate, then 10 s doubling up to 5 min', () => {
  expect([0, 1, 2, 3, 4, 10].map((n) => backoffDelayMs(n))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 300_000]);
});

describe('computePodActions', () => {
  test('starts every regular container of a fresh pod without init containers', () => {
    const a = computePodActions(pod('Always', [], ['a', 'b']), [], T0);
    expect(a.start.map((s) => s.name)).toEqual(['a', 'b']);
  });
  test('runs init containers one at a time, in order, before any regular container', () => {
    const p = pod('Always', ['i1', 'i2']);
    expect(computePodActions(p, [], T0).start.map((s) => `${s.kind}/${s.name}`)).toEqual(['init/i1']);
    expect(computePodActions(p, [running('i1', 'init')], T0).start).toEqual([]);
    expect(computePodActions(p, [exited('i1', 0, 'init')], T0).start.map((s) => s.name)).toEqual(['i2']);
    expect(computePodActions(p, [exited('i1', 0, 'init'), exited('i2', 0, 'init')], T0).start.map((s) => `${s.kind}/${s.name}`)).toEqual(['regular/main']);
  });
  test('a failed init container stops the pod under Never', () => {
    expect(computePodActions(pod('Never', ['i1']), [exited('i1', 1, 'init')], T0)).toEqual({ start: [], backoff: [] });
  });
  test('Never leaves exited containers terminated', () => {
    expect(computePodActions(pod('Never'), [exited('main', 1)], T0)).toEqual({ start: [], backoff: [] });
  });
  test('OnFailure restarts a failed container at once the first time, then backs off', () => {
    expect(computePodActions(pod('OnFailure'), [exited('main', 1)], T0).start.map((s) => s.name)).toEqual(['main']);
    const a = computePodActions(pod('OnFailure'), [exited('main', 1, 'regular', 1)], T0 + 5000);
    expect(a.start).toEqual([]);
    expect(a.backoff).toEqual([{ name: 'main', kind: 'regular', untilMs: T0 + 10_000, delayMs: 10_000 }]);
    expect(computePodActions(pod('OnFailure'), [exited('main', 1, 'regular', 1)], T0 + 10_000).start.map((s) => s.name)).toEqual(['main']);
    expect(computePodActions(pod('OnFailure'), [exited('main', 0, 'regular', 1)], T0 + 99_000).start).toEqual([]);
  });
  test('Always restarts even a container that exited 0', () => {
    expect(computePodActions(pod('Always'), [exited('main', 0)], T0).start.map((s) => s.name)).toEqual(['main']);
  });
});
