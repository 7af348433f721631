// The ReplicaSet controller (upstream pkg/controller/replicaset): keep spec.replicas active
// pods whose controller is the ReplicaSet, adopting and releasing by selector, and report
// the counts in status.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNamespaceTerminating, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { UIDTrackingExpectations } from './framework/expectations.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { claimObjects } from './controller-ref-manager.js';
import { controllerRef, isPodActive, isPodAvailable, isPodReady, podFromTemplate, podsToDelete, slowStartBatch } from './controller-utils.js';

/** Upstream's BurstReplicas: at most this many creations or deletions per sync. */
export const BURST_REPLICAS = 500;

export type ReplicaDiff = { create: number } | { delete: Pod[] } | { none: true };

/** manageReplicas' decision: how many pods to create, or which to delete. */
export function replicaSetDiff(replicas: number, active: Pod[], related: Pod[] = active): ReplicaDiff {
  const diff = active.length - replicas;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS) };
  if (diff > 0) return { delete: podsToDelete(active, related, Math.min(diff, BURST_REPLICAS)) };
  return { none: true };
}

/**
 * calculateStatus: the counts, plus the ReplicaFailure condition while creating or deleting
 * pods fails (`manageError`), cleared once it works again.
 */
export function calculateReplicaSetStatus(rs: ReplicaSet, active: Pod[], now: number, manageError?: { error: Error; creating: boolean }): Mutable<ReplicaSetStatus> {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const fullyLabeled = active.filter((p) => Object.entries(templateLabels).every(([k, v]) => p.metadata?.labels?.[k] === v));
  const status: Mutable<ReplicaSetStatus> = {
    replicas: active.length,
    fullyLabeledReplicas: fullyLabeled.length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata?.generation,
  };
  const conditions = structuredClone((rs.status?.conditions ?? []) as NonNullable<Mutable<ReplicaSetStatus>['conditions']>);
  const failure = conditions.findIndex((c) => c.type === 'ReplicaFailure');
  if (manageError && failure < 0) {
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      reason: manageError.creating ? 'FailedCreate' : 'FailedDelete',
      message: manageError.error.message,
      lastTransitionTime: new Date(now).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  } else if (!manageError && failure >= 0) {
    conditions.splice(failure, 1);
  }
  if (conditions.length) status.conditions = conditions;
  return status;
}

