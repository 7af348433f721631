// Control plane down, workloads up. `podium up --runtime docker` runs a Deployment behind a
// NodePort Service and two crash-looping pods (restartPolicy Always and OnFailure). Then the API
// server, the controller manager, the scheduler and Redis all go away for a minute while the node
// agent stays: `up` is frozen (SIGSTOP) so its supervisor restarts nothing, the three components
// are killed -9 and Redis is shut down. During the outage the Service must keep answering (NodePort
// on 127.0.0.1 and the ClusterIP, from the host), the healthy containers must stay the very same
// Docker containers, and the agent must keep restarting the crashing containers by their restart
// policy and back-off on its own. After SIGCONT the supervisor brings the control plane back, and
// everything must reconcile without touching healthy pods: node Ready, restart counts in status
// matching what Docker ran, no pod recreated or duplicated, the Deployment available.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Deployment, ReplicaSetList } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Namespace, Node, Pod, PodList, Service } from 'kubernetes-types/core/v1.js';
import { ApiClient, ApiError, connectionFromKubeconfig } from '../../node-agent/api.js';
import { ATTEMPT_LABEL, CONTAINER_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../../node-agent/runtime/docker/labels.js';
import { backoffDelayMs } from '../../node-agent/runtime/pod-actions.js';
import { freePort } from '../support/processes.js';
import { UpProcess } from '../support/up-process.js';
import { sleep, until } from '../support/wait.js';
import { printFigures } from './figures.js';
import { pick } from './mode.js';

const IMAGE = 'podium.local/busybox:1.35';
const NS = `cp-down-${Date.now().toString(36).slice(-5)}`;
const OUTAGE_MS = pick(60_000, 120_000);
/** How long after the control plane is back everything must have reconciled. */
const RECONCILE_WITHIN_MS = 60_000;
/** How late past its back-off a crashed container may be restarted (a sync and a docker start). */
const RESTART_SLACK_MS = 5000;
const CONTROL_PLANE = ['apiserver', 'controller-manager', 'scheduler', 'redis'] as const;

const docker = new Docker();

let dataDir = '';
let up: UpProcess | undefined;
let api: ApiClient | undefined;
let nodeName = '';
const allPids: number[] = [];

/** Running: a killed child of the frozen `up` stays a zombie (nobody reaps it), which counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) STATE ...", comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** One HTTP GET on a new connection; resolves with the body, rejects on error or after 2 s. */
function fetchOnce(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host, port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Requests the Service through both paths in a loop until stopped; counts answers per path. */
function serviceLoad(targets: { name: string; host: string; port: number }[]): { stop(): Promise<Record<string, { ok: number; failed: number; backends: Set<string>; errors: string[] }>> } {
  const counts = Object.fromEntries(targets.map((t) => [t.name, { ok: 0, failed: 0, backends: new Set<string>(), errors: [] as string[] }]));
  let stopped = false;
  const loops = targets.map(async (t) => {
    while (!stopped) {
      const c = counts[t.name]!;
      try {
        c.backends.add((await fetchOnce(t.host, t.port)).trim());
        c.ok++;
      } catch (err) {
        c.failed++;
        if (c.errors.length < 5) c.errors.push((err as Error).message);
      }
      await sleep(100);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return counts;
    },
  };
}

interface Attempt {
  id: string;
  attempt: number;
  startedAt: number;
  finishedAt: number;
  running: boolean;
}

/** Every container attempt of a pod's container that Docker holds now (older ones are collected). */
async function attempts(uid: string, container: string): Promise<Attempt[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${POD_UID_LABEL}=${uid}`, `${CONTAINER_NAME_LABEL}=${container}`] } });
  const out: Attempt[] = [];
  for (const c of list) {
    const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
    if (!info) continue;
    out.push({
      id: c.Id,
      attempt: Number(c.Labels?.[ATTEMPT_LABEL] ?? 0),
      startedAt: Date.parse(info.State.StartedAt),
      finishedAt: info.State.Running ? 0 : Date.parse(info.State.FinishedAt),
      running: info.State.Running,
    });
  }
  return out.sort((a, b) => a.attempt - b.attempt);
}

/** Records every attempt of the watched containers seen while polling (Docker garbage-collects old ones). */
class AttemptLog {
  readonly seen = new Map<string, Map<string, Attempt>>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(private readonly targets: { key: string; uid: string; container: string }[]) {}

  async poll(): Promise<void> {
    for (const t of this.targets) {
      const m = this.seen.get(t.key) ?? new Map<string, Attempt>();
      this.seen.set(t.key, m);
      for (const a of await attempts(t.uid, t.container)) m.set(a.id, a);
    }
  }

  start(): void {
    const tick = (): void => {
      this.polling = this.poll().catch(() => undefined);
      void this.polling.then(() => {
        if (this.timer) this.timer = setTimeout(tick, 500);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.poll();
  }

  list(key: string): Attempt[] {
    return [...(this.seen.get(key)?.values() ?? [])].sort((a, b) => a.attempt - b.attempt);
  }
}

async function pods(): Promise<Pod[]> {
  return (await api!.get<PodList>(`/api/v1/namespaces/${NS}/pods`)).items;
}

function ready(p: Pod): boolean {
  return p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

function containerStatus(p: Pod, name: string): { containerID: string; restartCount: number } {
  const s = p.status?.containerStatuses?.find((c) => c.name === name);
  return { containerID: s?.containerID ?? '', restartCount: s?.restartCount ?? -1 };
}

async function nodeReady(): Promise<boolean> {
  const node = await api!.get<Node>(`/api/v1/nodes/${nodeName}`);
  return !!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The API server answers at all (any HTTP answer counts; a refused connection does not). */
async function apiAnswers(): Promise<boolean> {
  try {
    await api!.get('/api/v1/namespaces/default');
    return true;
  } catch (err) {
    return err instanceof ApiError;
  }
}

async function removeContainers(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${POD_NAMESPACE_LABEL}=${NS}`] } }).catch(() => []);
  for (const c of list) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'podium-cp-down-'));
  const [port, ingressPort] = [await freePort(), await freePort()];
  up = new UpProcess(['--data-dir', dataDir, '--port', String(port), '--runtime', 'docker', '--ingress-port', String(ingressPort)]);
  await until('podium up ready', async () => {
    if (up!.proc.exitCode !== null) throw new Error(`podium up exited ${up!.proc.exitCode}:\n${up!.tail()}`);
    return up!.stdout.some((l) => l.startsWith('podium is ready'));
  }, 120_000);
  api = new ApiClient(connectionFromKubeconfig(join(dataDir, 'kubeconfig')));
  const nodes = await until('the docker node', async () => (await api!.get<{ items: Node[] }>('/api/v1/nodes')).items[0], 60_000);
  nodeName = nodes.metadata!.name!;
  await until('node Ready', nodeReady, 60_000);
}, 200_000);

