// The pure half of the StatefulSet controller (upstream stateful_set_utils.go and the
// decision part of stateful_set_control.go): stable identities, claims from templates,
// which ordinal to create or delete next, and the status a set of pods adds up to.
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isPodAvailable, isPodReady, podFromTemplate, type Owner } from './controller-utils.js';
import { CONTROLLER_REVISION_HASH } from './history.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

const ORDINAL = /^(.*)-(\d+)$/;

/** The pod's ordinal when its name is `<set>-<n>`, else -1 (getParentNameAndOrdinal). */
export function ordinalOf(setName: string, pod: Pod): number {
  const m = ORDINAL.exec(pod.metadata?.name ?? '');
  if (!m || m[1] !== setName) return -1;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? n : -1;
}

export const podName = (set: StatefulSet, ordinal: number): string => `${set.metadata?.name}-${ordinal}`;
export const claimName = (template: string, set: StatefulSet, ordinal: number): string => `${template}-${set.metadata?.name}-${ordinal}`;
export const podRevision = (pod: Pod): string => pod.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? '';

export const isTerminating = (p: Pod): boolean => Boolean(p.metadata?.deletionTimestamp);
export const isFailedOrSucceeded = (p: Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
export const isCreated = (p: Pod): boolean => Boolean(p.status?.phase);
export const isRunningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isPodReady(p);
export const isHealthy = (p: Pod): boolean => isRunningAndReady(p) && !isTerminating(p);

/** The claims the pod of `ordinal` mounts, as the set's volumeClaimTemplates describe them. */
export function claimsFor(set: StatefulSet, ordinal: number, owner?: OwnerReference): Mutable<PersistentVolumeClaim>[] {
  return (set.spec?.volumeClaimTemplates ?? []).map((t) => {
    const c = structuredClone(t) as Mutable<PersistentVolumeClaim>;
    const labels = { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) };
    c.apiVersion = 'v1';
    c.kind = 'PersistentVolumeClaim';
    c.metadata = {
      name: claimName(t.metadata?.name ?? '', set, ordinal),
      namespace: set.metadata?.namespace,
      labels,
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(owner ? { ownerReferences: [owner as Mutable<OwnerReference>] } : {}),
    };
    delete c.status;
    return c;
  });
}

/** newVersionedStatefulSetPod: identity, storage and revision label on a pod from `template`. */
export function newStatefulSetPod(set: StatefulSet & Owner, template: PodTemplateSpec | undefined, revision: string, ordinal: number): Mutable<Pod> {
  const pod = podFromTemplate(template, set, '');
  const name = podName(set, ordinal);
  delete pod.metadata!.generateName;
  pod.metadata!.name = name;
  pod.metadata!.labels = { ...(pod.metadata!.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH]: revision };
  const spec = (pod.spec ??= { containers: [] });
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = (set.spec?.volumeClaimTemplates ?? []).map(
    (t): Mutable<Volume> => ({ name: t.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(t.metadata?.name ?? '', set, ordinal) } }),
  );
  if (claims.length) {
    const names = new Set(claims.map((v) => v.name));
    spec.volumes = [...(spec.volumes ?? []).filter((v) => !names.has(v.name)), ...claims];
  }
  return pod;
}

export type StsAction =
  | { kind: 'create'; ordinal: number; revision: 'current' | 'update' }
  | { kind: 'delete'; pod: Pod; why: 'failed' | 'condemned' | 'update' };

export interface StsPlanInput {
  replicas: number;
  startOrdinal: number;
  parallel: boolean;
  /** RollingUpdate's partition, or undefined for OnDelete. */
  partition?: number;
  minReadySeconds: number;
  updateRevision: string;
  /** The set's pods with an ordinal (ordinalOf >= 0). */
  pods: Pod[];
  setName: string;
  now: number;
}

/**
 * What to do this sync, in order. OrderedReady returns at most one action and nothing while
 * a lower ordinal is unready; Parallel creates and deletes everything at once. The rolling
 * update replaces one pod at a time from the highest ordinal down to the partition.
 */
