// Controller crash: kill -9 the controller manager in the middle of a Deployment rollout and of
// a 20-pod Job, and the scheduler in the middle of binding a burst of pods, on a real
// `podium up --runtime simulated` cluster whose supervisor restarts them. The invariants are
// checked on every pod event seen by a watch that runs through the whole test: a rollout never
// has more than replicas+maxSurge active pods, a Job never more than parallelism active, a pod is
// bound once and its node never changes; afterwards the rollout completes (real kubectl), the Job
// has exactly 20 succeeded pods and nothing else, and every pod is scheduled.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, ReplicaSetList } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../../node-agent/api.js';
import { printFigures } from './figures.js';
import { pick } from './mode.js';
import { until, sleep } from '../support/wait.js';
import { childPids, isActive, killComponent, kubectl, PodTracker, startCluster, waitForChild, type Cluster } from './controller-crash-support.js';

const NS = 'crash';
const REPLICAS = pick(10, 20);
const MAX_SURGE = Math.ceil(REPLICAS * 0.25);
const MAX_UNAVAILABLE = Math.floor(REPLICAS * 0.25);
const COMPLETIONS = 20;
const PARALLELISM = 5;
const ROUNDS = pick(1, 2);
// Two simulated nodes hold 110 pods each, next to the Deployment's.
const BURST = pick(50, 150);
const SCHEDULER_KILLS = pick(1, 2);
const IMAGE = 'registry.k8s.io/pause:3.9';

let cluster: Cluster | undefined;
let tracker: PodTracker | undefined;

// Invariant bookkeeping, updated on every pod event.
let webActiveMax = 0;
let webExistingMax = 0;
const jobActiveMax = new Map<string, number>();
const bindings = new Map<string, number>();
const rebinds: string[] = [];
const bindTimes: number[] = [];

function onPodEvent(_type: string, before: Pod | undefined, after: Pod | undefined): void {
  const pods = tracker!;
  const labels = (after ?? before)?.metadata?.labels ?? {};
  if (labels.app === 'web') {
    const web = pods.select((p) => p.metadata?.labels?.app === 'web');
    webExistingMax = Math.max(webExistingMax, web.length);
    webActiveMax = Math.max(webActiveMax, web.filter(isActive).length);
  }
  const jobUid = labels['batch.kubernetes.io/controller-uid'];
  if (jobUid) {
    const active = pods.select((p) => p.metadata?.labels?.['batch.kubernetes.io/controller-uid'] === jobUid && isActive(p)).length;
    jobActiveMax.set(jobUid, Math.max(jobActiveMax.get(jobUid) ?? 0, active));
  }
  if (labels.burst && after) {
    const was = before?.spec?.nodeName;
    const now = after.spec?.nodeName;
    if (now && !was) {
      bindings.set(after.metadata!.uid!, (bindings.get(after.metadata!.uid!) ?? 0) + 1);
      bindTimes.push(Date.now());
    }
    if (was && now !== was) rebinds.push(`${after.metadata?.name}: ${was} -> ${now}`);
  }
}

