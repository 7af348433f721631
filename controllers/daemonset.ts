// The DaemonSet controller (upstream pkg/controller/daemon): one pod per eligible node,
// pinned there by node affinity for the scheduler to bind, replaced node by node within
// maxUnavailable when the template changes.
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { UIDTrackingExpectations } from './framework/expectations.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { putStatus } from './status-update.js';
import { claimObjects } from './controller-ref-manager.js';
import { controllerRef, slowStartBatch } from './controller-utils.js';
import {
  daemonSetStatus, groupByNode, isPodUpdated, newDaemonPod, nodeShouldRunDaemonPod, oldPodsToDelete, rollingParams, sameDsStatus, surgeUpdate,
} from './daemonset-utils.js';
import { CONTROLLER_REVISION_HASH, ensureRevision, revisionsToPrune } from './history.js';

const withKind = (d: DaemonSet): DaemonSet => ({ ...d, apiVersion: 'apps/v1', kind: 'DaemonSet' });

/** What manage() decides for one sync: nodes that need a pod, pods that must go. */
export function daemonSetDiff(ds: DaemonSet, nodes: Node[], byNode: Map<string, Pod[]>, surge?: { hash: string }): { create: string[]; remove: Pod[] } {
  const create: string[] = [];
  const remove: Pod[] = [];
  const known = new Set<string>();
  for (const node of nodes) {
    const name = node.metadata?.name ?? '';
    known.add(name);
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(name) ?? [];
    if (shouldRun && pods.length === 0) create.push(name);
    else if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const p of pods) {
        if (p.metadata?.deletionTimestamp) continue;
        // A finished daemon is replaced: delete now, recreate once the deletion is seen.
        if (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') remove.push(p);
        else running.push(p);
      }
      // Pods are sorted oldest first: the oldest stays, or with surge the oldest of each revision.
      if (!surge) remove.push(...running.slice(1));
      else {
        const keep = [running.find((p) => isPodUpdated(p, surge.hash, ds.metadata?.generation)), running.find((p) => !isPodUpdated(p, surge.hash, ds.metadata?.generation))];
        remove.push(...running.filter((p) => !keep.includes(p)));
      }
    } else {
      remove.push(...pods.filter((p) => !p.metadata?.deletionTimestamp));
    }
  }
  // Pods pinned to nodes that no longer exist can never run.
  for (const [name, pods] of byNode) if (!known.has(name)) remove.push(...pods.filter((p) => !p.metadata?.deletionTimestamp && !p.spec?.nodeName));
  return { create, remove };
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  readonly expectations = new UIDTrackingExpectations();
  private readonly queue = new WorkQueue();
  private sets!: Informer<DaemonSet>;
  private pods!: Informer<Pod>;
  private nodes!: Informer<Node>;
  private revisions!: Informer<ControllerRevision>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.sets = ctx.informers.for<DaemonSet>('/apis/apps/v1/daemonsets');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.nodes = ctx.informers.for<Node>('/api/v1/nodes');
    this.revisions = ctx.informers.for<ControllerRevision>('/apis/apps/v1/controllerrevisions');
    const enqueue = (d: DaemonSet): void => this.queue.add(keyOf(d));
    this.sets.on('add', enqueue);
    this.sets.on('update', enqueue);
    this.sets.on('delete', (d) => {
      this.expectations.deleteExpectations(keyOf(d));
      enqueue(d);
    });
    const all = (): void => this.sets.list().forEach(enqueue);
    this.nodes.on('add', all);
    this.nodes.on('delete', all);
    this.nodes.on('update', (n, old) => {
      const relevant = (x?: Node): string => JSON.stringify([x?.metadata?.labels, x?.spec?.taints, x?.spec?.unschedulable]);
      if (relevant(n) !== relevant(old)) all();
    });
    this.pods.on('add', (p) => {
      if (p.metadata?.deletionTimestamp) return this.podDeleted(p);
      const key = this.ownerKey(p);
      if (key) {
        this.expectations.creationObserved(key);
        this.queue.add(key);
      } else if (!controllerRef(p.metadata)) this.orphan(p);
    });
    this.pods.on('update', (p, old) => {
      if (p.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp) this.podDeleted(p);
      const key = this.ownerKey(p) ?? (old && this.ownerKey(old));
      if (key) {
        this.queue.add(key);
        const minReady = this.sets.get(key)?.spec?.minReadySeconds ?? 0;
        if (minReady > 0) this.queue.addAfter(key, minReady * 1000 + 100);
      } else if (!controllerRef(p.metadata)) this.orphan(p);
    });
    this.pods.on('delete', (p) => this.podDeleted(p));
    await Promise.all([this.sets, this.pods, this.nodes, this.revisions].map((i) => i.start(ctx.signal)));
    const recorder = ctx.recorder('daemonset-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key, recorder), ctx.signal, ctx.log);
  }

  private ownerKey(pod: Pod): string | undefined {
    const ref = controllerRef(pod.metadata);
    if (ref?.kind !== 'DaemonSet') return undefined;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    return this.sets.get(key)?.metadata?.uid === ref.uid ? key : undefined;
  }

  private orphan(pod: Pod): void {
    for (const d of this.sets.list(pod.metadata?.namespace)) {
      const sel = fromLabelSelector(d.spec?.selector);
      if (sel.length && matchesLabels(sel, pod.metadata?.labels)) this.queue.add(keyOf(d));
    }
  }

  private podDeleted(pod: Pod): void {
    const ref = controllerRef(pod.metadata);
    if (ref?.kind !== 'DaemonSet') return;
    const key = `${pod.metadata?.namespace}/${ref.name}`;
    this.expectations.deletionObservedFor(key, keyOf(pod));
    this.queue.add(key);
  }

  async sync(ctx: ControllerContext, key: string, recorder: EventRecorder): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) {
      this.expectations.deleteExpectations(key);
      return;
    }
    const ds = withKind(cached);
    const { namespace } = splitKey(key);
    const name = ds.metadata!.name!;
    const base = `/apis/apps/v1/namespaces/${namespace}`;
    const podsPath = `/api/v1/namespaces/${namespace}/pods`;
    const owned = await claimObjects(ds, fromLabelSelector(ds.spec?.selector), this.pods.list(namespace), {
      client: ctx.client,
      path: podsPath,
      canAdopt: async () => {
        const fresh = await ctx.client.get<DaemonSet>(`${base}/daemonsets/${name}`).catch(() => undefined);
        return fresh?.metadata?.uid === ds.metadata?.uid && !fresh?.metadata?.deletionTimestamp;
      },
    });
    const mine = this.revisions.byOwner(ds.metadata!.uid!).filter((r) => controllerRef(r.metadata)?.uid === ds.metadata?.uid);
    const { revision, revisions, collisionCount } = await ensureRevision(ctx.client, ds, ds.spec?.template, mine, ds.status?.collisionCount ?? 0, ds.spec?.template?.metadata?.labels ?? {}, true);
    const hash = revision.metadata?.labels?.[CONTROLLER_REVISION_HASH] ?? '';
    const nodes = this.nodes.list();
    const byNode = groupByNode(owned);
    const now = Date.now();

    let error: unknown;
    if (this.expectations.satisfiedExpectations(key) && !ds.metadata?.deletionTimestamp) {
      const rolling = ds.spec?.updateStrategy?.type !== 'OnDelete';
      const eligible = new Set(nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).map((n) => n.metadata?.name ?? ''));
      const { maxSurge, maxUnavailable } = rollingParams(ds, eligible.size);
      const surge = rolling && maxSurge > 0;
      const diff = daemonSetDiff(ds, nodes, byNode, surge ? { hash } : undefined);
      if (rolling) {
        const minReady = ds.spec?.minReadySeconds ?? 0;
        const update = surge
          ? surgeUpdate(byNode, eligible, hash, ds.metadata?.generation, maxSurge, minReady, now)
          : { create: [], remove: oldPodsToDelete(byNode, hash, ds.metadata?.generation, maxUnavailable, minReady, now) };
        const seen = new Set(diff.remove.map(keyOf));
        for (const p of update.remove) if (!seen.has(keyOf(p))) diff.remove.push(p);
        for (const n of update.create) if (!diff.create.includes(n)) diff.create.push(n);
      }
      error = await this.syncNodes(ctx, key, ds, diff.create, diff.remove, hash, podsPath, recorder);
    }

    const status = daemonSetStatus(ds, nodes, byNode, hash, now);
    if (collisionCount !== (ds.status?.collisionCount ?? 0)) status.collisionCount = collisionCount;
    if (!sameDsStatus(ds.status, status)) {
      await putStatus(ctx.client, `${base}/daemonsets/${name}`, ds, status);
    }
    const live = new Set([revision.metadata?.name ?? '', ...owned.map((p) => `${name}-${p.metadata?.labels?.[CONTROLLER_REVISION_HASH]}`)]);
    for (const r of revisionsToPrune(revisions, live, ds.spec?.revisionHistoryLimit ?? 10)) {
      await ctx.client.delete(`${base}/controllerrevisions/${r.metadata?.name}`).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.numberReady !== status.numberAvailable) this.queue.addAfter(key, minReady * 1000 + 100);
    if (error) throw error;
  }

  private async syncNodes(
    ctx: ControllerContext,
    key: string,
    ds: DaemonSet,
    create: string[],
    remove: Pod[],
    hash: string,
    podsPath: string,
    recorder: EventRecorder,
  ): Promise<Error | undefined> {
    // Expectations cover both halves at once, so no sync acts on a half-observed change.
    this.expectations.expectDeletionsFor(key, remove.map(keyOf));
    this.expectations.setExpectations(key, create.length, remove.length);
    const queue = [...create];
    const { successes, error } = await slowStartBatch(create.length, 1, async () => {
      const node = queue.shift()!;
      try {
        const created = await ctx.client.create<Pod>(podsPath, newDaemonPod(ds, hash, node));
        recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      } catch (e) {
        recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
        throw e;
      }
    });
    if (create.length - successes > 0) this.expectations.lower(key, create.length - successes, 0);
    const results = await Promise.allSettled(
      remove.map(async (p) => {
        try {
          await ctx.client.delete(`${podsPath}/${p.metadata?.name}`);
          recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
        } catch (e) {
          this.expectations.deletionObservedFor(key, keyOf(p));
          if (isNotFound(e)) return;
          recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return error ?? (failed?.reason as Error | undefined);
  }
}
