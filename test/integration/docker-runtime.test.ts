// The Docker runtime against the real Docker daemon, driven directly with Pod objects (no API
// server): sandbox and shared localhost, env, volumes, init ordering, restarts and back-off,
// OOM, image errors, kill, adoption, logs, exec, port-forward and stats. Every object the suite
// creates carries its namespace label and is removed at the end.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { removeTestPods } from '../support/docker.js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { DockerRuntime } from '../../node-agent/runtime/docker.js';
import { POD_UID_LABEL } from '../../node-agent/runtime/docker/labels.js';
import type { ContainerRef, RuntimeContainerStatus, RuntimePodStatus, VolumeSources } from '../../node-agent/runtime/types.js';

const IMAGE = 'podium.local/busybox:1.35';
const NS = `dockerrt-${randomUUID().slice(0, 8)}`;
const NETWORK = `podium-rt-${NS.slice(-8)}`;
const docker = new Docker();
let dataDir: string;
let rt: DockerRuntime;
const uids: string[] = [];

function pod(name: string, containers: Container[], extra: Partial<NonNullable<Pod['spec']>> = {}, labels: Record<string, string> = {}): Pod {
  const uid = randomUUID();
  uids.push(uid);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, uid, labels: { app: name, ...labels }, annotations: { note: 'a"b' } },
    spec: { containers: containers.map((c) => ({ image: IMAGE, imagePullPolicy: 'Never', ...c })), nodeName: 'node-1', serviceAccountName: 'default', ...extra },
  };
}

const sleeper = (name: string, script = ''): Container => ({ name, image: IMAGE, command: ['sh', '-c', `${script}${script ? '; ' : ''}exec sleep 3600`] });