beforeAll(async () => {
  cluster = await startCluster(2);
  await cluster.api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await until('default service account', () => cluster!.api.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`).then(() => true));
  tracker = new PodTracker(cluster.api, NS, onPodEvent);
  await tracker.start();
}, 90_000);

afterAll(async () => {
  await tracker?.stop();
  await cluster?.stop();
});

const deploymentPath = `/apis/apps/v1/namespaces/${NS}/deployments`;
const jobPath = `/apis/batch/v1/namespaces/${NS}/jobs`;
const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager';

function webDeployment(version: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: REPLICAS,
      // Each step of the rollout waits for its new pods to stay ready this long, so the rollout
      // takes several seconds in the simulated runtime (whose containers are ready at once).
      minReadySeconds: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { version: String(version) } },
        spec: { containers: [{ name: 'web', image: IMAGE }] },
      },
    },
  };
}

function batchJob(name: string): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      completions: COMPLETIONS,
      parallelism: PARALLELISM,
      backoffLimit: 0,
      template: {
        // A simulated container under restartPolicy Never exits 0 after this many seconds.
        metadata: { annotations: { 'podium.io/simulate-duration': '2' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: IMAGE }] },
      },
    },
  };
}

async function webReplicaSets(): Promise<ReplicaSet[]> {
  return (await cluster!.api.get<ReplicaSetList>(`/apis/apps/v1/namespaces/${NS}/replicasets?labelSelector=app%3Dweb`)).items;
}
const versionOf = (rs: ReplicaSet): string | undefined => rs.spec?.template?.metadata?.annotations?.version;

/** Polls until the rollout and the Job are both in progress at the point this round kills at; fails if it passed by. */
async function halfway(round: number, version: number): Promise<{ fresh: number; available: number; succeeded: number }> {
  const end = Date.now() + 30_000;
  for (;;) {
    const rs = (await webReplicaSets()).find((r) => versionOf(r) === String(version));
    const fresh = rs?.spec?.replicas ?? 0;
    const available = rs?.status?.availableReplicas ?? 0;
    const succeeded = (await cluster!.api.get<Job>(`${jobPath}/batch-${round}`)).status?.succeeded ?? 0;
    if (fresh >= REPLICAS || succeeded >= COMPLETIONS || Date.now() > end) throw new Error(`missed the middle: new ReplicaSet at ${fresh}, job at ${succeeded}`);
    if (fresh > 0 && (round === 1 || available > 0)) return { fresh, available, succeeded };
    await sleep(20);
  }
}

/** kill -9 of the controller manager; resolves once a new process leads again, with the times. */
async function crashControllerManager(upPid: number): Promise<{ restartMs: number; leaderMs: number }> {
  const holder = (await cluster!.api.get<Lease>(leasePath)).spec?.holderIdentity;
  const killedAt = Date.now();
  const old = await killComponent(upPid, 'controller-manager');
  const fresh = await waitForChild(upPid, 'controller-manager', old);
  const restartMs = Date.now() - killedAt;
  // A killed leader cannot release its lease: the new process takes it once it has expired (15 s).
  await until('a new controller-manager leader', async () => {
    const h = (await cluster!.api.get<Lease>(leasePath)).spec?.holderIdentity;
    return h !== holder && h?.includes(`_${fresh}_`);
  }, 60_000);
  return { restartMs, leaderMs: Date.now() - killedAt };
}

test('the controller manager killed mid-rollout and mid-Job: the rollout completes, the Job has exactly 20 pods, no surplus', async () => {
  const c = cluster!;
  const upPid = c.up.pid!;
  await c.api.create(deploymentPath, webDeployment(1));
  const rolled = await kubectl(c.kubeconfig, ['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=90s']);
  expect(rolled).toMatchObject({ code: 0 });

  for (let round = 1; round <= ROUNDS; round++) {
    webActiveMax = 0;
    webExistingMax = 0;
    const version = round + 1;
    const job = await c.api.create<Job>(jobPath, batchJob(`batch-${round}`));
    const jobUid = job.metadata!.uid!;
    await until('the job to make progress', async () => ((await c.api.get<Job>(`${jobPath}/batch-${round}`)).status?.succeeded ?? 0) >= 1, 60_000);
    await c.api.mergePatch(`${deploymentPath}/web`, { spec: { template: { metadata: { annotations: { version: String(version) } } } } });

    // The middle of both: the new ReplicaSet has some but not all replicas (in a second round, some
    // of them available already), the Job some but not all successes.
    const middle = await halfway(round, version);
    const killedAt = Date.now();
    const { restartMs, leaderMs } = await crashControllerManager(upPid);

    const status = await kubectl(c.kubeconfig, ['rollout', 'status', 'deployment/web', '-n', NS, '--timeout=120s']);
    expect(status).toMatchObject({ code: 0 });
    const rolloutMs = Date.now() - killedAt;
    const completed = await until('the job to complete', async () => {
      const j = await c.api.get<Job>(`${jobPath}/batch-${round}`);
      return j.status?.conditions?.some((cond) => cond.type === 'Complete' && cond.status === 'True') && j;
    }, 120_000);
    const jobMs = Date.now() - killedAt;
    // Old pods finish terminating (the simulated runtime takes 5 s to stop a container).
    await until('only the new pods to remain', async () => tracker!.select((p) => p.metadata?.labels?.app === 'web').length === REPLICAS, 60_000);

    const d = await c.api.get<Deployment>(`${deploymentPath}/web`);
    const sets = await webReplicaSets();
    const oldSets = sets.filter((r) => versionOf(r) !== String(version));
    const newSet = sets.find((r) => versionOf(r) === String(version));
    const web = tracker!.select((p) => p.metadata?.labels?.app === 'web');
    const jobPods = tracker!.select((p) => p.metadata?.labels?.['batch.kubernetes.io/controller-uid'] === jobUid);
    const succeededPods = jobPods.filter((p) => p.status?.phase === 'Succeeded').length;
    printFigures('controller-crash rollout+job', {
      round,
      killedWithNewReplicaSetAt: middle.fresh,
      killedWithNewAvailable: middle.available,
      killedWithJobSucceeded: middle.succeeded,
      cmRestartMs: restartMs,
      cmLeaderAgainMs: leaderMs,
      rolloutCompleteAfterKillMs: rolloutMs,
      jobCompleteAfterKillMs: jobMs,
      maxActivePodsSeen: webActiveMax,
      maxPodsAllowed: REPLICAS + MAX_SURGE,
      maxPodsSeenWithTerminating: webExistingMax,
      podsNotTerminating: web.filter((p) => !p.metadata?.deletionTimestamp).length,
      replicas: REPLICAS,
      oldReplicaSetReplicas: oldSets.reduce((n, r) => n + (r.spec?.replicas ?? 0) + (r.status?.replicas ?? 0), 0),
      observedGeneration: `${d.status?.observedGeneration}/${d.metadata?.generation}`,
      jobSucceeded: completed.status?.succeeded ?? 0,
      jobPods: jobPods.length,
      surplusPods: jobPods.length - succeededPods,
      maxJobActiveSeen: jobActiveMax.get(jobUid) ?? 0,
      parallelism: PARALLELISM,
      podWatchRelists: tracker!.relists,
    });

    expect(webActiveMax).toBeLessThanOrEqual(REPLICAS + MAX_SURGE);
    expect(web).toHaveLength(REPLICAS);
    expect(web.every((p) => p.spec?.containers?.length && !p.metadata?.deletionTimestamp && newSet && p.metadata?.ownerReferences?.[0]?.uid === newSet.metadata?.uid)).toBe(true);
    expect(oldSets.map((r) => [r.spec?.replicas, r.status?.replicas ?? 0])).toEqual(oldSets.map(() => [0, 0]));
    expect(newSet?.spec?.replicas).toBe(REPLICAS);
    expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    expect(d.status).toMatchObject({ replicas: REPLICAS, updatedReplicas: REPLICAS, availableReplicas: REPLICAS, readyReplicas: REPLICAS });
    expect(completed.status?.succeeded).toBe(COMPLETIONS);
    expect(completed.status?.failed ?? 0).toBe(0);
    expect(completed.status?.active ?? 0).toBe(0);
    expect(succeededPods).toBe(COMPLETIONS);
    expect(jobPods).toHaveLength(COMPLETIONS);
    expect(jobActiveMax.get(jobUid)).toBeLessThanOrEqual(PARALLELISM);
    expect(MAX_UNAVAILABLE).toBeGreaterThan(0);
  }
}, pick(150_000, 300_000));

test('the scheduler killed while it binds a burst: every pod is bound exactly once, and a second binding is a 409', async () => {
  const c = cluster!;
  const upPid = c.up.pid!;
  for (let kill = 1; kill <= SCHEDULER_KILLS; kill++) {
    const label = `b${kill}`;
    const mine = (p: Pod) => p.metadata?.labels?.burst === label;
    const creating = Promise.all(Array.from({ length: BURST }, (_, i) =>
      c.api.create<Pod>(`/api/v1/namespaces/${NS}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `burst-${kill}-${i}`, labels: { burst: label } },
        spec: { containers: [{ name: 'c', image: IMAGE }], terminationGracePeriodSeconds: 0 },
      }),
    ));
    // Kill as soon as the watch shows the first bindings: the scheduler is in the middle of the burst.
    const pid = await waitForChild(upPid, 'scheduler');
    const firstBindDeadline = Date.now() + 30_000;
    while (tracker!.select((p) => mine(p) && !!p.spec?.nodeName).length === 0) {
      if (Date.now() > firstBindDeadline) throw new Error('the scheduler bound none of the burst in 30 s');
      await sleep(2);
    }
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const boundAtKill = tracker!.select((p) => mine(p) && !!p.spec?.nodeName).length;
    await creating;
    while (childPids(upPid, 'scheduler').includes(pid)) await sleep(10);
    const fresh = await waitForChild(upPid, 'scheduler', pid);
    const restartMs = Date.now() - killedAt;
    const restartedAt = Date.now();
    await until('every burst pod to be bound', async () => {
      const pods = tracker!.select(mine);
      return pods.length === BURST && pods.every((p) => !!p.spec?.nodeName);
    }, 60_000);
    const allBoundMs = Date.now() - killedAt;
    // Late watch events of the old scheduler's in-flight binds arrive before this settles.
    await sleep(500);
    const pods = tracker!.select(mine);
    const counts = pods.map((p) => bindings.get(p.metadata!.uid!) ?? 0);
    printFigures('controller-crash scheduler', {
      kill,
      pods: BURST,
      boundAtKill,
      schedulerRestartMs: restartMs,
      firstBindAfterRestartMs: (bindTimes.find((t) => t >= restartedAt) ?? NaN) - restartedAt,
      allBoundAfterKillMs: allBoundMs,
      podsBound: pods.filter((p) => p.spec?.nodeName).length,
      bindingsPerPodMin: Math.min(...counts),
      bindingsPerPodMax: Math.max(...counts),
      nodeChanges: rebinds.length,
      newSchedulerPid: fresh !== pid,
    });
    expect(boundAtKill).toBeLessThan(BURST);
    expect(pods).toHaveLength(BURST);
    expect(counts.every((n) => n === 1)).toBe(true);
    expect(rebinds).toEqual([]);
    // Make room on the nodes for the next burst.
    await c.api.delete(`/api/v1/namespaces/${NS}/pods?labelSelector=burst%3D${label}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    await until('the burst pods to be gone', async () => tracker!.select(mine).length === 0, 60_000);
  }

  // A second binding of a bound pod is refused with 409 Conflict, as upstream's BindingREST.
  const bound = tracker!.select((p) => p.metadata?.labels?.app === 'web' && !!p.spec?.nodeName)[0];
  const other = bound.spec!.nodeName === 'sim-0' ? 'sim-1' : 'sim-0';
  const err = await c.api
    .create(`/api/v1/namespaces/${NS}/pods/${bound.metadata!.name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: bound.metadata!.name }, target: { apiVersion: 'v1', kind: 'Node', name: other } })
    .then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  expect(err).toMatchObject({ code: 409, reason: 'Conflict' });
  expect((err as ApiError).message).toContain('already assigned to node');
  const after = await c.api.get<Pod>(`/api/v1/namespaces/${NS}/pods/${bound.metadata!.name}`);
  expect(after.spec?.nodeName).toBe(bound.spec!.nodeName);
}, pick(90_000, 180_000));
