// Deployment helpers after upstream's pkg/controller/deployment/util: template hashing,
// revision and replica annotations, surge/unavailable fenceposts, new/old ReplicaSet
// lookup and the status conditions.
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { nowIso } from './controller-utils.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const SKIP_COPY = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

export type RS = Mutable<ReplicaSet>;

// rand.SafeEncodeString's alphabet: no vowels (no words) and no look-alike characters.
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += ALPHANUMS[ch.charCodeAt(0) % ALPHANUMS.length];
  return out;
}

/** JSON with sorted keys and without null/undefined/empty values: a stable, defaulting-tolerant form. */
export function canonical(v: unknown): string {
  return JSON.stringify(prune(v)) ?? '';
}

function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const p = prune((v as Record<string, unknown>)[k]);
      if (p === undefined || p === null) continue;
      if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
      out[k] = p;
    }
    return out;
  }
  return v;
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** ComputeHash: fnv32a of the template (plus the collision count), safe-encoded like upstream. */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let s = canonical(template ?? {});
  if (collisionCount !== undefined && collisionCount !== null) s += `#${collisionCount}`;
  return safeEncodeString(String(fnv32a(s)));
}

function withoutHash(t: PodTemplateSpec | undefined): unknown {
  const c = structuredClone((t ?? {}) as Mutable<PodTemplateSpec>);
  if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH];
  return c;
}

export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonical(withoutHash(a)) === canonical(withoutHash(b));
}

const created = (rs: ReplicaSet): number => Date.parse(rs.metadata?.creationTimestamp ?? '') || 0;

/** ReplicaSetsByCreationTimestamp: oldest first, name breaks ties. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

export function findNewReplicaSet<T extends ReplicaSet>(d: Deployment, rsList: T[]): T | undefined {
  // Oldest first: with several identical templates (a past hash collision) the oldest wins.
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

export function findOldReplicaSets<T extends ReplicaSet>(rsList: T[], newRS?: T): T[] {
  return rsList.filter((rs) => rs.metadata?.uid !== newRS?.metadata?.uid);
}

export const replicas = (rs: ReplicaSet | undefined): number => rs?.spec?.replicas ?? 0;
export const sum = (rss: (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number =>
  rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);
export const filterActive = <T extends ReplicaSet>(rss: (T | undefined)[]): T[] => rss.filter((rs): rs is T => !!rs && replicas(rs) > 0);

export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): number {
  const v = Number(obj?.metadata?.annotations?.[REVISION] ?? '0');
  return Number.isInteger(v) ? v : 0;
}

export function maxRevision(rss: ReplicaSet[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

/** A revision annotation as an int64 (BigInt: revisions may exceed 2^53, as upstream's ParseInt). */
export function revisionBig(obj: { metadata?: { annotations?: Record<string, string> } } | undefined): bigint {
  const v = obj?.metadata?.annotations?.[REVISION] ?? '0';
  return /^-?\d+$/.test(v) ? BigInt(v) : 0n;
}

/** The revision a new ReplicaSet gets: one past the highest of `rss` (MaxRevision + 1), exactly. */
export function nextRevision(rss: ReplicaSet[]): bigint {
  return rss.reduce((m, rs) => { const r = revisionBig(rs); return r > m ? r : m; }, 0n) + 1n;
}

/** An int-or-percent against `total`, rounding as asked (GetScaledValueFromIntOrPercent). */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const val = v ?? fallback;
  if (typeof val === 'number') return val;
  const m = /^(\d+)%$/.exec(val);
  if (!m) return Number(val) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: maxSurge rounds up, maxUnavailable down, and both zero means one unavailable. */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const desired = d.spec?.replicas ?? 1;
  const ru = d.spec?.strategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, desired, true, '25%');
  let maxUnavailable = scaledValue(ru?.maxUnavailable, desired, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export const isRollingUpdate = (d: Deployment): boolean => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).maxSurge : 0;
}

export function maxUnavailable(d: Deployment): number {
  const desired = d.spec?.replicas ?? 1;
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d).maxUnavailable, desired);
}

function annotationInt(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}
export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => annotationInt(rs, DESIRED_REPLICAS);
export const maxReplicasAnnotation = (rs: ReplicaSet): number | undefined => annotationInt(rs, MAX_REPLICAS);

/** SetReplicasAnnotations; true when something changed. */
export function setReplicasAnnotations(rs: RS, desired: number, max: number): boolean {
  const a = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS] !== String(desired)) (a[DESIRED_REPLICAS] = String(desired)), (changed = true);
  if (a[MAX_REPLICAS] !== String(max)) (a[MAX_REPLICAS] = String(max)), (changed = true);
  return changed;
}

/** SetNewReplicaSetAnnotations; true when the ReplicaSet's annotations changed. */
export function setNewReplicaSetAnnotations(d: Deployment, rs: RS, newRevision: number | bigint, exists: boolean): boolean {
  const a = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIP_COPY.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION];
  if (oldRevision !== undefined && !/^-?\d+$/.test(oldRevision)) return changed;
  const oldInt = oldRevision === undefined ? 0n : BigInt(oldRevision);
  if (oldInt < BigInt(newRevision)) {
    a[REVISION] = String(newRevision);
    changed = true;
    // A template brought back (rollout undo) remembers the revisions it had before.
    if (oldRevision !== undefined && oldRevision !== '') {
      a[REVISION_HISTORY] = a[REVISION_HISTORY] ? `${a[REVISION_HISTORY]},${oldRevision}` : oldRevision;
    }
  }
  if (!exists && setReplicasAnnotations(rs, d.spec?.replicas ?? 1, (d.spec?.replicas ?? 1) + maxSurge(d))) changed = true;
  return changed;
}

// ---- conditions and status ----

export type Condition = Mutable<DeploymentCondition>;

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string): Condition {
  const now = nowIso();
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/** SetDeploymentCondition: keeps lastTransitionTime when the status did not change. */
export function setCondition(status: Mutable<DeploymentStatus>, c: Condition): void {
  const conds = (status.conditions ??= []);
  const i = conds.findIndex((x) => x.type === c.type);
  const cur = i >= 0 ? conds[i] : undefined;
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  if (i >= 0) conds.splice(i, 1);
  conds.push(c);
}

export function removeCondition(status: Mutable<DeploymentStatus>, type: string): void {
  if (status.conditions) status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** calculateStatus: counts from the ReplicaSets and the Available condition. */
export function calculateStatus(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Mutable<DeploymentStatus> {
  const available = sum(allRSs, (rs) => rs.status?.availableReplicas ?? 0);
  const total = sum(allRSs, replicas);
  const status: Mutable<DeploymentStatus> = {
    observedGeneration: d.metadata?.generation,
    replicas: sum(allRSs, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(allRSs, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: structuredClone((d.status?.conditions ?? []) as Condition[]),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= (d.spec?.replicas ?? 1) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
  } else {
    setCondition(status, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
  }
  return status;
}

export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = d.spec?.replicas ?? 1;
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

export const hasProgressDeadline = (d: Deployment): boolean => d.spec?.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== 2147483647;

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === 'NewReplicaSetAvailable') return false;
  if (c.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(c.lastUpdateTime ?? '') || now;
  return from + (d.spec!.progressDeadlineSeconds! * 1000) < now;
}