afterAll(async () => {
  if (up) {
    // Never leave `up` frozen: it would keep its children (and the data dir lock) forever.
    signal(up.proc.pid!, 'SIGCONT');
    for (const name of CONTROL_PLANE) if (up.starts(name)) allPids.push(up.pid(name));
    if (api) {
      await api.delete(`/api/v1/namespaces/${NS}`).catch(() => undefined);
      await until('namespace pods gone', async () => (await pods()).length === 0, 30_000).catch(() => undefined);
    }
    if (up.proc.exitCode === null) {
      const exited = new Promise((r) => up!.proc.once('exit', r));
      up.proc.kill('SIGTERM');
      const timer = setTimeout(() => up!.proc.kill('SIGKILL'), 45_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of allPids) if (alive(pid)) signal(pid, 'SIGKILL');
  }
  api?.close();
  // PODIUM_TEST_UP_LOG=FILE keeps every line `up` and its children logged (for a failing run).
  if (up && process.env.PODIUM_TEST_UP_LOG) writeFileSync(process.env.PODIUM_TEST_UP_LOG, [...up.stdout, ...up.rawStderr].join('\n'));
  await removeContainers();
  if (dataDir && existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

test(`control plane down for ${OUTAGE_MS / 1000} s: workloads keep running and serving, crashes are restarted, everything reconciles`, async () => {
  await api!.create<Namespace>('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  // The ServiceAccount admission needs the namespace's default account (the controller makes it).
  await until('default service account', async () => api!.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`).then(() => true, () => false), 30_000);
  await until('kube-root-ca.crt', async () => api!.get(`/api/v1/namespaces/${NS}/configmaps/kube-root-ca.crt`).then(() => true, () => false), 30_000);

  const labels = { app: 'web' };
  await api!.create<Deployment>(`/apis/apps/v1/namespaces/${NS}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{
            name: 'httpd',
            image: IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'mkdir -p /www && echo "$HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www'],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 2 },
          }],
        },
      },
    },
  });
  const svc = await api!.create<Service>(`/api/v1/namespaces/${NS}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const crasher = (name: string, restartPolicy: 'Always' | 'OnFailure', exitCode: number): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', `sleep 8; exit ${exitCode}`] }],
    },
  });
  await api!.create<Pod>(`/api/v1/namespaces/${NS}/pods`, crasher('crash-always', 'Always', 0));
  await api!.create<Pod>(`/api/v1/namespaces/${NS}/pods`, crasher('crash-onfailure', 'OnFailure', 1));

  const clusterIP = svc.spec!.clusterIP!;
  const nodePort = svc.spec!.ports![0]!.nodePort!;
  const targets = [
    { name: 'nodePort', host: '127.0.0.1', port: nodePort },
    { name: 'clusterIP', host: clusterIP, port: 80 },
  ];
  // Everything runs and the Service answers on both paths before the outage.
  const web = await until('two web pods Running and Ready', async () => {
    const list = (await pods()).filter((p) => p.metadata?.labels?.app === 'web' && ready(p));
    return list.length === 2 ? list : undefined;
  }, 90_000);
  await until('crashers running', async () => (await pods()).filter((p) => p.metadata?.name?.startsWith('crash-') && p.status?.phase === 'Running').length === 2, 60_000);
  for (const t of targets) await until(`the Service via ${t.name}`, async () => (await fetchOnce(t.host, t.port)).trim().startsWith('web-'), 30_000);
  await until('Deployment available', async () => (await api!.get<Deployment>(`/apis/apps/v1/namespaces/${NS}/deployments/web`)).status?.availableReplicas === 2, 30_000);

  const before = new Map((await pods()).map((p) => [p.metadata!.name!, p]));
  const webBefore = web.map((p) => ({ name: p.metadata!.name!, uid: p.metadata!.uid!, ...containerStatus(p, 'httpd') }));
  for (const w of webBefore) expect(w.restartCount).toBe(0);
  const crashers = ['crash-always', 'crash-onfailure'].map((name) => ({ key: name, uid: before.get(name)!.metadata!.uid!, container: 'main' }));
  const attemptLog = new AttemptLog(crashers);
  await attemptLog.poll();
  const replicaSetsBefore = (await api!.get<ReplicaSetList>(`/apis/apps/v1/namespaces/${NS}/replicasets`)).items.map((r) => r.metadata!.uid).sort();

  // ---- The outage: freeze the supervisor, then take the control plane away.
  const agentPid = up!.pid('agent');
  const victims = Object.fromEntries(CONTROL_PLANE.map((c) => [c, up!.pid(c)])) as Record<(typeof CONTROL_PLANE)[number], number>;
  allPids.push(...Object.values(victims));
  const upPid = up!.proc.pid!;
  signal(upPid, 'SIGSTOP');
  const outageStarted = Date.now();
  for (const c of ['apiserver', 'controller-manager', 'scheduler'] as const) signal(victims[c], 'SIGKILL');
  // Redis shuts down cleanly (its AOF flushed): the storage suites measure what a kill -9 loses.
  signal(victims.redis, 'SIGTERM');
  await until('the control plane gone', async () => CONTROL_PLANE.every((c) => !alive(victims[c])), 30_000);
  expect(await apiAnswers()).toBe(false);

  const load = serviceLoad(targets);
  attemptLog.start();
  const webDockerBefore = await Promise.all(webBefore.map((w) => attempts(w.uid, 'httpd')));
  let apiSeenUp = false;
  while (Date.now() - outageStarted < OUTAGE_MS) {
    await sleep(2000);
    // Still down (nothing restarted it behind our back), and the agent is still there.
    if (await apiAnswers()) apiSeenUp = true;
    expect(alive(agentPid)).toBe(true);
  }
  const outageEnded = Date.now();
  const served = await load.stop();
  await attemptLog.stop();
  expect(apiSeenUp).toBe(false);

  // Healthy containers: the very same Docker containers, still running, never restarted.
  const webDockerAfter = await Promise.all(webBefore.map((w) => attempts(w.uid, 'httpd')));
  expect(webDockerAfter.map((a) => a.map((x) => [x.id, x.running]))).toEqual(webDockerBefore.map((a) => a.map((x) => [x.id, true])));
  for (const [i, w] of webBefore.entries()) expect(webDockerAfter[i]!.map((a) => `docker://${a.id}`)).toEqual([w.containerID]);

  // The crashing containers were restarted by the agent alone, each restart after its back-off.
  const restartsDuring: Record<string, number> = {};
  for (const c of crashers) {
    const seen = attemptLog.list(c.key);
    const during = seen.filter((a) => a.startedAt > outageStarted && a.startedAt < outageEnded);
    restartsDuring[c.key] = during.length;
    expect(during.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < seen.length; i++) {
      const prev = seen[i - 1]!;
      const next = seen[i]!;
      if (next.attempt !== prev.attempt + 1 || !prev.finishedAt) continue;
      // Restart n+1 comes backoffDelayMs(n) after the previous exit: not sooner (Docker's clock:
      // allow 1 s), and not much later either.
      const gap = next.startedAt - prev.finishedAt;
      expect({ attempt: next.attempt, gap, tooSoon: gap < backoffDelayMs(prev.attempt) - 1000, late: gap > backoffDelayMs(prev.attempt) + RESTART_SLACK_MS }).toEqual({ attempt: next.attempt, gap, tooSoon: false, late: false });
    }
    // Nothing was left exited past its back-off while the control plane was down.
    const last = seen.at(-1)!;
    const overdue = !last.running && last.finishedAt + backoffDelayMs(last.attempt) + RESTART_SLACK_MS < outageEnded;
    expect({ pod: c.key, lastAttempt: last.attempt, overdue }).toEqual({ pod: c.key, lastAttempt: last.attempt, overdue: false });
  }

  // ---- The control plane comes back: `up`'s supervisor restarts what died.
  const resumed = Date.now();
  signal(upPid, 'SIGCONT');
  await until('the API server back', apiAnswers, RECONCILE_WITHIN_MS);
  const apiBackSeconds = (Date.now() - resumed) / 1000;
  for (const c of CONTROL_PLANE) {
    await until(`${c} restarted`, async () => up!.starts(c) >= 2 && alive(up!.pid(c)), 30_000);
    allPids.push(up!.pid(c));
  }
  expect(up!.pid('agent')).toBe(agentPid);

  // Reconciled: a fresh lease and a Ready node, statuses that count the restarts Docker ran, the
  // Deployment available, and nothing recreated.
  await until('reconciled', async () => {
    const lease = await api!.get<Lease>(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`);
    if (Date.parse(lease.spec?.renewTime ?? '') < resumed) return false;
    if (!(await nodeReady())) return false;
    const now = new Map((await pods()).map((p) => [p.metadata!.name!, p]));
    for (const c of crashers) {
      const docker = (await attempts(c.uid, 'main')).at(-1);
      const s = containerStatus(now.get(c.key)!, 'main');
      if (!docker || s.restartCount !== docker.attempt || s.containerID !== `docker://${docker.id}`) return false;
    }
    const d = await api!.get<Deployment>(`/apis/apps/v1/namespaces/${NS}/deployments/web`);
    return d.status?.availableReplicas === 2 && d.status.readyReplicas === 2 && d.status.observedGeneration === d.metadata?.generation;
  }, RECONCILE_WITHIN_MS);
  const reconcileSeconds = (Date.now() - resumed) / 1000;

  // Let controllers and the agent run a while longer: nothing may be recreated, duplicated or restarted.
  await sleep(5000);
  const after = await pods();
  expect(after.map((p) => `${p.metadata!.name}/${p.metadata!.uid}`).sort()).toEqual([...before.values()].map((p) => `${p.metadata!.name}/${p.metadata!.uid}`).sort());
  let healthyRestarts = 0;
  for (const w of webBefore) {
    const p = after.find((x) => x.metadata!.uid === w.uid)!;
    const s = containerStatus(p, 'httpd');
    healthyRestarts += s.restartCount - w.restartCount;
    expect(s).toEqual({ containerID: w.containerID, restartCount: w.restartCount });
    expect(ready(p)).toBe(true);
  }
  expect((await api!.get<ReplicaSetList>(`/apis/apps/v1/namespaces/${NS}/replicasets`)).items.map((r) => r.metadata!.uid).sort()).toEqual(replicaSetsBefore);
  const crashAfter = Object.fromEntries(crashers.map((c) => [c.key, containerStatus(after.find((p) => p.metadata!.uid === c.uid)!, 'main').restartCount]));
  for (const c of crashers) expect(crashAfter[c.key]).toBeGreaterThanOrEqual(containerStatus(before.get(c.key)!, 'main').restartCount + restartsDuring[c.key]!);

  printFigures('control-plane-down', {
    outageSeconds: Math.round((outageEnded - outageStarted) / 100) / 10,
    nodePortServed: served.nodePort!.ok,
    nodePortFailed: served.nodePort!.failed,
    clusterIPServed: served.clusterIP!.ok,
    clusterIPFailed: served.clusterIP!.failed,
    backendsSeen: new Set([...served.nodePort!.backends, ...served.clusterIP!.backends]).size,
    restartsDuringOutageAlways: restartsDuring['crash-always']!,
    restartsDuringOutageOnFailure: restartsDuring['crash-onfailure']!,
    healthyRestarts,
    apiBackSeconds: Math.round(apiBackSeconds * 10) / 10,
    reconcileSeconds: Math.round(reconcileSeconds * 10) / 10,
  });
  expect({ nodePort: served.nodePort!.failed, clusterIP: served.clusterIP!.failed, errors: [...served.nodePort!.errors, ...served.clusterIP!.errors] }).toEqual({ nodePort: 0, clusterIP: 0, errors: [] });
  expect(served.nodePort!.ok).toBeGreaterThan(0);
  expect(served.clusterIP!.ok).toBeGreaterThan(0);
  expect(healthyRestarts).toBe(0);
}, 360_000);
