// Pod helpers shared by the workload controllers, after upstream's controller_utils.go and
// podutil: activeness, readiness, availability, deletion ranking, pods from templates and
// owner references.
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** An owning object; apiVersion and kind must be set (list items lack them: set them first). */
export interface Owner {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export function controllerRef(meta: ObjectMeta | undefined): OwnerReference | undefined {
  return meta?.ownerReferences?.find((r) => r.controller);
}

export function newControllerRef(owner: Owner): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** FilterActivePods: not terminal and not being deleted. */
export function isPodActive(p: Pod): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export function podReadyCondition(p: Pod): { status: string; lastTransitionTime?: string } | undefined {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(p: Pod): boolean {
  return podReadyCondition(p)?.status === 'True';
}

/** Ready for at least minReadySeconds (IsPodAvailable). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  const c = podReadyCondition(p);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
  return since > 0 && since + minReadySeconds * 1000 <= now;
}

function phaseRank(p: Pod): number {
  switch (p.status?.phase) {
    case 'Pending':
      return 0;
    case 'Running':
      return 2;
    default:
      return 1; // Unknown, or not yet reported
  }
}

const restarts = (p: Pod): number =>
  (p.status?.containerStatuses ?? []).reduce((max, c) => Math.max(max, c.restartCount ?? 0), 0);

function deletionCost(p: Pod): number {
  const v = p.metadata?.annotations?.[POD_DELETION_COST];
  const n = v === undefined ? 0 : Number(v);
  return Number.isInteger(n) ? n : 0;
}

const ts = (s: string | undefined): number => (s ? Date.parse(s) : 0);

/**
 * ActivePodsWithRanks.Less: negative when a should be deleted before b. `rank` is how many
 * related pods share the pod's node (doubled-up pods go first).
 */
export function compareForDeletion(a: Pod, b: Pod, rankA = 0, rankB = 0): number {
  const assignedA = Boolean(a.spec?.nodeName);
  const assignedB = Boolean(b.spec?.nodeName);
  if (assignedA !== assignedB) return assignedA ? 1 : -1;
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  if (isPodReady(a) !== isPodReady(b)) return isPodReady(a) ? 1 : -1;
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
  if (rankA !== rankB) return rankB - rankA;
  if (isPodReady(a) && isPodReady(b)) {
    // Ready for less time goes first.
    const ra = ts(podReadyCondition(a)?.lastTransitionTime);
    const rb = ts(podReadyCondition(b)?.lastTransitionTime);
    if (ra !== rb) return rb - ra;
  }
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ca = ts(a.metadata?.creationTimestamp);
  const cb = ts(b.metadata?.creationTimestamp);
  if (ca !== cb) return cb - ca;
  return 0;
}

/**
 * getPodsToDelete: the `diff` pods of `filtered` to delete first. `related` (pods of all
 * the owner's sibling controllers) ranks pods on crowded nodes first.
 */
export function podsToDelete(filtered: Pod[], related: Pod[], diff: number): Pod[] {
  if (diff >= filtered.length) return [...filtered];
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n && isPodActive(p)) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: Pod): number => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...filtered].sort((a, b) => compareForDeletion(a, b, rank(a), rank(b))).slice(0, diff);
}

/** GetPodFromTemplate: the pod a controller creates for `owner`. */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: Owner, generateName: string): Mutable<Pod> {
  const t = structuredClone((template ?? {}) as Mutable<PodTemplateSpec>);
  const meta: Mutable<ObjectMeta> = {
    generateName,
    namespace: owner.metadata?.namespace,
    labels: t.metadata?.labels,
    annotations: t.metadata?.annotations,
    finalizers: t.metadata?.finalizers,
    ownerReferences: [newControllerRef(owner) as Mutable<OwnerReference>],
  };
  for (const k of Object.keys(meta) as (keyof typeof meta)[]) if (meta[k] === undefined) delete meta[k];
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: t.spec as Mutable<Pod>['spec'] };
}

/** Creations in growing batches (1, 2, 4, ...) so a failing create costs one call, not N. */
export async function slowStartBatch(count: number, initialBatch: number, fn: () => Promise<void>): Promise<{ successes: number; error?: Error }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatch); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, fn));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason as Error };
    remaining -= batch;
  }
  return { successes };
}

export const nowIso = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
