// Bootstrap policy reconciliation at API server start (upstream's rbac PostStartHook with
// pkg/registry/rbac/reconciliation in its additive mode): missing default ClusterRoles and
// ClusterRoleBindings are created; existing ones not marked autoupdate "false" gain the
// rules, aggregation selectors, subjects, labels and annotations they lack. Nothing is removed.
import type { ClusterRole, ClusterRoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { StatusError } from '../../../apimachinery/errors.js';
import { logger, type Logger } from '../../../apimachinery/log.js';
import type { Registry } from '../../generic/registry.js';
import type { Store, WriteOptions } from '../../generic/store.js';
import type { KubeObject } from '../../registry/types.js';
import { aggregateAll } from './aggregation.js';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.js';
import { covers } from './escalation.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const WRITE: WriteOptions = { dryRun: false, fieldManager: 'kube-apiserver' };
const MAX_ATTEMPTS = 5;

/** What reconciling one object asks for: an update to `object`, or a delete and re-create (roleRef changed). */
export interface ReconcilePlan<T> { object: T; recreate: boolean }

/** upstream marks an object it must leave alone with autoupdate "false"; anything else is reconciled. */
function isProtected(obj: { metadata?: { annotations?: Record<string, string> } }): boolean {
  return obj.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

/** merge(expected, existing): keys the existing object lacks are added; its own values win. */
function mergeMap(expected: Record<string, string> | undefined, existing: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!expected || Object.keys(expected).length === 0) return existing;
  return { ...expected, ...(existing ?? {}) };
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {}), bk = Object.keys(b ?? {});
  return ak.length === bk.length && ak.every((k) => b?.[k] === a?.[k]);
}

/** Labels and annotations merged into `out`; true when that changed anything. */
function mergeMetadata(out: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }, expected: typeof out): boolean {
  const meta = (out.metadata ??= {});
  const labels = mergeMap(expected.metadata?.labels, meta.labels);
  const annotations = mergeMap(expected.metadata?.annotations, meta.annotations);
  const changed = !sameMap(labels, meta.labels) || !sameMap(annotations, meta.annotations);
  if (labels) meta.labels = labels;
  if (annotations) meta.annotations = annotations;
  return changed;
}

/**
 * upstream computeReconciledRole without removal: missing rules (as the atomic rules Covers
 * reports) and aggregation selectors are appended. Undefined when nothing is to change.
 */
export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): ReconcilePlan<ClusterRole> | undefined {
  if (isProtected(existing)) return undefined;
  const out = structuredClone(existing) as { -readonly [K in keyof ClusterRole]: ClusterRole[K] };
  let changed = mergeMetadata(out, expected);
  const { missing } = covers(existing.rules ?? [], expected.rules ?? []);
  if (missing.length) {
    out.rules = [...(existing.rules ?? []), ...missing];
    changed = true;
  }
  const have: LabelSelector[] = existing.aggregationRule?.clusterRoleSelectors ?? [];
  const missingSelectors = (expected.aggregationRule?.clusterRoleSelectors ?? []).filter((s) => !have.some((h) => JSON.stringify(h) === JSON.stringify(s)));
  if (missingSelectors.length) {
    out.aggregationRule = { ...(existing.aggregationRule ?? {}), clusterRoleSelectors: [...have, ...missingSelectors] };
    changed = true;
  }
  return changed ? { object: out, recreate: false } : undefined;
}

const sameSubject = (a: Subject, b: Subject) =>
  a.kind === b.kind && (a.apiGroup ?? '') === (b.apiGroup ?? '') && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

/**
 * upstream computeReconciledRoleBinding without removal: missing subjects are appended; a
 * different roleRef (immutable) means delete and re-create with the expected one.
 */
export function reconcileClusterRoleBinding(existing: ClusterRoleBinding, expected: ClusterRoleBinding): ReconcilePlan<ClusterRoleBinding> | undefined {
  if (isProtected(existing)) return undefined;
  const out = structuredClone(existing) as { -readonly [K in keyof ClusterRoleBinding]: ClusterRoleBinding[K] };
  let changed = mergeMetadata(out, expected);
  let recreate = false;
  const ref = existing.roleRef, want = expected.roleRef;
  if (ref?.apiGroup !== want.apiGroup || ref?.kind !== want.kind || ref?.name !== want.name) {
    out.roleRef = { ...want };
    recreate = true;
  }
  const have = existing.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => sameSubject(h, s)));
  if (missing.length) {
    out.subjects = [...have, ...missing];
    changed = true;
  }
  return changed || recreate ? { object: out, recreate } : undefined;
}

const code = (e: unknown) => (e instanceof StatusError ? e.code : 0);
const isAlreadyExists = (e: unknown) => e instanceof StatusError && e.reason === 'AlreadyExists';

/** Fresh copy for a create: no server-set metadata from a previous life. */
function forCreate(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {});
  for (const f of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation'] as const) delete meta[f];
  return copy;
}

/** Creates or reconciles one object, retrying when another server races us (AlreadyExists, NotFound). */
async function ensure<T extends { metadata?: { name?: string } }>(
  store: Store, expected: T, reconcile: (existing: T, expected: T) => ReconcilePlan<T> | undefined, log: Logger,
): Promise<void> {
  const name = expected.metadata!.name!;
  const what = `${store.def.plural}.${RBAC_GROUP}/${name}`;
  for (let attempt = 1; ; attempt++) {
    try {
      const entry = (await store.fresh()).get(name);
      if (!entry) {
        await store.create('', expected as unknown as KubeObject, WRITE);
        log.v(1, 'created bootstrap policy object', { object: what });
        return;
      }
      const plan = reconcile(store.out(entry.object) as unknown as T, expected);
      if (!plan) return;
      if (plan.recreate) {
        await store.delete('', name, { preconditions: { uid: entry.object.metadata?.uid } }, WRITE);
        await store.create('', forCreate(plan.object as unknown as KubeObject), WRITE);
        log.info('re-created bootstrap policy object with its default roleRef', { object: what });
        return;
      }
      // guaranteedUpdate re-reads on a conflict, so reconcile again against what it hands us
      await store.guaranteedUpdate('', name, (current) => {
        const again = reconcile(current as unknown as T, expected);
        return again && !again.recreate ? (again.object as unknown as KubeObject) : current;
      }, WRITE);
      log.info('reconciled bootstrap policy object', { object: what });
      return;
    } catch (e) {
      const racing = isAlreadyExists(e) || code(e) === 404 || code(e) === 409;
      if (!racing || attempt >= MAX_ATTEMPTS) throw e;
    }
  }
}

/**
 * Ensures the default ClusterRoles and ClusterRoleBindings. Aggregated roles (admin, edit,
 * view) are written already aggregated from the bootstrap roles, so they are usable before
 * the aggregation controller first runs. Idempotent: a second run changes nothing.
 */
export async function reconcileBootstrapPolicy(registry: Registry, log: Logger = logger('rbac-bootstrap')): Promise<void> {
  const roles = registry.store(RBAC_GROUP, 'clusterroles');
  const bindings = registry.store(RBAC_GROUP, 'clusterrolebindings');
  for (const role of aggregateAll(bootstrapClusterRoles())) await ensure(roles, role, reconcileClusterRole, log);
  for (const binding of bootstrapClusterRoleBindings()) await ensure(bindings, binding, reconcileClusterRoleBinding, log);
  log.v(1, 'bootstrap RBAC policy reconciled');
}
