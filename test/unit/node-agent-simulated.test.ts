// The simulated runtime on its own: timers, exit codes, restarts, IPs and adoption.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedRuntime } from '../../node-agent/runtime/simulated.js';

const pod = (uid: string, restartPolicy: string, annotations: Record<string, string> = {}): Pod => ({
  metadata: { name: `p-${uid}`, namespace: 'ns', uid, annotations },
  spec: { restartPolicy, containers: [{ name: 'main', image: 'busybox' }] },
});
const nextEvent = (rt: SimulatedRuntime): Promise<string> => new Promise((r) => rt.onPodEvent(r));

test('a Never container exits with the annotated code after the annotated duration', async () => {
  const rt = new SimulatedRuntime({ podCIDR: '10.128.3.0/24' });
  const p = pod('a', 'Never', { 'podium.io/simulate-duration': '0.05', 'podium.io/simulate-exit-code': '3' });
  const first = await rt.syncPod(p);
  expect(first.ips).toEqual(['10.128.3.2']);
  expect(first.containers[0]).toMatchObject({ state: 'running', restartCount: 0 });
  expect(await nextEvent(rt)).toBe('a');
  const after = await rt.syncPod(p);
  expect(after.containers[0]).toMatchObject({ state: 'exited', exitCode: 3, reason: 'Error', restartCount: 0 });
  await rt.close();
});

test('Always containers keep running; killing frees the IP', async () => {
  const rt = new SimulatedRuntime({ podCIDR: '10.128.3.0/24' });
  const s = await rt.syncPod(pod('b', 'Always', { 'podium.io/simulate-duration': '0' }));
  await new Promise((r) => setTimeout(r, 20));
  expect(rt.podStatus('b')?.containers[0].state).toBe('running');
  await rt.killPod(pod('b', 'Always'));
  expect(rt.podStatus('b')).toBeUndefined();
  expect(s.ips[0]).toBe('10.128.3.2');
  expect((await rt.syncPod(pod('c', 'Always'))).ips[0]).toBe('10.128.3.3');
  await rt.close();
});

test('OnFailure restarts a failed container, keeping the previous run as last state', async () => {
  const rt = new SimulatedRuntime({ podCIDR: '10.128.3.0/24', backoff: { initialMs: 50, maxMs: 100 } });
  const p = pod('d', 'OnFailure', { 'podium.io/simulate-duration': '0.02', 'podium.io/simulate-exit-code': '1' });
  await rt.syncPod(p);
  await nextEvent(rt);
  const restarted = await rt.syncPod(p);
  expect(restarted.containers[0]).toMatchObject({ state: 'running', restartCount: 1, last: { exitCode: 1, reason: 'Error' } });
  await rt.close();
});

test('adopts the containers and IP a previous agent reported', async () => {
  const rt = new SimulatedRuntime({ podCIDR: '10.128.3.0/24' });
  const p: Pod = {
    ...pod('e', 'Always'),
    status: {
      podIP: '10.128.3.77',
      containerStatuses: [{ name: 'main', image: 'busybox', imageID: 'sha256:1', containerID: 'simulated://old', ready: true, restartCount: 4, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    },
  };
  const s = await rt.syncPod(p);
  expect(s.ips).toEqual(['10.128.3.77']);
  expect(s.containers[0]).toMatchObject({ containerID: 'simulated://old', restartCount: 4, startedAt: '2026-01-01T00:00:00Z', state: 'running' });
  await rt.close();
});
