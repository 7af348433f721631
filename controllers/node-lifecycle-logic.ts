// Pure decisions of the node lifecycle controller (upstream pkg/controller/nodelifecycle and
// its NoExecute taint manager): heartbeat staleness, the conditions of a node that stopped
// posting status, the not-ready/unreachable taints, and when a pod on a tainted node goes.
import type { Node, NodeCondition, Pod, PodCondition, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { tolerates } from './scheduler/plugins/taint-toleration.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const NODE_STATUS_UNKNOWN_MESSAGE = 'Kubelet stopped posting node status.';
export const NODE_NEVER_UPDATED_MESSAGE = 'Kubelet never posted node status.';
/** The conditions upstream sets to Unknown (Ready first). */
export const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

export const isoNow = (now: number): string => new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');

export const readyCondition = (node: Node): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === 'Ready');

/**
 * Upstream's nodeHealthData: the controller's own clock at which it last saw the node's
 * heartbeat (the Lease's renewTime or the Ready condition's lastHeartbeatTime) change. A
 * node first seen counts as just probed, so it gets a full grace period.
 */
export class HeartbeatTracker {
  private readonly data = new Map<string, { lease?: string; heartbeat?: string; probe: number }>();

  observe(name: string, leaseRenewTime: string | undefined, readyHeartbeat: string | undefined, now: number): number {
    const d = this.data.get(name);
    if (!d) {
      this.data.set(name, { lease: leaseRenewTime, heartbeat: readyHeartbeat, probe: now });
      return now;
    }
    if (d.lease !== leaseRenewTime || d.heartbeat !== readyHeartbeat) {
      d.lease = leaseRenewTime;
      d.heartbeat = readyHeartbeat;
      d.probe = now;
    }
    return d.probe;
  }

  forget(name: string): void {
    this.data.delete(name);
  }

  names(): string[] {
    return [...this.data.keys()];
  }
}

export const isStale = (probe: number, now: number, graceMs: number): boolean => now > probe + graceMs;

/**
 * The node's conditions once it stopped posting status: every monitored condition (and any
 * other already reported) Unknown with NodeStatusUnknown; missing monitored ones are added
 * with NodeStatusNeverUpdated. Undefined when all are already Unknown.
 */
export function unknownConditions(node: Node, now: number): Mutable<NodeCondition>[] | undefined {
  const ts = isoNow(now);
  const existing = (node.status?.conditions ?? []) as Mutable<NodeCondition>[];
  let changed = false;
  const out: Mutable<NodeCondition>[] = existing.map((c) => {
    if (c.status === 'Unknown') return { ...c };
    changed = true;
    return { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: NODE_STATUS_UNKNOWN_MESSAGE, lastTransitionTime: ts };
  });
  for (const type of MONITORED_CONDITIONS) {
    if (existing.some((c) => c.type === type)) continue;
    changed = true;
    out.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: NODE_NEVER_UPDATED_MESSAGE, lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: ts });
  }
  return changed ? out : undefined;
}

/** Which of the two lifecycle taint keys the node should carry given its Ready condition. */
export function lifecycleTaintKey(node: Node): string | undefined {
  const status = readyCondition(node)?.status;
  if (status === 'False') return TAINT_NOT_READY;
  if (status === 'Unknown' || status === undefined) return TAINT_UNREACHABLE;
  return undefined;
}

const isLifecycleTaint = (t: Taint): boolean =>
  (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');

/**
 * The node's taints with the not-ready/unreachable NoSchedule and NoExecute taints matching
 * its readiness (NoExecute stamped with timeAdded; an existing one keeps its time). Undefined
 * when nothing changes.
 */
export function reconcileTaints(node: Node, now: number): Mutable<Taint>[] | undefined {
  const current = (node.spec?.taints ?? []) as Mutable<Taint>[];
  const key = lifecycleTaintKey(node);
  const wanted: Mutable<Taint>[] = key
    ? [
        { key, effect: 'NoSchedule' },
        { key, effect: 'NoExecute', timeAdded: isoNow(now) },
      ]
    : [];
  const kept = current.filter((t) => !isLifecycleTaint(t) || wanted.some((w) => w.key === t.key && w.effect === t.effect));
  const added = wanted.filter((w) => !current.some((t) => t.key === w.key && t.effect === w.effect));
  if (kept.length === current.length && added.length === 0) return undefined;
  return [...kept, ...added];
}

/**
 * The taint manager's verdict for a pod on a node with these NoExecute taints: 0 when some
 * taint is not tolerated (evict now), Infinity when every taint is tolerated forever, else the
 * smallest tolerationSeconds (ms) of the first toleration matching each taint (upstream getMinTolerationTime;
 * a negative value means at once).
 */
export function evictionDelayMs(taints: readonly Taint[], tolerations: readonly Toleration[]): number {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return Infinity;
  const used: Toleration[] = [];
  for (const taint of noExecute) {
    // GetMatchingTolerations: the first toleration that tolerates each taint.
    const match = tolerations.find((t) => tolerates(t, taint));
    if (!match) return 0;
    used.push(match);
  }
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    min = Math.min(min, Math.max(0, t.tolerationSeconds) * 1000);
  }
  return min;
}

/** Whether the pod still needs marking NotReady (MarkPodsNotReady): its Ready condition is not False yet. */
export function needsMarkNotReady(pod: Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return !!ready && ready.status !== 'False';
}

/** The pod's conditions with Ready and ContainersReady set False (those it has), as MarkPodsNotReady. */
export function notReadyConditions(pod: Pod, now: number): Mutable<PodCondition>[] {
  const ts = isoNow(now);
  return ((pod.status?.conditions ?? []) as Mutable<PodCondition>[]).map((c) =>
    (c.type === 'Ready' || c.type === 'ContainersReady') && c.status !== 'False' ? { ...c, status: 'False', lastTransitionTime: ts } : { ...c },
  );
}
