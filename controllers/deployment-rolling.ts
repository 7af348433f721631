// The arithmetic of a rollout, kept pure so it can be tested: how far the new ReplicaSet
// may grow, how many old pods may go, and how a resize is shared between ReplicaSets
// (upstream rolling.go, sync.go's scale and getProportion).
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  byCreation,
  desiredReplicasAnnotation,
  filterActive,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  replicas,
  resolveFenceposts,
  sum,
} from './deployment-util.js';

/** A scaling step: set `rs` to `to` replicas. */
export interface ScaleOp {
  rs: ReplicaSet;
  to: number;
}

/** NewRSNewReplicas: the size the new ReplicaSet may reach now. */
export function newRSNewReplicas(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): number {
  const desired = d.spec?.replicas ?? 1;
  if ((d.spec?.strategy?.type ?? 'RollingUpdate') === 'Recreate') return desired;
  const { maxSurge: surge } = resolveFenceposts(d);
  const current = sum(allRSs, replicas);
  const maxTotal = desired + surge;
  if (current >= maxTotal) return replicas(newRS);
  const up = Math.min(maxTotal - current, desired - replicas(newRS));
  return replicas(newRS) + Math.max(0, up);
}

/** reconcileNewReplicaSet's decision, or undefined when the new ReplicaSet is right. */
export function reconcileNewReplicaSet(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): ScaleOp | undefined {
  const desired = d.spec?.replicas ?? 1;
  if (replicas(newRS) === desired) return undefined;
  if (replicas(newRS) > desired) return { rs: newRS, to: desired };
  const to = newRSNewReplicas(d, allRSs, newRS);
  return to === replicas(newRS) ? undefined : { rs: newRS, to };
}

/**
 * reconcileOldReplicaSets: first scale down old ReplicaSets' unhealthy replicas (they do not
 * count towards availability anyway), then healthy ones as far as maxUnavailable allows.
 */
export function reconcileOldReplicaSets(d: Deployment, oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): ScaleOp[] {
  const active = filterActive(oldRSs);
  if (sum(active, replicas) === 0) return [];
  const allRSs = [...active, ...(newRS ? [newRS] : [])];
  const allPods = sum(allRSs, replicas);
  const minAvailable = (d.spec?.replicas ?? 1) - maxUnavailable(d);
  const newUnavailable = replicas(newRS) - (newRS?.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = new Map<ReplicaSet, number>(active.map((rs) => [rs, replicas(rs)]));
  let cleaned = 0;
  for (const rs of [...active].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.get(rs)!;
    const unhealthy = size - (rs.status?.availableReplicas ?? 0);
    if (size === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(rs, size - down);
    cleaned += down;
  }

  // scaleDownOldReplicaSetsForRollingUpdate, on the sizes after cleanup.
  const available = sum(allRSs, (rs) => rs.status?.availableReplicas ?? 0);
  if (available > minAvailable) {
    const total = available - minAvailable;
    let done = 0;
    for (const rs of [...active].sort(byCreation)) {
      if (done >= total) break;
      const size = sizes.get(rs)!;
      if (size === 0) continue;
      const down = Math.min(size, total - done);
      sizes.set(rs, size - down);
      done += down;
    }
  }
  return active.filter((rs) => sizes.get(rs) !== replicas(rs)).map((rs) => ({ rs, to: sizes.get(rs)! }));
}

/** The active ReplicaSet if only one has replicas, or the newest one if none has (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sortedOld = [...oldRSs].sort((a, b) => byCreation(b, a));
  const all = filterActive([...sortedOld, newRS]);
  if (all.length === 0) return newRS ?? sortedOld[0];
  if (all.length === 1) return all[0];
  return undefined;
}

export function isSaturated(d: Deployment, newRS: ReplicaSet | undefined): boolean {
  if (!newRS) return false;
  const desired = d.spec?.replicas ?? 1;
  return replicas(newRS) === desired && desiredReplicasAnnotation(newRS) === desired && (newRS.status?.availableReplicas ?? 0) === desired;
}

/** isScalingEvent: some active ReplicaSet was sized for a different deployment size. */
export function isScalingEvent(d: Deployment, allRSs: ReplicaSet[]): boolean {
  const desired = d.spec?.replicas ?? 1;
  return filterActive(allRSs).some((rs) => {
    const a = desiredReplicasAnnotation(rs);
    return a !== undefined && a !== desired;
  });
}

function fraction(rs: ReplicaSet, d: Deployment): number {
  const desired = d.spec?.replicas ?? 1;
  if (desired === 0) return -replicas(rs);
  const deploymentReplicas = desired + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return Math.round((replicas(rs) * deploymentReplicas) / annotated) - replicas(rs);
}

/**
 * sync.go's scale: resize a deployment mid-rollout. One active ReplicaSet takes the whole
 * size; otherwise the change is shared in proportion to the sizes the ReplicaSets were
 * given (their max-replicas annotation), the leftover going to the largest.
 */
export function scalePlan(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ScaleOp[] {
  const desired = d.spec?.replicas ?? 1;
  const single = findActiveOrLatest(newRS, oldRSs);
  if (single) return replicas(single) === desired ? [] : [{ rs: single, to: desired }];
  if (isSaturated(d, newRS)) return filterActive(oldRSs).map((rs) => ({ rs, to: 0 }));
  if ((d.spec?.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return [];
  const all = filterActive([...oldRSs, newRS]);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - sum(all, replicas);
  if (toAdd === 0) return [];
  const created = (rs: ReplicaSet): number => Date.parse(rs.metadata?.creationTimestamp ?? '') || 0;
  // Growing favours larger then newer ReplicaSets; shrinking, larger then older ones.
  all.sort((a, b) => replicas(b) - replicas(a) || (toAdd > 0 ? created(b) - created(a) : created(a) - created(b)));
  let added = 0;
  const sizes = all.map((rs) => {
    if (replicas(rs) === 0 || toAdd === added) return replicas(rs);
    const f = fraction(rs, d);
    const allowedNow = toAdd - added;
    const p = toAdd > 0 ? Math.min(f, allowedNow) : Math.max(f, allowedNow);
    added += p;
    return replicas(rs) + p;
  });
  sizes[0] = Math.max(0, sizes[0]! + (toAdd - added));
  return all.map((rs, i) => ({ rs, to: sizes[i]! })).filter((op) => op.to !== replicas(op.rs));
}
