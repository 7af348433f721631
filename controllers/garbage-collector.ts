// The garbage collector (upstream pkg/controller/garbagecollector): a dependency graph
// built from ownerReferences over informers of every deletable resource type. Dependents
// whose owners are all gone are deleted; an owner deleted in the foreground waits for its
// blocking dependents to go before its foregroundDeletion finalizer is removed; an owner
// deleted with orphan has the references to it removed from its dependents first.
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiClient, isConflict, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { discoverResources, resourcePath, type DiscoveredResource } from './discovery.js';

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';
// Events are many, short-lived and never owners or owned in practice.
const IGNORED = new Set(['events.', 'events.events.k8s.io']);
const REDISCOVERY_MS = 30_000;

type Obj = { apiVersion?: string; kind?: string; metadata?: ObjectMeta };
export type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion';

export type Decision =
  | { action: 'none' }
  | { action: 'removeOwnerRefs'; uids: string[] }
  | { action: 'delete'; propagationPolicy: 'Foreground' | 'Background' | 'Orphan' };

/** attemptToDeleteItem's decision for a dependent, given the state of each of its owners. */
export function decideForDependent(meta: ObjectMeta, owners: { ref: OwnerReference; state: OwnerState }[], hasDependents: boolean): Decision {
  if (!owners.length) return { action: 'none' };
  const solid = owners.filter((o) => o.state === 'solid');
  const dangling = owners.filter((o) => o.state === 'dangling');
  const waiting = owners.filter((o) => o.state === 'waitingForDependentsDeletion');
  if (solid.length) {
    // Still owned: just drop the references to owners that are gone or going.
    const uids = [...dangling, ...waiting].map((o) => o.ref.uid);
    return uids.length ? { action: 'removeOwnerRefs', uids } : { action: 'none' };
  }
  const finalizers = meta.finalizers ?? [];
  if (waiting.length && hasDependents) return { action: 'delete', propagationPolicy: 'Foreground' };
  if (finalizers.includes(ORPHAN)) return { action: 'delete', propagationPolicy: 'Orphan' };
  if (finalizers.includes(FOREGROUND)) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

interface Node {
  res: DiscoveredResource;
  obj: Obj;
}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue = new WorkQueue();
  private readonly nodes = new Map<string, Node>();
  private readonly informers: { res: DiscoveredResource; inf: Informer<Obj> }[] = [];
  private readonly byGroupKind = new Map<string, DiscoveredResource>();
  private readonly absentOwners = new Set<string>();
  private client!: ApiClient;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.client = ctx.client;
    await this.syncMonitors(ctx);
    ctx.log.info('garbage collector synced', { resources: this.informers.length });
    // Types served later (a CRD) join the graph on the next discovery, as upstream's 30 s resync.
    const timer = setInterval(() => {
      this.syncMonitors(ctx).catch((e: Error) => ctx.log.warn('discovery failed', { error: e.message }));
    }, REDISCOVERY_MS);
    timer.unref?.();
    ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    await runWorkers(this.queue, workers, (uid) => this.process(uid), ctx.signal, ctx.log);
  }

  private async syncMonitors(ctx: ControllerContext): Promise<void> {
    const { resources } = await discoverResources(ctx.client);
    for (const r of resources) this.byGroupKind.set(`${r.group}/${r.kind}`, r);
    const known = new Set(this.informers.map((i) => i.inf.listPath));
    const added: Informer<Obj>[] = [];
    for (const res of resources) {
      if (!(res.verbs.includes('list') && res.verbs.includes('watch') && res.verbs.includes('delete'))) continue;
      if (IGNORED.has(`${res.resource}.${res.group}`) || known.has(resourcePath(res))) continue;
      const inf = ctx.informers.for<Obj>(resourcePath(res));
      this.informers.push({ res, inf });
      inf.on('add', (o) => this.observe(res, o));
      inf.on('update', (o) => this.observe(res, o));
      inf.on('delete', (o) => this.removed(o));
      added.push(inf);
    }
    await Promise.all(added.map((inf) => inf.start(ctx.signal)));
  }

  private observe(res: DiscoveredResource, o: Obj): void {
    const uid = o.metadata?.uid;
    if (!uid) return;
    this.nodes.set(uid, { res, obj: o });
    this.absentOwners.delete(uid);
    const m = o.metadata!;
    // Owners present in the graph and not going away need no look: spares a GET per pod status update.
    const suspect = (m.ownerReferences ?? []).some((r) => {
      const owner = this.nodes.get(r.uid)?.obj;
      return !owner || Boolean(owner.metadata?.deletionTimestamp);
    });
    if (suspect) this.queue.add(uid);
    if (m.deletionTimestamp && (m.finalizers?.includes(FOREGROUND) || m.finalizers?.includes(ORPHAN))) this.queue.add(uid);
  }

  private removed(o: Obj): void {
    const uid = o.metadata?.uid;
    if (!uid) return;
    this.nodes.delete(uid);
    for (const d of this.dependents(uid)) this.queue.add(d.metadata!.uid!);
  }

  private dependents(uid: string): Obj[] {
    return this.informers.flatMap((i) => i.inf.byOwner(uid));
  }

  private pathOf(n: Node): string {
    return `${resourcePath(n.res, n.obj.metadata?.namespace)}/${n.obj.metadata?.name}`;
  }

  private async process(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    // Act on the live object, never on a possibly stale cache.
    let live: Obj;
    try {
      live = await this.client.get<Obj>(this.pathOf(node));
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    if (live.metadata?.uid !== uid) return;
    const m = live.metadata!;
    if (m.deletionTimestamp) {
      if (m.finalizers?.includes(ORPHAN)) return this.orphanDependents(node, live);
      if (m.finalizers?.includes(FOREGROUND)) return this.processDeletingDependents(node, live);
      return;
    }
    const owners = await Promise.all((m.ownerReferences ?? []).map(async (ref) => ({ ref, state: await this.ownerState(ref, m.namespace) })));
    const decision = decideForDependent(m, owners, this.dependents(uid).length > 0);
    if (decision.action === 'removeOwnerRefs') {
      await this.patchOwnerRefs(node, live, decision.uids);
    } else if (decision.action === 'delete') {
      try {
        await this.client.delete(this.pathOf(node), { propagationPolicy: decision.propagationPolicy, preconditions: { uid } });
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }

  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    if (this.absentOwners.has(ref.uid)) return 'dangling';
    let owner: Obj | undefined = this.nodes.get(ref.uid)?.obj;
    if (!owner) {
      const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0]! : '';
      const res = this.byGroupKind.get(`${group}/${ref.kind}`);
      if (!res) return 'solid'; // An owner type we cannot look up: never delete on a guess.
      try {
        owner = await this.client.get<Obj>(`${resourcePath(res, namespace)}/${ref.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (!owner || owner.metadata?.uid !== ref.uid) {
        this.absentOwners.add(ref.uid);
        return 'dangling';
      }
    }
    if (owner.metadata?.deletionTimestamp && owner.metadata.finalizers?.includes(FOREGROUND)) return 'waitingForDependentsDeletion';
    return 'solid';
  }

  private async patchOwnerRefs(node: Node, live: Obj, removeUids: string[]): Promise<void> {
    const refs = (live.metadata?.ownerReferences ?? []).filter((r) => !removeUids.includes(r.uid));
    try {
      await this.client.patch(this.pathOf(node), { metadata: { ownerReferences: refs.length ? refs : null, resourceVersion: live.metadata?.resourceVersion } }, 'merge');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async removeFinalizer(node: Node, live: Obj, finalizer: string): Promise<void> {
    const finalizers = (live.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.client.patch(this.pathOf(node), { metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: live.metadata?.resourceVersion } }, 'merge');
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async orphanDependents(node: Node, live: Obj): Promise<void> {
    const uid = live.metadata!.uid!;
    for (const dep of this.dependents(uid)) {
      const dn = this.nodes.get(dep.metadata!.uid!);
      if (!dn) continue;
      const fresh = await this.client.get<Obj>(this.pathOf(dn)).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
      if (fresh) await this.patchOwnerRefs(dn, fresh, [uid]);
    }
    await this.removeFinalizer(node, live, ORPHAN);
  }

  private async processDeletingDependents(node: Node, live: Obj): Promise<void> {
    const uid = live.metadata!.uid!;
    const blocking = this.dependents(uid).filter((d) => d.metadata?.ownerReferences?.some((r) => r.uid === uid && r.blockOwnerDeletion));
    if (blocking.length === 0) return this.removeFinalizer(node, live, FOREGROUND);
    for (const d of blocking) if (!d.metadata?.deletionTimestamp) this.queue.add(d.metadata!.uid!);
    // Dependents' deletions arrive as watch events; poll too in case one is stuck behind a finalizer.
    this.queue.addAfter(uid, 1000);
  }
}
