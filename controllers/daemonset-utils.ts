// The pure half of the DaemonSet controller (upstream pkg/controller/daemon and
// daemon/util): which nodes should run a daemon pod, the pod each gets (pinned by node
// affinity, tolerating the node conditions daemons must survive), the rolling update's
// choice of old pods to delete, and the status.
import type { DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isPodAvailable, isPodReady, podFromTemplate, type Owner } from './controller-utils.js';
import { CONTROLLER_REVISION_HASH } from './history.js';

export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** AddOrUpdateDaemonPodTolerations: daemons stay through node trouble and cordons. */
export function daemonTolerations(spec: PodSpec | undefined): Toleration[] {
  const extra: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec?.hostNetwork) extra.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const out = [...(spec?.tolerations ?? [])];
  for (const t of extra) if (!out.some((o) => o.key === t.key && o.effect === t.effect)) out.push(t);
  return out;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number.isInteger(Number(value)) && Number(value) > Number(values[0]);
    case 'Lt':
      return has && Number.isInteger(Number(value)) && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  // An empty term selects nothing, as upstream's nodeaffinity.
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => requirementMatches(r, r.key === 'metadata.name' ? node.metadata?.name : undefined))
  );
}

/** nodeSelector plus requiredDuringSchedulingIgnoredDuringExecution. */
export function fitsNodeAffinity(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((t) => termMatches(t, node));
}

export function untoleratedTaint(taints: Taint[], tolerations: Toleration[], effects: string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

/** NodeShouldRunDaemonPod: whether a new pod should go there, and whether an existing one may stay. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec;
  if (spec?.nodeName && spec.nodeName !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!fitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = daemonTolerations(spec);
  return {
    shouldRun: !untoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute']),
    shouldContinueRunning: !untoleratedTaint(taints, tolerations, ['NoExecute']),
  };
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: pins the pod to one node and lets the scheduler bind it. */
export function pinToNode(spec: Mutable<PodSpec>, nodeName: string): void {
  const field: Mutable<NodeSelectorRequirement> = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  const affinity = (spec.affinity ??= {});
  const nodeAffinity = (affinity.nodeAffinity ??= {});
  const required = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required?.nodeSelectorTerms?.length) {
    nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [field] }] };
    return;
  }
  for (const term of required.nodeSelectorTerms) term.matchFields = [{ ...field, values: [nodeName] }];
}

/** The node a daemon pod is for: its binding, or the node its affinity pins it to. */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    const f = t.matchFields?.find((r) => r.key === 'metadata.name' && r.operator === 'In' && r.values?.length === 1);
    if (f) return f.values![0];
  }
  return undefined;
}

export function newDaemonPod(ds: DaemonSet & Owner, hash: string, nodeName: string): Mutable<Pod> {
  const pod = podFromTemplate(ds.spec?.template, ds, `${ds.metadata?.name}-`);
  pod.metadata!.labels = {
    ...(pod.metadata!.labels ?? {}),
    [CONTROLLER_REVISION_HASH]: hash,
    [TEMPLATE_GENERATION_LABEL]: String(ds.metadata?.generation ?? 1),
  };
  const spec = (pod.spec ??= { containers: [] });
  spec.tolerations = daemonTolerations(spec) as Mutable<Toleration>[];
  pinToNode(spec, nodeName);
  return pod;
}

/** IsPodUpdated: the current revision's hash, or (for pods from before hashes) the generation. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  if (labels[CONTROLLER_REVISION_HASH] !== undefined) return labels[CONTROLLER_REVISION_HASH] === hash;
  return generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === String(generation);
}

const byCreation = (a: Pod, b: Pod): number =>
  (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');

export function groupByNode(pods: Pod[]): Map<string, Pod[]> {
  const m = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = targetNodeName(p);
    if (!n) continue;
    if (!m.has(n)) m.set(n, []);
    m.get(n)!.push(p);
  }
  for (const list of m.values()) list.sort(byCreation);
  return m;
}

const scaled = (v: number | string | undefined, total: number): number => {
  if (v === undefined) return 0;
  const n = typeof v === 'string' && v.endsWith('%') ? Math.ceil((Number(v.slice(0, -1)) * total) / 100) : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** maxSurge and maxUnavailable as counts of desired pods (percentages round up, as upstream). */
