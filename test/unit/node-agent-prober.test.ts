// The prober worker's timing and threshold rules (upstream worker.doProbe), ticked by hand with a
// scripted probe, plus the pod status it feeds: readiness from the prober instead of "running".
import type { Pod } from 'kubernetes-types/core/v1.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runProbe, resolvePort } from '../../node-agent/prober/handlers.js';
import { initialResult, probeTiming, ProbeWorker, type ContainerView, type ProbeResult, type ProbeType } from '../../node-agent/prober/worker.js';
import { generatePodStatus } from '../../node-agent/pod-status.js';

function harness(type: ProbeType, probe: Parameters<typeof probeTiming>[0], script: ('success' | 'failure')[]) {
  const published: ProbeResult[] = [];
  const kills: string[] = [];
  let failures = 0;
  let runs = 0;
  const w = new ProbeWorker(type, probeTiming(probe), {
    run: async () => ({ result: script[Math.min(runs++, script.length - 1)], output: 'out' }),
    // Only changes, as the manager publishes them.
    set: (_id, r) => void (published[published.length - 1] !== r && published.push(r)),
    failed: () => failures++,
    kill: (id) => kills.push(id),
  });
  return { w, published, kills, runs: () => runs, failures: () => failures };
}

const view = (over: Partial<ContainerView> = {}): ContainerView => ({ containerID: 'docker://a', running: true, startedAtMs: 0, started: true, ...over });

describe('probe defaults', () => {
  test('upstream defaults and initial results', () => {
    expect(probeTiming({})).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(initialResult('readiness')).toBe('failure');
    expect(initialResult('liveness')).toBe('success');
    expect(initialResult('startup')).toBe('unknown');
  });

  test('named ports resolve through the container', () => {
    expect(resolvePort('http', { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] })).toBe(8080);
    expect(resolvePort(81, { name: 'c' })).toBe(81);
    expect(() => resolvePort('nope', { name: 'c' })).toThrow(/couldn't find port/);
  });
});

describe('ProbeWorker', () => {
  test('readiness: starts not ready, waits out initialDelaySeconds, needs successThreshold passes', async () => {
    const h = harness('readiness', { initialDelaySeconds: 5, successThreshold: 2 }, ['success']);
    await h.w.doProbe(view(), 1000);
    expect(h.published).toEqual(['failure']);
    expect(h.runs()).toBe(0); // inside the initial delay
    await h.w.doProbe(view(), 5000);
    expect(h.runs()).toBe(1);
    expect(h.published).toEqual(['failure']); // one success of two
    await h.w.doProbe(view(), 6000);
    expect(h.published).toEqual(['failure', 'success']);
  });

  test('readiness: failureThreshold consecutive failures make it unready, never a kill', async () => {
    const h = harness('readiness', { failureThreshold: 2 }, ['success', 'failure', 'success', 'failure', 'failure']);
    for (let i = 0; i < 5; i++) await h.w.doProbe(view(), i * 1000);
    expect(h.published).toEqual(['failure', 'success', 'failure']);
    expect(h.failures()).toBe(3); // every failed attempt is an Unhealthy event
    expect(h.kills).toEqual([]);
  });

  test('liveness: killed after failureThreshold failures, then on hold until a new container', async () => {
    const h = harness('liveness', { failureThreshold: 3 }, ['failure']);
    for (let i = 0; i < 3; i++) await h.w.doProbe(view(), i);
    expect(h.kills).toEqual(['docker://a']);
    expect(h.published).toEqual(['success', 'failure']);
    await h.w.doProbe(view(), 10);
    expect(h.runs()).toBe(3); // on hold
    await h.w.doProbe(view({ containerID: 'docker://b' }), 20);
    expect(h.published).toEqual(['success', 'failure', 'success']);
    expect(h.runs()).toBe(4);
  });

  test('liveness and readiness wait for the startup probe; startup stops once passed', async () => {
    const live = harness('liveness', {}, ['failure']);
    await live.w.doProbe(view({ started: false }), 0);
    expect(live.runs()).toBe(0);
    const startup = harness('startup', { failureThreshold: 2 }, ['failure', 'success']);
    await startup.w.doProbe(view({ started: false }), 0);
    await startup.w.doProbe(view({ started: false }), 1);
    expect(startup.published).toEqual(['unknown', 'success']);
    await startup.w.doProbe(view({ started: true }), 2);
    expect(startup.runs()).toBe(2);
  });

  test('startup failing past its threshold kills the container', async () => {
    const h = harness('startup', { failureThreshold: 2 }, ['failure']);
    await h.w.doProbe(view({ started: false }), 0);
    await h.w.doProbe(view({ started: false }), 1);
    expect(h.kills).toEqual(['docker://a']);
  });

  test('an exited container is not ready; none is probed before it exists', async () => {
    const h = harness('readiness', {}, ['success']);
    await h.w.doProbe(undefined, 0);
    expect(h.published).toEqual([]);
    await h.w.doProbe(view(), 0);
    await h.w.doProbe(view({ running: false }), 1);
    expect(h.published).toEqual(['failure', 'success', 'failure']);
  });
});

