// The disruption controller (upstream pkg/controller/disruption): keeps each
// PodDisruptionBudget's status current — expectedPods from the scale of the matching pods'
// controllers, currentHealthy (Ready pods not being deleted), desiredHealthy from minAvailable
// or maxUnavailable, disruptionsAllowed and the DisruptionAllowed condition — so the
// pods/eviction subresource (and `kubectl drain`) can refuse evictions that would break it.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from 'kubernetes-types/policy/v1.js';
import type { Condition, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { isPodReady } from './controller-utils.js';

/** How long an entry of status.disruptedPods keeps its pod out of currentHealthy (upstream DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

type IntOrString = number | string;

/** intstr.GetScaledValueFromIntOrPercent. Throws on a malformed percentage. */
export function scaledValue(v: IntOrString, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) {
    if (/^-?\d+$/.test(v)) return Number(v);
    throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  }
  const raw = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

const isPercent = (v: IntOrString | undefined): boolean => typeof v === 'string' && v.endsWith('%');

/** The pods a PDB covers: same namespace, matching its selector (a missing selector matches none in policy/v1). */
export function podsForPdb(pdb: PodDisruptionBudget, pods: readonly Pod[]): Pod[] {
  const ns = pdb.metadata?.namespace;
  if (!pdb.spec?.selector) return [];
  const sel = fromLabelSelector(pdb.spec.selector);
  return pods.filter((p) => p.metadata?.namespace === ns && matchesLabels(sel, p.metadata?.labels));
}

/** A controller's identity and desired replica count; undefined when unknown. */
export interface ScaleInfo {
  uid: string;
  replicas: number;
}
export type ScaleLookup = (namespace: string, ref: OwnerReference) => ScaleInfo | undefined;

/**
 * expectedPods. An integer minAvailable needs no controllers: the count of matching pods.
 * Otherwise the sum of the replicas of the pods' distinct controllers; a pod without a
 * controller (or whose controller cannot be found) counts as one.
 */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[], lookup: ScaleLookup): number {
  const minAvailable = pdb.spec?.minAvailable;
  if (pdb.spec?.maxUnavailable === undefined && minAvailable !== undefined && !isPercent(minAvailable)) return pods.length;
  const seen = new Set<string>();
  let expected = 0;
  for (const pod of pods) {
    const ref = pod.metadata?.ownerReferences?.find((o) => o.controller);
    const scale = ref ? lookup(pod.metadata?.namespace ?? '', ref) : undefined;
    if (!scale) {
      expected += 1;
      continue;
    }
    if (seen.has(scale.uid)) continue;
    seen.add(scale.uid);
    expected += scale.replicas;
  }
  return expected;
}

/** desiredHealthy from minAvailable or maxUnavailable (percentages rounded up), never negative. */
export function desiredHealthyCount(pdb: PodDisruptionBudget, expected: number): number {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined) return Math.max(0, expected - scaledValue(maxUnavailable, expected, true));
  if (minAvailable !== undefined) return scaledValue(minAvailable, expected, true);
  return 0;
}

/** Ready pods not being deleted and not recently disrupted (evicted, deletion pending). */
export function currentHealthyCount(pods: readonly Pod[], disrupted: Record<string, string>, now: number): number {
  let healthy = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) healthy++;
  }
  return healthy;
}

/** Entries of disruptedPods still pending: the pod exists, is not yet deleting, and the entry is not expired. */
export function pruneDisruptedPods(disrupted: Record<string, string> | undefined, pods: readonly Pod[], now: number): Record<string, string> {
  const out: Record<string, string> = {};
  const byName = new Map(pods.map((p) => [p.metadata?.name ?? '', p]));
  for (const [name, at] of Object.entries(disrupted ?? {})) {
    const pod = byName.get(name);
    if (!pod || pod.metadata?.deletionTimestamp) continue;
    if (Date.parse(at) + DELETION_TIMEOUT_MS <= now) continue;
    out[name] = at;
  }
  return out;
}

/** The status the controller writes for a PDB (conditions keep lastTransitionTime when unchanged). */
export function computePdbStatus(
  pdb: PodDisruptionBudget,
  pods: readonly Pod[],
  expected: number,
  now: number,
): Mutable<PodDisruptionBudgetStatus> {
  const disrupted = pruneDisruptedPods(pdb.status?.disruptedPods as Record<string, string> | undefined, pods, now);
  const currentHealthy = currentHealthyCount(pods, disrupted, now);
  const desiredHealthy = desiredHealthyCount(pdb, expected);
  const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
  const allowed = disruptionsAllowed > 0;
  return {
    observedGeneration: pdb.metadata?.generation ?? 0,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed,
    currentHealthy,
    desiredHealthy,
    expectedPods: expected,
    conditions: withCondition(pdb, allowed ? 'True' : 'False', allowed ? 'SufficientPods' : 'InsufficientPods', '', now),
  };
}

/** A fail-safe status (upstream failSafe): nothing may be disrupted while the PDB cannot be computed. */
export function failSafeStatus(pdb: PodDisruptionBudget, message: string, now: number): Mutable<PodDisruptionBudgetStatus> {
  return {
    ...(pdb.status as Mutable<PodDisruptionBudgetStatus> | undefined),
    observedGeneration: pdb.metadata?.generation ?? 0,
    disruptionsAllowed: 0,
    currentHealthy: pdb.status?.currentHealthy ?? 0,
    desiredHealthy: pdb.status?.desiredHealthy ?? 0,
    expectedPods: pdb.status?.expectedPods ?? 0,
    conditions: withCondition(pdb, 'False', 'SyncFailed', message, now),
  };
}