export function planStatefulSet(i: StsPlanInput): StsAction[] {
  const monotonic = !i.parallel;
  const end = i.startOrdinal + i.replicas;
  const byOrdinal = new Map<number, Pod>();
  for (const p of i.pods) byOrdinal.set(ordinalOf(i.setName, p), p);
  const condemned = i.pods.filter((p) => {
    const o = ordinalOf(i.setName, p);
    return o < i.startOrdinal || o >= end;
  });
  condemned.sort((a, b) => ordinalOf(i.setName, b) - ordinalOf(i.setName, a));
  const available = (p: Pod): boolean => isRunningAndReady(p) && isPodAvailable(p, i.minReadySeconds, i.now);

  // Missing pods count as unhealthy: they would be created before any deletion proceeds.
  let firstUnhealthy: Pod | 'missing' | undefined;
  for (let o = i.startOrdinal; o < end && !firstUnhealthy; o++) {
    const p = byOrdinal.get(o);
    if (!p) firstUnhealthy = 'missing';
    else if (!isHealthy(p)) firstUnhealthy = p;
  }
  if (!firstUnhealthy) firstUnhealthy = condemned.find((p) => !isHealthy(p));

  const actions: StsAction[] = [];
  for (let o = i.startOrdinal; o < end; o++) {
    const p = byOrdinal.get(o);
    const index = o - i.startOrdinal;
    if (!p) {
      const current = i.partition !== undefined && index < i.partition;
      actions.push({ kind: 'create', ordinal: o, revision: current ? 'current' : 'update' });
      if (monotonic) return actions;
      continue;
    }
    if (isFailedOrSucceeded(p) && !isTerminating(p)) {
      // Deleted now, recreated on a later sync once the deletion is observed.
      actions.push({ kind: 'delete', pod: p, why: 'failed' });
      if (monotonic) return actions;
      continue;
    }
    if (monotonic && (isTerminating(p) || !available(p))) return actions;
  }
  for (const p of condemned) {
    if (isTerminating(p)) {
      if (monotonic) return actions;
      continue;
    }
    if (monotonic && firstUnhealthy && firstUnhealthy !== p) return actions;
    actions.push({ kind: 'delete', pod: p, why: 'condemned' });
    if (monotonic) return actions;
  }
  if (i.partition === undefined || actions.length > 0) return actions;
  for (let o = end - 1; o >= i.startOrdinal + Math.max(0, i.partition); o--) {
    const p = byOrdinal.get(o);
    if (!p) return actions;
    if (podRevision(p) !== i.updateRevision && !isTerminating(p)) {
      actions.push({ kind: 'delete', pod: p, why: 'update' });
      return actions;
    }
    if (!isHealthy(p)) return actions;
  }
  return actions;
}

/** computeReplicaStatus plus completeRollingUpdate. */
export function statefulSetStatus(
  set: StatefulSet,
  pods: Pod[],
  currentRevision: string,
  updateRevision: string,
  collisionCount: number,
  now: number,
): Mutable<StatefulSetStatus> {
  const minReady = set.spec?.minReadySeconds ?? 0;
  const s: Mutable<StatefulSetStatus> = {
    observedGeneration: set.metadata?.generation,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision,
    updateRevision,
    collisionCount,
  };
  for (const p of pods) {
    if (isCreated(p)) s.replicas++;
    if (isRunningAndReady(p)) {
      s.readyReplicas!++;
      if (isPodAvailable(p, minReady, now)) s.availableReplicas!++;
    }
    if (isCreated(p) && !isTerminating(p)) {
      if (podRevision(p) === currentRevision) s.currentReplicas!++;
      if (podRevision(p) === updateRevision) s.updatedReplicas!++;
    }
  }
  if (set.spec?.updateStrategy?.type !== 'OnDelete' && s.updatedReplicas === s.replicas && s.readyReplicas === s.replicas) {
    s.currentReplicas = s.updatedReplicas;
    s.currentRevision = updateRevision;
  }
  if (set.status?.conditions?.length) s.conditions = set.status.conditions as Mutable<StatefulSetStatus>['conditions'];
  return s;
}

export function sameStsStatus(a: StatefulSetStatus | undefined, b: StatefulSetStatus): boolean {
  const keys = ['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const;
  return keys.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));
}