export function rollingParams(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = scaled(ru?.maxSurge, desired);
  let maxUnavailable = scaled(ru?.maxUnavailable ?? (ru?.maxSurge !== undefined ? 0 : 1), desired);
  // Both zero would stall forever; upstream forces one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export const resolveMaxUnavailable = (ds: DaemonSet, desired: number): number => rollingParams(ds, desired).maxUnavailable;

/**
 * rollingUpdate with maxSurge > 0: a new pod starts beside the old one on up to maxSurge
 * nodes at a time (at once where the old one is unavailable anyway); the old one goes as
 * soon as its replacement is available.
 */
export function surgeUpdate(
  byNode: Map<string, Pod[]>, eligible: Set<string>, hash: string, generation: number | undefined, maxSurge: number, minReadySeconds: number, now: number,
): { create: string[]; remove: Pod[] } {
  let surging = 0;
  const allowed: string[] = [];
  const candidates: string[] = [];
  const remove: Pod[] = [];
  for (const node of [...byNode.keys()].sort()) {
    const pods = byNode.get(node)!.filter((p) => !p.metadata?.deletionTimestamp);
    const fresh = pods.filter((p) => isPodUpdated(p, hash, generation));
    const old = pods.filter((p) => !isPodUpdated(p, hash, generation));
    if (fresh.length > 1 || old.length !== 1 || !eligible.has(node)) continue;
    if (fresh.length === 0) {
      if (!isPodAvailable(old[0], minReadySeconds, now)) allowed.push(node);
      else if (surging < maxSurge) {
        surging++;
        candidates.push(node);
      }
    } else if (!isPodAvailable(fresh[0], minReadySeconds, now)) surging++;
    else remove.push(old[0]);
  }
  return { create: [...allowed, ...candidates], remove };
}

/**
 * rollingUpdate with maxSurge 0: old pods that are unavailable go at once, available ones only
 * while fewer than maxUnavailable daemons are unavailable.
 */
export function oldPodsToDelete(byNode: Map<string, Pod[]>, hash: string, generation: number | undefined, maxUnavailable: number, minReadySeconds: number, now: number): Pod[] {
  const active = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata?.deletionTimestamp);
  let unavailable = 0;
  const replace: Pod[] = [];
  const candidates: Pod[] = [];
  for (const node of [...byNode.keys()].sort()) {
    const pods = active(byNode.get(node)!);
    const fresh = pods.filter((p) => isPodUpdated(p, hash, generation));
    const old = pods.filter((p) => !isPodUpdated(p, hash, generation));
    if (fresh.length > 1 || old.length > 1 || (fresh.length === 1) === (old.length === 1)) {
      unavailable++;
      continue;
    }
    if (fresh.length === 1) {
      if (!isPodAvailable(fresh[0], minReadySeconds, now)) unavailable++;
      continue;
    }
    if (!isPodAvailable(old[0], minReadySeconds, now)) replace.push(old[0]);
    else if (unavailable < maxUnavailable) {
      unavailable++;
      candidates.push(old[0]);
    }
  }
  return [...replace, ...candidates];
}

export function daemonSetStatus(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, hash: string, now: number): Mutable<DaemonSetStatus> {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const s: Mutable<DaemonSetStatus> = {
    currentNumberScheduled: 0,
    desiredNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
    numberAvailable: 0,
    updatedNumberScheduled: 0,
    numberUnavailable: 0,
    observedGeneration: ds.metadata?.generation,
  };
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const pods = (byNode.get(node.metadata?.name ?? '') ?? []).filter((p) => !p.metadata?.deletionTimestamp);
    if (shouldRun) {
      s.desiredNumberScheduled++;
      if (pods.length === 0) continue;
      s.currentNumberScheduled++;
      const p = pods[0];
      if (isPodReady(p)) {
        s.numberReady++;
        if (isPodAvailable(p, minReady, now)) s.numberAvailable!++;
      }
      if (isPodUpdated(p, hash, ds.metadata?.generation)) s.updatedNumberScheduled!++;
    } else if (pods.length > 0) s.numberMisscheduled++;
  }
  s.numberUnavailable = s.desiredNumberScheduled - (s.numberAvailable ?? 0);
  if (ds.status?.collisionCount !== undefined) s.collisionCount = ds.status.collisionCount;
  if (ds.status?.conditions?.length) s.conditions = ds.status.conditions as Mutable<DaemonSetStatus>['conditions'];
  return s;
}

export function sameDsStatus(a: DaemonSetStatus | undefined, b: DaemonSetStatus): boolean {
  const keys = [
    'currentNumberScheduled', 'desiredNumberScheduled', 'numberMisscheduled', 'numberReady', 'numberAvailable',
    'updatedNumberScheduled', 'numberUnavailable', 'observedGeneration', 'collisionCount',
  ] as const;
  return keys.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));
}