function withCondition(pdb: PodDisruptionBudget, status: string, reason: string, message: string, now: number): Condition[] {
  const others = (pdb.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionAllowed');
  const old = pdb.status?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const lastTransitionTime = old && old.status === status ? old.lastTransitionTime : new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  return [
    ...others,
    { type: 'DisruptionAllowed', status, reason, message, observedGeneration: pdb.metadata?.generation ?? 0, lastTransitionTime },
  ];
}

function statusEqual(a: PodDisruptionBudgetStatus | undefined, b: PodDisruptionBudgetStatus): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}
function normalize(s: PodDisruptionBudgetStatus | undefined): unknown {
  if (!s) return undefined;
  return {
    o: s.observedGeneration ?? 0,
    d: s.disruptedPods ?? {},
    a: s.disruptionsAllowed,
    c: s.currentHealthy,
    h: s.desiredHealthy,
    e: s.expectedPods,
    k: (s.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message ?? '', c.observedGeneration ?? 0]),
  };
}

export class DisruptionController implements Controller {
  readonly name = 'disruption';
  private readonly queue = new WorkQueue();
  private pdbs!: Informer<PodDisruptionBudget>;
  private pods!: Informer<Pod>;
  private rss!: Informer<ReplicaSet>;
  private deployments!: Informer<Deployment>;
  private statefulsets!: Informer<StatefulSet>;

  constructor(private readonly clock: () => number = Date.now) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.pdbs = ctx.informers.for<PodDisruptionBudget>('/apis/policy/v1/poddisruptionbudgets');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.rss = ctx.informers.for<ReplicaSet>('/apis/apps/v1/replicasets');
    this.deployments = ctx.informers.for<Deployment>('/apis/apps/v1/deployments');
    this.statefulsets = ctx.informers.for<StatefulSet>('/apis/apps/v1/statefulsets');
    const enqueuePdb = (pdb: PodDisruptionBudget): void => this.queue.add(keyOf(pdb));
    this.pdbs.on('add', enqueuePdb);
    this.pdbs.on('update', enqueuePdb);
    const enqueueForPod = (pod: Pod): void => {
      for (const pdb of this.pdbs.list(pod.metadata?.namespace)) {
        if (podsForPdb(pdb, [pod]).length) this.queue.add(keyOf(pdb));
      }
    };
    this.pods.on('add', enqueueForPod);
    this.pods.on('update', (pod: Pod, old?: Pod) => {
      enqueueForPod(pod);
      if (old && JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels)) enqueueForPod(old);
    });
    this.pods.on('delete', enqueueForPod);
    // A controller's scale changes expectedPods of the PDBs over its pods.
    const enqueueNamespace = (obj: { metadata?: { namespace?: string } }): void => {
      for (const pdb of this.pdbs.list(obj.metadata?.namespace)) this.queue.add(keyOf(pdb));
    };
    for (const inf of [this.rss, this.deployments, this.statefulsets] as Informer<any>[]) {
      inf.on('add', enqueueNamespace);
      inf.on('update', enqueueNamespace);
    }
    await Promise.all([this.pdbs, this.pods, this.rss, this.deployments, this.statefulsets].map((i) => (i as Informer<any>).start(ctx.signal)));
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key), ctx.signal, ctx.log);
  }

  private readonly lookup: ScaleLookup = (ns, ref) => {
    const key = `${ns}/${ref.name}`;
    const replicas = (n: number | undefined): number => n ?? 1;
    switch (ref.kind) {
      case 'ReplicaSet': {
        const rs = this.rss.get(key);
        if (!rs || rs.metadata?.uid !== ref.uid) return undefined;
        const dref = rs.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
        if (dref) {
          const d = this.deployments.get(`${ns}/${dref.name}`);
          if (d && d.metadata?.uid === dref.uid) return { uid: dref.uid, replicas: replicas(d.spec?.replicas) };
        }
        return { uid: ref.uid, replicas: replicas(rs.spec?.replicas) };
      }
      case 'StatefulSet': {
        const ss = this.statefulsets.get(key);
        return ss && ss.metadata?.uid === ref.uid ? { uid: ref.uid, replicas: replicas(ss.spec?.replicas) } : undefined;
      }
      default: {
        // A controller without a known scale (ReplicationControllers are not served): as many
        // as it has pods right now.
        const owned = this.pods.list(ns).filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === ref.uid));
        return { uid: ref.uid, replicas: owned.length };
      }
    }
  };

  async sync(ctx: ControllerContext, key: string): Promise<void> {
    const pdb = this.pdbs.get(key);
    if (!pdb || pdb.metadata?.deletionTimestamp) return;
    const now = this.clock();
    const pods = podsForPdb(pdb, this.pods.list(pdb.metadata?.namespace));
    let status: Mutable<PodDisruptionBudgetStatus>;
    try {
      status = computePdbStatus(pdb, pods, expectedPodCount(pdb, pods, this.lookup), now);
    } catch (e) {
      status = failSafeStatus(pdb, (e as Error).message, now);
    }
    // Re-check when the oldest pending disruptedPods entry expires.
    const times = Object.values(status.disruptedPods ?? {}).map((t) => Date.parse(t) + DELETION_TIMEOUT_MS - now);
    if (times.length) this.queue.addAfter(key, Math.max(1000, Math.min(...times)));
    if (statusEqual(pdb.status, status)) return;
    const { namespace, name } = splitKey(key);
    try {
      await ctx.client.update(`/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${name}/status`, {
        ...pdb,
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        status,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