const sameStatus = (a: ReplicaSetStatus | undefined, b: ReplicaSetStatus): boolean =>
  JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? []) &&
  (a?.replicas ?? 0) === b.replicas &&
  (a?.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas &&
  (a?.readyReplicas ?? 0) === b.readyReplicas &&
  (a?.availableReplicas ?? 0) === b.availableReplicas &&
  a?.observedGeneration === b.observedGeneration;

const withKind = (rs: ReplicaSet): ReplicaSet => ({ ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' });

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly expectations = new UIDTrackingExpectations();
  private readonly queue = new WorkQueue();
  private rsInformer!: Informer<ReplicaSet>;
  private podInformer!: Informer<Pod>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.rsInformer = ctx.informers.for<ReplicaSet>('/apis/apps/v1/replicasets');
    this.podInformer = ctx.informers.for<Pod>('/api/v1/pods');
    const enqueue = (rs: ReplicaSet): void => this.queue.add(keyOf(rs));
    this.rsInformer.on('add', enqueue);
    this.rsInformer.on('update', enqueue);
    this.rsInformer.on('delete', (rs) => {
      this.expectations.deleteExpectations(keyOf(rs));
      enqueue(rs);
    });
    this.podInformer.on('add', (pod) => this.podAdded(pod));
    this.podInformer.on('update', (pod, old) => this.podUpdated(pod, old!));
    this.podInformer.on('delete', (pod) => this.podDeleted(pod));
    await Promise.all([this.rsInformer.start(ctx.signal), this.podInformer.start(ctx.signal)]);
    const recorder = ctx.recorder('replicaset-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key, recorder), ctx.signal, ctx.log);
  }

  private ownerKey(pod: Pod): string | undefined {
    const ref = controllerRef(pod.metadata);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    const rs = this.rsInformer.get(key);
    return rs?.metadata?.uid === ref.uid ? key : undefined;
  }

  private matchingSets(pod: Pod): ReplicaSet[] {
    return this.rsInformer
      .list(pod.metadata?.namespace)
      .filter((rs) => {
        const sel = fromLabelSelector(rs.spec?.selector);
        return sel.length > 0 && matchesLabels(sel, pod.metadata?.labels);
      });
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp) return this.podDeleted(pod);
    const key = this.ownerKey(pod);
    if (key) {
      this.expectations.creationObserved(key);
      this.queue.add(key);
    } else if (!controllerRef(pod.metadata)) {
      for (const rs of this.matchingSets(pod)) this.queue.add(keyOf(rs));
    }
  }

  private podUpdated(pod: Pod, old: Pod): void {
    if (pod.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      // Labels may have changed with the deletion; the old owner needs to hear of it too.
    }
    const labelsChanged = JSON.stringify(pod.metadata?.labels) !== JSON.stringify(old.metadata?.labels);
    const oldRef = controllerRef(old.metadata);
    const newRef = controllerRef(pod.metadata);
    if (oldRef && oldRef.uid !== newRef?.uid) {
      const oldKey = this.ownerKey(old);
      if (oldKey) this.queue.add(oldKey);
    }
    const key = this.ownerKey(pod);
    if (key) {
      this.queue.add(key);
      const rs = this.rsInformer.get(key);
      const minReady = rs?.spec?.minReadySeconds ?? 0;
      // Availability flips minReadySeconds after readiness without any event: look again then.
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(key, minReady * 1000 + 100);
    } else if (!newRef && (labelsChanged || oldRef)) {
      for (const rs of this.matchingSets(pod)) this.queue.add(keyOf(rs));
    }
  }

  private podDeleted(pod: Pod): void {
    const ref = controllerRef(pod.metadata);
    if (ref?.kind !== 'ReplicaSet') return;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    this.expectations.deletionObservedFor(key, keyOf(pod));
    this.queue.add(key);
  }

  async sync(ctx: ControllerContext, key: string, recorder: ReturnType<ControllerContext['recorder']>): Promise<void> {
    const cached = this.rsInformer.get(key);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const rs = withKind(cached);
    const { namespace } = splitKey(key);
    const selector = fromLabelSelector(rs.spec?.selector);
    const needsSync = this.expectations.satisfiedExpectations(key) && !rs.metadata?.deletionTimestamp;
    const podsPath = `/api/v1/namespaces/${namespace}/pods`;
    const candidates = this.podInformer.list(namespace).filter(isPodActive);
    const active = await claimObjects(rs, selector, candidates, {
      client: ctx.client,
      path: podsPath,
      canAdopt: async () => {
        const fresh = await ctx.client.get<ReplicaSet>(`/apis/apps/v1/namespaces/${namespace}/replicasets/${rs.metadata?.name}`).catch(() => undefined);
        return fresh?.metadata?.uid === rs.metadata?.uid && !fresh?.metadata?.deletionTimestamp;
      },
    });
    let manageError: Error | undefined;
    if (needsSync) manageError = await this.manageReplicas(ctx, key, rs, active, podsPath, recorder);

    const creating = active.length < (rs.spec?.replicas ?? 1);
    const status = calculateReplicaSetStatus(rs, active, Date.now(), manageError && { error: manageError, creating });
    if (!sameStatus(rs.status, status)) {
      try {
        await ctx.client.update(`/apis/apps/v1/namespaces/${namespace}/replicasets/${rs.metadata?.name}/status`, { ...rs, status });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(key, minReady * 1000);
    if (manageError) throw manageError;
  }

  private async manageReplicas(
    ctx: ControllerContext,
    key: string,
    rs: ReplicaSet,
    active: Pod[],
    podsPath: string,
    recorder: ReturnType<ControllerContext['recorder']>,
  ): Promise<Error | undefined> {
    const diff = replicaSetDiff(rs.spec?.replicas ?? 1, active);
    if ('create' in diff) {
      this.expectations.expectCreations(key, diff.create);
      const pod = podFromTemplate(rs.spec?.template, rs, `${rs.metadata?.name}-`);
      const { successes, error } = await slowStartBatch(diff.create, 1, async () => {
        try {
          const created = await ctx.client.create<Pod>(podsPath, pod);
          recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
        } catch (e) {
          // The namespace is going away and its pods with it: nothing to create, nothing to report.
          if (isNamespaceTerminating(e)) return this.expectations.lower(key, 1, 0);
          recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
          throw e;
        }
      });
      // Creations never attempted or failed will never be observed.
      const missed = diff.create - successes;
      if (missed > 0) this.expectations.lower(key, missed, 0);
      return error;
    }
    if ('delete' in diff) {
      this.expectations.expectDeletionsFor(key, diff.delete.map(keyOf));
      const results = await Promise.allSettled(
        diff.delete.map(async (p) => {
          try {
            await ctx.client.delete(`${podsPath}/${p.metadata?.name}`);
            recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
          } catch (e) {
            if (isNotFound(e)) return;
            this.expectations.deletionObservedFor(key, keyOf(p));
            recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
            throw e;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      return failed?.reason as Error | undefined;
    }
    return undefined;
  }
}
