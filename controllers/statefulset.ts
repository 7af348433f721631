// The StatefulSet controller (upstream pkg/controller/statefulset): pods with stable names
// and claims, created and removed in ordinal order (or all at once for Parallel), rolled to
// a new ControllerRevision from the highest ordinal down to the partition.
import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import { isAlreadyExists, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { putStatus } from './status-update.js';
import { claimObjects } from './controller-ref-manager.js';
import { controllerRef, isPodReady } from './controller-utils.js';
import { ensureRevision, revisionsToPrune, templateOf } from './history.js';
import {
  claimsFor, newStatefulSetPod, ordinalOf, planStatefulSet, podRevision, sameStsStatus, statefulSetStatus, type StsAction,
} from './statefulset-utils.js';

const withKind = (s: StatefulSet): StatefulSet => ({ ...s, apiVersion: 'apps/v1', kind: 'StatefulSet' });

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  private readonly queue = new WorkQueue();
  private sets!: Informer<StatefulSet>;
  private pods!: Informer<Pod>;
  private revisions!: Informer<ControllerRevision>;
  private claims!: Informer<PersistentVolumeClaim>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.sets = ctx.informers.for<StatefulSet>('/apis/apps/v1/statefulsets');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.revisions = ctx.informers.for<ControllerRevision>('/apis/apps/v1/controllerrevisions');
    this.claims = ctx.informers.for<PersistentVolumeClaim>('/api/v1/persistentvolumeclaims');
    const enqueue = (s: StatefulSet): void => this.queue.add(keyOf(s));
    this.sets.on('add', enqueue);
    this.sets.on('update', enqueue);
    this.sets.on('delete', enqueue);
    this.pods.on('add', (p) => this.podChanged(p));
    this.pods.on('update', (p, old) => this.podChanged(p, old));
    this.pods.on('delete', (p) => this.podChanged(p));
    await Promise.all([this.sets, this.pods, this.revisions, this.claims].map((i) => i.start(ctx.signal)));
    const recorder = ctx.recorder('statefulset-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key, recorder), ctx.signal, ctx.log);
  }

  private podChanged(pod: Pod, old?: Pod): void {
    for (const p of old ? [pod, old] : [pod]) {
      const ref = controllerRef(p.metadata);
      if (ref?.kind === 'StatefulSet') {
        this.queue.add(`${p.metadata?.namespace}/${ref.name}`);
        continue;
      }
      if (ref) continue;
      // Orphans may be adopted by any set whose selector matches.
      for (const s of this.sets.list(p.metadata?.namespace)) {
        const sel = fromLabelSelector(s.spec?.selector);
        if (sel.length && matchesLabels(sel, p.metadata?.labels)) this.queue.add(keyOf(s));
      }
    }
  }

  async sync(ctx: ControllerContext, key: string, recorder: EventRecorder): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) return;
    const set = withKind(cached);
    const { namespace } = splitKey(key);
    const name = set.metadata!.name!;
    const base = `/apis/apps/v1/namespaces/${namespace}`;
    const podsPath = `/api/v1/namespaces/${namespace}/pods`;
    const candidates = this.pods.list(namespace).filter((p) => ordinalOf(name, p) >= 0 || controllerRef(p.metadata)?.uid === set.metadata?.uid);
    const owned = await claimObjects(set, fromLabelSelector(set.spec?.selector), candidates, {
      client: ctx.client,
      path: podsPath,
      canAdopt: async () => {
        const fresh = await ctx.client.get<StatefulSet>(`${base}/statefulsets/${name}`).catch(() => undefined);
        return fresh?.metadata?.uid === set.metadata?.uid && !fresh?.metadata?.deletionTimestamp;
      },
    });
    const pods = owned.filter((p) => ordinalOf(name, p) >= 0);

    const mine = this.revisions.byOwner(set.metadata!.uid!).filter((r) => controllerRef(r.metadata)?.uid === set.metadata?.uid);
    const { revision: updateRev, collisionCount, revisions } = await ensureRevision(
      ctx.client,
      set,
      set.spec?.template,
      mine,
      set.status?.collisionCount ?? 0,
      set.spec?.template?.metadata?.labels ?? {},
    );
    const updateName = updateRev.metadata!.name!;
    const currentRev = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? updateRev;
    const currentName = currentRev.metadata!.name!;

    let syncError: unknown;
    if (!set.metadata?.deletionTimestamp) {
      const us = set.spec?.updateStrategy;
      const actions = planStatefulSet({
        replicas: set.spec?.replicas ?? 1,
        startOrdinal: set.spec?.ordinals?.start ?? 0,
        parallel: set.spec?.podManagementPolicy === 'Parallel',
        partition: us?.type === 'OnDelete' ? undefined : (us?.rollingUpdate?.partition ?? 0),
        minReadySeconds: set.spec?.minReadySeconds ?? 0,
        updateRevision: updateName,
        pods,
        setName: name,
        now: Date.now(),
      });
      // A claim deleted under a live pod is recreated, as upstream's storage check does.
      const start = set.spec?.ordinals?.start ?? 0;
      for (const p of pods) {
        const ordinal = ordinalOf(name, p);
        if (ordinal >= start + (set.spec?.replicas ?? 1) || p.metadata?.deletionTimestamp || actions.some((a) => a.kind === 'delete' && a.pod === p)) continue;
        const missing = claimsFor(set, ordinal).some((c) => !this.claims.get(`${namespace}/${c.metadata?.name}`));
        if (missing) await this.createClaims(ctx, set, ordinal, p.metadata!.name!, recorder);
      }
      const results = await Promise.allSettled(
        actions.map((a) => this.act(ctx, set, a, a.kind === 'create' && a.revision === 'current' ? currentRev : updateRev, recorder)),
      );
      syncError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    }

    const status = statefulSetStatus(set, pods, currentName, updateName, collisionCount, Date.now());
    if (!sameStsStatus(set.status, status)) {
      await putStatus(ctx.client, `${base}/statefulsets/${name}`, set, status);
    }

    const live = new Set([status.currentRevision!, updateName, ...pods.map(podRevision)]);
    for (const r of revisionsToPrune(revisions, live, set.spec?.revisionHistoryLimit ?? 10)) {
      await ctx.client.delete(`${base}/controllerrevisions/${r.metadata?.name}`).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && pods.some((p) => isPodReady(p)) && status.availableReplicas !== status.readyReplicas) this.queue.addAfter(key, minReady * 1000 + 100);
    if (syncError) throw syncError;
  }

  private async act(ctx: ControllerContext, set: StatefulSet, a: StsAction, rev: ControllerRevision, recorder: EventRecorder): Promise<void> {
    const ns = set.metadata?.namespace;
    const setName = set.metadata?.name;
    if (a.kind === 'create') {
      const template = templateOf(rev) ?? set.spec?.template;
      const pod = newStatefulSetPod(set, template, rev.metadata!.name!, a.ordinal);
      await this.createClaims(ctx, set, a.ordinal, pod.metadata!.name!, recorder);
      try {
        await ctx.client.create(`/api/v1/namespaces/${ns}/pods`, pod);
        recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata?.name} in StatefulSet ${setName} successful`);
      } catch (e) {
        // A pod our cache has not seen yet: the watch will bring it.
        if (isAlreadyExists(e)) return;
        recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata?.name} in StatefulSet ${setName} failed error: ${(e as Error).message}`);
        throw e;
      }
      return;
    }
    const podName = a.pod.metadata?.name;
    try {
      await ctx.client.delete(`/api/v1/namespaces/${ns}/pods/${podName}`, { preconditions: { uid: a.pod.metadata?.uid } });
      recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${setName} successful`);
    } catch (e) {
      if (!isNotFound(e)) {
        recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${setName} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
    if (a.why === 'condemned' && set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') {
      for (const c of claimsFor(set, ordinalOf(setName ?? '', a.pod))) {
        await ctx.client.delete(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${c.metadata?.name}`).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
  }

  /** Claims come before the pod so it never starts without its storage (createPersistentVolumeClaims). */
  private async createClaims(ctx: ControllerContext, set: StatefulSet, ordinal: number, podName: string, recorder: EventRecorder): Promise<void> {
    const ns = set.metadata?.namespace;
    // whenDeleted: Delete hands the claims to the garbage collector along with the set.
    const owner =
      set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete'
        ? { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata!.name!, uid: set.metadata!.uid!, blockOwnerDeletion: true }
        : undefined;
    for (const claim of claimsFor(set, ordinal, owner)) {
      if (this.claims.get(`${ns}/${claim.metadata?.name}`)) continue;
      try {
        await ctx.client.create(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim);
        recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata?.name} Pod ${podName} in StatefulSet ${set.metadata?.name} success`);
      } catch (e) {
        if (isAlreadyExists(e)) continue;
        recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata?.name} for Pod ${podName} in StatefulSet ${set.metadata?.name} failed error: ${(e as Error).message}`);
        throw e;
      }
    }
  }
}