async function syncUntil(p: Pod, ok: (s: RuntimePodStatus) => boolean, timeoutMs = 30_000, volumes?: VolumeSources): Promise<RuntimePodStatus> {
  const end = Date.now() + timeoutMs;
  let last: RuntimePodStatus | undefined;
  while (Date.now() < end) {
    last = await rt.syncPod(p, volumes);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out; last status ${JSON.stringify(last, null, 1)}`);
}

const c = (s: RuntimePodStatus, name: string): RuntimeContainerStatus | undefined => s.containers.find((x) => x.name === name);
const running = (...names: string[]) => (s: RuntimePodStatus) => names.every((n) => c(s, n)?.state === 'running');
const ref = (p: Pod, container: string): ContainerRef => ({ podUid: p.metadata!.uid!, namespace: NS, podName: p.metadata!.name!, container });

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function execText(p: Pod, container: string, cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = collector();
  const e = collector();
  const code = await rt.exec(ref(p, container), cmd, { stdout: o.stream, stderr: e.stream });
  return { code, out: o.text(), err: e.text() };
}

async function readAll(r: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const ch of r) chunks.push(Buffer.from(ch as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const byUid = (uid: string) => docker.listContainers({ all: true, filters: { label: [`${POD_UID_LABEL}=${uid}`] } });

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'podium-docker-rt-'));
  rt = await DockerRuntime.create({
    dataDir,
    network: NETWORK,
    subnet: '10.253.77.0/24',
    hostIP: '192.0.2.10',
    // Back-off long enough that a 250 ms sync loop observes CrashLoopBackOff despite finish times
    // being whole seconds.
    backoff: { initialMs: 2000, maxMs: 4000 },
    imageBackoff: { initialMs: 1500, maxMs: 4000 },
    envResolver: () => ({
      configMap: (ns, name) => (ns === NS && name === 'cfg' ? { COLOR: 'blue', 'bad name': 'x', MODE: 'fast' } : undefined),
      secret: (ns, name) => (ns === NS && name === 'sec' ? { password: 's3cret' } : undefined),
      serviceEnv: () => ({ WEB_SERVICE_HOST: '10.96.0.10' }),
    }),
  });
}, 60_000);

afterAll(async () => {
  await rt?.close();
  await removeTestPods(docker, NS, NETWORK, uids);
  rmSync(dataDir, { recursive: true, force: true });
  // dockerode talks over Node's keep-alive global agent; idle sockets would hold jest open.
  http.globalAgent.destroy();
}, 60_000);

describe('DockerRuntime', () => {
  test('reports docker name and server version', () => {
    expect(rt.name).toBe('docker');
    expect(rt.version).toMatch(/^\d+\.\d+/);
  });

  test('containers share the sandbox network: localhost, pod IP, hostname, hosts file; exec, port-forward, stats, adoption, kill', async () => {
    const p = pod('web', [
      { name: 'server', image: IMAGE, command: ['sh', '-c', 'mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 8080 -h /www'] },
      sleeper('client', 'until wget -q -O /tmp/out http://localhost:8080/index.html; do sleep 0.2; done'),
    ], { subdomain: 'sub' });
    const s = await syncUntil(p, running('server', 'client'));
    expect(s.sandboxReady).toBe(true);
    expect(s.ips[0]).toMatch(/^10\.253\.77\./);
    const server = c(s, 'server')!;
    expect(server.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(server.imageID).toMatch(/^docker:\/\/sha256:[0-9a-f]{64}$/);
    expect(server.restartCount).toBe(0);

    // Shared localhost.
    let out = '';
    for (let i = 0; i < 40 && !out.includes('hello'); i++) {
      out = (await execText(p, 'client', ['cat', '/tmp/out'])).out;
      if (!out.includes('hello')) await new Promise((r) => setTimeout(r, 250));
    }
    expect(out).toBe('hello-from-server\n');

    // Hostname and the kubelet-managed hosts file.
    expect((await execText(p, 'client', ['hostname'])).out.trim()).toBe('web');
    const hosts = (await execText(p, 'server', ['cat', '/etc/hosts'])).out;
    expect(hosts).toContain('# Kubernetes-managed hosts file.');
    expect(hosts).toContain('127.0.0.1\tlocalhost');
    expect(hosts).toContain(`${s.ips[0]}\tweb.sub.${NS}.svc.cluster.local\tweb`);

    // Exec exit codes and stderr.
    const r = await execText(p, 'client', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toEqual({ code: 3, out: 'out\n', err: 'err\n' });
    // Exec with stdin.
    const { Readable } = await import('node:stream');
    const o = collector();
    expect(await rt.exec(ref(p, 'client'), ['cat'], { stdin: Readable.from([Buffer.from('piped')]), stdout: o.stream })).toBe(0);
    expect(o.text()).toBe('piped');

    // Port-forward from the host to podIP:8080.
    const server2 = net.createServer((sock) => void rt.portForward(p, 8080, sock).catch(() => sock.destroy()));
    await new Promise<void>((res) => server2.listen(0, '127.0.0.1', res));
    const port = (server2.address() as net.AddressInfo).port;
    const body = await new Promise<string>((res, rej) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write('GET /index.html HTTP/1.0\r\n\r\n'));
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('end', () => res(data));
      sock.on('error', rej);
    });
    server2.close();
    expect(body).toContain('hello-from-server');

    // Stats.
    const st = await rt.stats();
    const mine = st.pods.find((x) => x.uid === p.metadata!.uid);
    expect(typeof mine?.memoryWorkingSetBytes).toBe('number');
    expect(mine!.memoryWorkingSetBytes!).toBeGreaterThan(0);
    expect(typeof mine?.cpuUsageNanoCores).toBe('number');
    expect(typeof st.node.memoryWorkingSetBytes).toBe('number');

    // Labels and names on the Docker objects.
    const objs = await byUid(p.metadata!.uid!);
    expect(objs).toHaveLength(3);
    const sandbox = objs.find((x) => x.Labels['io.kubernetes.container.name'] === 'POD')!;
    expect(sandbox.Names[0]).toBe(`/k8s_POD_web_${NS}_${p.metadata!.uid}_0`);
    expect(sandbox.Image).toBe('podium.local/pause:1');
    const srv = objs.find((x) => x.Labels['io.kubernetes.container.name'] === 'server')!;
    expect(srv.Names[0]).toBe(`/k8s_server_web_${NS}_${p.metadata!.uid}_0`);
    expect(srv.Labels).toMatchObject({ 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': NS, 'io.kubernetes.pod.uid': p.metadata!.uid });

    // Adoption: a fresh runtime lists the pod and its sync changes nothing.
    const rt2 = await DockerRuntime.create({ dataDir, network: NETWORK, subnet: '10.253.77.0/24' });
    try {
      const listed = (await rt2.listPods()).find((x) => x.uid === p.metadata!.uid);
      expect(listed?.containers.map((x) => `${x.name}:${x.state}`).sort()).toEqual(['client:running', 'server:running']);
      const s2 = await rt2.syncPod(p);
      expect(c(s2, 'server')!.containerID).toBe(server.containerID);
      expect(s2.ips).toEqual(s.ips);
    } finally {
      await rt2.close();
    }

    // killPod removes everything with the pod's labels.
    await rt.killPod(p, 5);
    expect(await byUid(p.metadata!.uid!)).toHaveLength(0);
    expect(rt.podStatus(p.metadata!.uid!)).toBeUndefined();
  }, 90_000);

  test('environment: values, $(VAR) expansion, envFrom with prefix, configMap/secret keys, downward API, resources, command expansion', async () => {
    const p = pod('envpod', [
      {
        name: 'main',
        image: IMAGE,
        // Single quotes keep the shell from treating the unresolved $(MISSING) as a substitution.
        command: ['sh', '-c', "echo '$(GREETING) $(MISSING) $$(GREETING)' > /tmp/cmd; env > /tmp/env; exec sleep 3600"],
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CM_' }],
        env: [
          { name: 'GREETING', value: 'hi' },
          { name: 'EXPANDED', value: '$(GREETING)-$(CM_COLOR)-$$(GREETING)-$(NOPE)' },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'MODE' } } },
          { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        ],
        resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { cpu: '250m' } },
      },
    ]);
    const s = await syncUntil(p, running('main'));
    let env = '';
    for (let i = 0; i < 20 && !env.includes('MEM_MI'); i++) {
      env = (await execText(p, 'main', ['cat', '/tmp/env'])).out;
      if (!env.includes('MEM_MI')) await new Promise((r) => setTimeout(r, 200));
    }
    const vars = Object.fromEntries(env.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars).toMatchObject({
      GREETING: 'hi',
      EXPANDED: 'hi-blue-$(GREETING)-$(NOPE)',
      CM_COLOR: 'blue',
      CM_MODE: 'fast',
      PASSWORD: 's3cret',
      MODE: 'fast',
      POD_NAME: 'envpod',
      POD_NS: NS,
      POD_UID: p.metadata!.uid,
      APP: 'envpod',
      NODE: 'node-1',
      SA: 'default',
      POD_IP: s.ips[0],
      HOST_IP: '192.0.2.10',
      MEM_MI: '64',
      WEB_SERVICE_HOST: '10.96.0.10',
    });
    expect(vars).not.toHaveProperty('OPTIONAL');
    expect(vars).not.toHaveProperty('CM_bad name');
    expect((await execText(p, 'main', ['cat', '/tmp/cmd'])).out).toBe('hi $(MISSING) $(GREETING)\n');

    // Resources reach Docker's HostConfig.
    const id = c(s, 'main')!.containerID.replace('docker://', '');
    const info = await docker.getContainer(id).inspect();
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.CpuShares).toBe(256);
    await rt.killPod(p, 0);
  }, 60_000);

  test('a missing secret key is CreateContainerConfigError', async () => {
    const p = pod('badenv', [{ ...sleeper('main'), env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'nope' } } }] }]);
    const s = await syncUntil(p, (x) => !!c(x, 'main')?.waiting);
    expect(c(s, 'main')!.waiting!.reason).toBe('CreateContainerConfigError');
    expect(c(s, 'main')!.waiting!.message).toContain('nope');
    await rt.killPod(p, 0);
  }, 30_000);

  test('volumes: configMap and secret with items and modes, updates seen live, emptyDir (disk and memory), downwardAPI, subPath, projected', async () => {
    const p = pod('vols', [
      {
        ...sleeper('a', 'echo from-a > /shared/x'),
        volumeMounts: [
          { name: 'cfg', mountPath: '/etc/cfg' },
          { name: 'sec', mountPath: '/etc/sec' },
          { name: 'shared', mountPath: '/shared' },
          { name: 'mem', mountPath: '/mem' },
          { name: 'info', mountPath: '/etc/info' },
          { name: 'cfg', mountPath: '/etc/single.conf', subPath: 'game.conf' },
          { name: 'shared', mountPath: '/sub', subPath: 'deeper/dir' },
          { name: 'proj', mountPath: '/proj' },
        ],
      },
      { ...sleeper('b'), volumeMounts: [{ name: 'shared', mountPath: '/data' }, { name: 'mem', mountPath: '/mem' }] },
    ], {
      volumes: [
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'game', path: 'game.conf' }, { key: 'ui', path: 'nested/ui.conf', mode: 0o600 }] } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
        { name: 'shared', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
        { name: 'proj', projected: { sources: [{ configMap: { name: 'cfg', items: [{ key: 'game', path: 'g' }] } }, { secret: { name: 'sec' } }, { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
      ],
    }, { tier: 'x' });
    const sources = (game: string): VolumeSources =>
      new Map<string, Record<string, Buffer>>([
        ['cfg', { game: Buffer.from(game), ui: Buffer.from('dark') }],
        ['sec', { password: Buffer.from('s3cret') }],
        ['proj', { 'configMap/cfg/game': Buffer.from(game), 'secret/sec/password': Buffer.from('pw') }],
      ]);
    await syncUntil(p, running('a', 'b'), 30_000, sources('lives=3'));
    const sh = (ctr: string, cmd: string) => execText(p, ctr, ['sh', '-c', cmd]);
    expect((await sh('a', 'cat /etc/cfg/game.conf')).out).toBe('lives=3');
    expect((await sh('a', 'cat /etc/cfg/nested/ui.conf')).out).toBe('dark');
    expect((await sh('a', 'stat -L -c %a /etc/cfg/nested/ui.conf /etc/sec/password')).out).toBe('600\n400\n');
    expect((await sh('a', 'cat /etc/sec/password')).out).toBe('s3cret');
    expect((await sh('a', 'cat /etc/single.conf')).out).toBe('lives=3');
    expect((await sh('a', 'cat /etc/info/labels; echo; cat /etc/info/name')).out).toBe('app="vols"\ntier="x"\nvols');
    expect((await sh('a', 'cat /proj/g /proj/password /proj/ns')).out).toBe(`lives=3pw${NS}`);
    expect((await sh('a', 'echo m > /mem/f; mount | grep " /mem "')).out).toContain('tmpfs');
    expect((await sh('b', 'cat /mem/f')).out).toBe('m\n');
    expect((await sh('b', 'cat /data/x')).out).toBe('from-a\n');
    expect((await sh('a', 'touch /sub/y && ls /shared/deeper/dir')).out).toBe('y\n');
    expect((await sh('a', 'echo no > /etc/cfg/new')).code).not.toBe(0); // read-only

    // An update reaches the running container through the ..data swap.
    await rt.syncPod(p, sources('lives=9'));
    expect((await sh('a', 'cat /etc/cfg/game.conf')).out).toBe('lives=9');
    expect((await sh('a', 'cat /proj/g')).out).toBe('lives=9');
    expect((await sh('a', 'ls -a /etc/cfg | grep -c "^\\.\\.2"')).out.trim()).toBe('1'); // the old payload is gone
    await rt.killPod(p, 0);
  }, 90_000);

  test('init containers run in order before regular containers', async () => {
    const p = pod('init', [{ ...sleeper('main', 'cat /work/order'), volumeMounts: [{ name: 'w', mountPath: '/work' }] }], {
      initContainers: [
        { name: 'first', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'sleep 1; echo one >> /work/order'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
        { name: 'second', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo two >> /work/order'], volumeMounts: [{ name: 'w', mountPath: '/work' }] },
      ],
      volumes: [{ name: 'w', emptyDir: {} }],
    });
    const s = await syncUntil(p, running('main'));
    expect(s.containers.filter((x) => x.kind === 'init').map((x) => `${x.name}:${x.state}:${x.exitCode}:${x.reason}`)).toEqual(['first:exited:0:Completed', 'second:exited:0:Completed']);
    const logs = await readAll(await rt.logs(ref(p, 'main'), {}));
    expect(logs).toBe('one\ntwo\n');
    await rt.killPod(p, 0);
  }, 60_000);

  test('exit codes, restart back-off, last state; logs with tail, timestamps and previous', async () => {
    const p = pod('crash', [{ name: 'main', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo line1; echo line2; echo "run $(cat /proc/sys/kernel/random/uuid)"; exit 3'] }]);
    let sawBackoff = false;
    const s = await syncUntil(
      p,
      (x) => {
        const m = c(x, 'main');
        if (m?.waiting?.reason === 'CrashLoopBackOff') sawBackoff = true;
        return (m?.restartCount ?? 0) >= 2 && m?.state === 'exited';
      },
      40_000,
    );
    expect(sawBackoff).toBe(true);
    const m = c(s, 'main')!;
    expect(m.exitCode).toBe(3);
    expect(m.reason).toBe('Error');
    expect(m.last).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(m.last!.containerID).not.toBe(m.containerID);
    // Only the current and the previous attempt are kept.
    await new Promise((r) => setTimeout(r, 500));
    expect((await byUid(p.metadata!.uid!)).filter((x) => x.Labels['io.kubernetes.container.name'] === 'main')).toHaveLength(2);

    const cur = await readAll(await rt.logs(ref(p, 'main'), {}));
    const prev = await readAll(await rt.logs(ref(p, 'main'), { previous: true }));
    expect(cur).toMatch(/^line1\nline2\nrun [-0-9a-f]+\n$/);
    expect(prev).toMatch(/^line1\nline2\nrun [-0-9a-f]+\n$/);
    expect(prev).not.toBe(cur);
    expect(await readAll(await rt.logs(ref(p, 'main'), { tailLines: 1 }))).toMatch(/^run [-0-9a-f]+\n$/);
    const ts = await readAll(await rt.logs(ref(p, 'main'), { timestamps: true, tailLines: 2 }));
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line2\n\d{4}-\d\d-\d\dT\S+Z run [-0-9a-f]+\n$/);
    await rt.killPod(p, 0);
  }, 60_000);

  test('restartPolicy Never: Completed, ContainerCannotRun, OOMKilled', async () => {
    const p = pod('never', [
      { name: 'ok', image: IMAGE, imagePullPolicy: 'Never', command: ['true'] },
      { name: 'cannot', image: IMAGE, imagePullPolicy: 'Never', command: ['/does/not/exist'] },
      { name: 'hog', image: IMAGE, imagePullPolicy: 'Never', command: ['tail', '/dev/zero'], resources: { limits: { memory: '16Mi' } } },
    ], { restartPolicy: 'Never' });
    const s = await syncUntil(p, (x) => ['ok', 'cannot', 'hog'].every((n) => c(x, n)?.state === 'exited'), 60_000);
    expect(c(s, 'ok')).toMatchObject({ exitCode: 0, reason: 'Completed', restartCount: 0 });
    expect(c(s, 'cannot')).toMatchObject({ reason: 'ContainerCannotRun' });
    expect(c(s, 'cannot')!.exitCode).not.toBe(0);
    expect(c(s, 'hog')).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    // Nothing restarts under Never.
    const again = await rt.syncPod(p);
    expect(again.containers.every((x) => x.restartCount === 0)).toBe(true);
    await rt.killPod(p, 0);
  }, 90_000);

  test('image errors: ErrImagePull then ImagePullBackOff; ErrImageNeverPull', async () => {
    const p = pod('img', [
      { name: 'pull', image: 'podium.local/does-not-exist:1', imagePullPolicy: 'IfNotPresent' },
      { name: 'never', image: 'podium.local/does-not-exist:2', imagePullPolicy: 'Never' },
    ]);
    const first = await rt.syncPod(p);
    expect(c(first, 'pull')!.waiting?.reason).toBe('ErrImagePull');
    expect(c(first, 'never')!.waiting).toMatchObject({ reason: 'ErrImageNeverPull', message: 'Container image "podium.local/does-not-exist:2" is not present with pull policy of Never' });
    const second = await rt.syncPod(p);
    expect(c(second, 'pull')!.waiting).toMatchObject({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "podium.local/does-not-exist:1"' });
    // After the back-off the pull is tried again and fails again.
    const third = await syncUntil(p, (x) => c(x, 'pull')?.waiting?.reason === 'ErrImagePull', 10_000);
    expect(third.sandboxReady).toBe(true);
    await rt.killPod(p, 0);
  }, 30_000);

  test('PLEG: a container exit is reported through onPodEvent', async () => {
    const p = pod('pleg', [{ name: 'main', image: IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'sleep 1'] }], { restartPolicy: 'Never' });
    const seen: string[] = [];
    rt.onPodEvent((uid) => seen.push(uid));
    await syncUntil(p, running('main'));
    const end = Date.now() + 15_000;
    while (Date.now() < end && !seen.includes(p.metadata!.uid!)) await new Promise((r) => setTimeout(r, 100));
    expect(seen).toContain(p.metadata!.uid);
    await rt.killPod(p, 0);
  }, 30_000);

  test('killPod stops gracefully with SIGTERM and runs preStop; postStart runs after start', async () => {
    const p = pod('hooks', [
      {
        name: 'main',
        image: IMAGE,
        imagePullPolicy: 'Never',
        command: ['sh', '-c', 'trap "echo term >> /w/log; exit 0" TERM; while true; do sleep 0.2; done'],
        lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo poststart >> /w/log'] } }, preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /w/log'] } } },
        volumeMounts: [{ name: 'w', mountPath: '/w' }],
      },
    ], { volumes: [{ name: 'w', hostPath: { path: path.join(dataDir, `hooks-${NS}`), type: 'DirectoryOrCreate' } }] });
    await syncUntil(p, running('main'));
    const started = Date.now();
    await rt.killPod(p, 10);
    expect(Date.now() - started).toBeLessThan(8000);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path.join(dataDir, `hooks-${NS}`, 'log'), 'utf8')).toBe('poststart\nprestop\nterm\n');
    expect(await byUid(p.metadata!.uid!)).toHaveLength(0);
  }, 30_000);

  test('securityContext: runAsUser/runAsGroup, readOnlyRootFilesystem, capabilities; hostAliases', async () => {
    const p = pod('sec', [
      {
        ...sleeper('main', 'id -u > /out/uid; id -g > /out/gid; grep CapBnd /proc/self/status > /out/caps; (touch /x 2>/dev/null && echo rw || echo ro) > /out/root'),
        securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
        volumeMounts: [{ name: 'out', mountPath: '/out' }],
      },
    ], { securityContext: { runAsGroup: 2000 }, volumes: [{ name: 'out', emptyDir: {} }], hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.remote', 'bar.remote'] }] });
    await syncUntil(p, running('main'));
    let out = '';
    for (let i = 0; i < 20 && !out.includes('\n', out.indexOf('CapBnd')); i++) {
      out = (await execText(p, 'main', ['sh', '-c', 'cat /out/uid /out/gid /out/root /out/caps'])).out;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toMatch(/^1000\n2000\nro\nCapBnd:\s+0000000000000400\n$/);
    const hosts = (await execText(p, 'main', ['cat', '/etc/hosts'])).out;
    expect(hosts).toContain('\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n');
    const info = await docker.getContainer(c(await rt.syncPod(p), 'main')!.containerID.slice(9)).inspect();
    expect(info.HostConfig.Privileged).toBe(false);
    await rt.killPod(p, 0);
  }, 30_000);

  test('a changed container spec (new image) restarts the container without back-off', async () => {
    const tag = `rt-${NS.slice(-8)}`;
    await docker.getImage(IMAGE).tag({ repo: 'podium.local/busybox', tag });
    try {
      // sleep as PID 1 ignores SIGTERM: a short grace period keeps the restart quick.
      const p = pod('respec', [sleeper('main')], { terminationGracePeriodSeconds: 1 });
      const s1 = await syncUntil(p, running('main'));
      const p2: Pod = { ...p, spec: { ...p.spec!, containers: [{ ...p.spec!.containers[0], image: `podium.local/busybox:${tag}` }] } };
      const s2 = await syncUntil(p2, (x) => c(x, 'main')?.state === 'running' && c(x, 'main')!.containerID !== c(s1, 'main')!.containerID, 30_000);
      expect(c(s2, 'main')).toMatchObject({ restartCount: 1, image: `podium.local/busybox:${tag}` });
      expect(c(s2, 'main')!.last?.containerID).toBe(c(s1, 'main')!.containerID);
      await rt.killPod(p2, 0);
    } finally {
      await docker.getImage(`podium.local/busybox:${tag}`).remove().catch(() => undefined);
    }
  }, 60_000);

  test('a dead sandbox is replaced and the pod starts over: init containers run again, restart counts go on', async () => {
    const p = pod('resandbox', [sleeper('main')], {
      terminationGracePeriodSeconds: 1,
      initContainers: [{ name: 'init', image: IMAGE, imagePullPolicy: 'Never', command: ['true'] }],
    });
    const s1 = await syncUntil(p, running('main'));
    const sb = (await byUid(p.metadata!.uid!)).find((x) => x.Labels['io.kubernetes.container.name'] === 'POD')!;
    await docker.getContainer(sb.Id).kill();
    const s2 = await syncUntil(p, (x) => c(x, 'main')?.state === 'running' && c(x, 'main')!.containerID !== c(s1, 'main')!.containerID);
    expect(c(s2, 'init')).toMatchObject({ state: 'exited', exitCode: 0, restartCount: 1 });
    expect(c(s2, 'main')!.restartCount).toBe(1);
    const sandboxes = (await byUid(p.metadata!.uid!)).filter((x) => x.Labels['io.kubernetes.container.name'] === 'POD');
    expect(sandboxes.map((x) => x.Names[0])).toEqual([`/k8s_POD_resandbox_${NS}_${p.metadata!.uid}_1`]);
    await rt.killPod(p, 0);
  }, 60_000);
});