describe('probe handlers', () => {
  test('httpGet: 200–399 pass, others fail with upstream wording; headers sent; refused connections fail', async () => {
    let code = 500;
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => {
      seen = req.headers;
      res.writeHead(code).end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const target = { podIP: '127.0.0.1', container: { name: 'c', ports: [{ name: 'web', containerPort: port }] } };
    const probe = { httpGet: { port: 'web', path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } };
    expect(await runProbe(probe, target, 1000)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    expect(seen['x-probe']).toBe('yes');
    expect(seen['user-agent']).toMatch(/^kube-probe\//);
    code = 302;
    expect((await runProbe(probe, target, 1000)).result).toBe('success');
    await new Promise((r) => server.close(r));
    const refused = await runProbe({ tcpSocket: { port } }, target, 1000);
    expect(refused).toEqual({ result: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });

  test('exec: exit 0 passes, output kept; a command outliving the timeout fails', async () => {
    const ok = await runProbe({ exec: { command: ['true'] } }, { podIP: '', container: { name: 'c' }, exec: async () => ({ code: 0, output: '' }) }, 1000);
    expect(ok.result).toBe('success');
    const bad = await runProbe({ exec: { command: ['cat', '/x'] } }, { podIP: '', container: { name: 'c' }, exec: async () => ({ code: 1, output: 'no such file' }) }, 1000);
    expect(bad).toEqual({ result: 'failure', output: 'no such file' });
    const slow = await runProbe({ exec: { command: ['sleep', '5'] } }, { podIP: '', container: { name: 'c' }, exec: () => new Promise(() => undefined) }, 50);
    expect(slow).toEqual({ result: 'failure', output: 'command "sleep 5" timed out' });
  });
});

describe('pod status with a prober', () => {
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u' },
    spec: { containers: [{ name: 'web', image: 'img', readinessProbe: { httpGet: { port: 80 } } }] },
  };
  const rt = {
    uid: 'u', namespace: 'ns', name: 'p', sandboxReady: true, ips: ['10.0.0.2'],
    containers: [{ name: 'web', kind: 'regular' as const, state: 'running' as const, containerID: 'docker://a', image: 'img', imageID: '', restartCount: 0, startedAt: '2024-01-01T00:00:00Z' }],
  };

  test('ready follows the readiness probe, not the running state', () => {
    let ready = false;
    const probes = () => ({ started: true, ready });
    const s1 = generatePodStatus(pod, rt, { hostIP: '10.0.0.1', nowMs: 0, probes });
    expect(s1.containerStatuses?.[0].ready).toBe(false);
    expect(s1.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    ready = true;
    const s2 = generatePodStatus(pod, rt, { hostIP: '10.0.0.1', nowMs: 0, probes });
    expect(s2.containerStatuses?.[0].ready).toBe(true);
    expect(s2.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    // No prober: running is ready, as before.
    expect(generatePodStatus(pod, rt, { hostIP: '10.0.0.1', nowMs: 0 }).containerStatuses?.[0].ready).toBe(true);
  });
});
