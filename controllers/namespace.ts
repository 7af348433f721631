// The namespace controller (upstream pkg/controller/namespace/deletion): a namespace being
// deleted is emptied of every namespaced resource, its status conditions tell what is
// left, and once empty the "kubernetes" finalizer is removed so the namespace goes away.
import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';
import { nowIso } from './controller-utils.js';
import { discoverResources, resourcePath, type DiscoveredResource } from './discovery.js';

export const FINALIZER_KUBERNETES = 'kubernetes';

interface Remaining {
  /** "pods." style group resource -> instances left. */
  resources: Map<string, number>;
  /** finalizer -> instances carrying it. */
  finalizers: Map<string, number>;
  errors: string[];
}

const fmt = (m: Map<string, number>, what: string): string =>
  [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} has ${n} ${what}`).join(', ');

/** The deletion conditions upstream keeps on a terminating namespace. */
export function namespaceConditions(r: Remaining, discoveryFailed: string[]): Mutable<NamespaceCondition>[] {
  const c = (type: string, bad: boolean, badReason: string, badMsg: string, goodReason: string, goodMsg: string): Mutable<NamespaceCondition> => ({
    type,
    status: bad ? 'True' : 'False',
    reason: bad ? badReason : goodReason,
    message: bad ? badMsg : goodMsg,
    lastTransitionTime: nowIso(),
  });
  return [
    c('NamespaceDeletionDiscoveryFailure', discoveryFailed.length > 0, 'DiscoveryFailed', `Discovery failed for some groups: ${discoveryFailed.join(', ')}`, 'ResourcesDiscovered', 'All resources successfully discovered'),
    c('NamespaceDeletionGroupVersionParsingFailure', false, 'GroupVersionParsingFailed', '', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'),
    c('NamespaceDeletionContentFailure', r.errors.length > 0, 'ContentDeletionFailed', `Failed to delete all resource types, ${r.errors.length} remaining: ${r.errors.join(', ')}`, 'ContentDeleted', 'All content successfully deleted, may be waiting on finalization'),
    c('NamespaceContentRemaining', r.resources.size > 0, 'SomeResourcesRemain', `Some resources are remaining: ${fmt(r.resources, 'resource instances')}`, 'ContentRemoved', 'All content successfully removed'),
    c('NamespaceFinalizersRemaining', r.finalizers.size > 0, 'SomeFinalizersRemain', `Some content in the namespace has finalizers remaining: ${fmt(r.finalizers, 'resource instances')}`, 'ContentHasNoFinalizers', 'All content-preserving finalizers finished'),
  ];
}

/** Which discovered resources the deleter empties: namespaced, listable and deletable. */
export function deletableResources(all: DiscoveredResource[]): DiscoveredResource[] {
  return all.filter((r) => r.namespaced && r.verbs.includes('list') && (r.verbs.includes('deletecollection') || r.verbs.includes('delete')));
}

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly queue = new WorkQueue();

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    const nsInformer = ctx.informers.for<Namespace>('/api/v1/namespaces');
    const onNs = (ns: Namespace): void => {
      if (ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name!);
    };
    nsInformer.on('add', onNs);
    nsInformer.on('update', onNs);
    await nsInformer.start(ctx.signal);
    await runWorkers(
      this.queue,
      workers,
      async (name) => {
        const left = await this.syncNamespace(ctx, name);
        // Content with grace periods or finalizers goes away on its own time: look again soon.
        if (left) this.queue.addAfter(name, 2000);
      },
      ctx.signal,
      ctx.log,
    );
  }

  /** Returns true when content remains. */
  async syncNamespace(ctx: ControllerContext, name: string): Promise<boolean> {
    let ns: Mutable<Namespace>;
    try {
      ns = await ctx.client.get<Mutable<Namespace>>(`/api/v1/namespaces/${name}`);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    if (!ns.metadata?.deletionTimestamp) return false;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return false;
    const { resources, failed } = await discoverResources(ctx.client);
    const remaining: Remaining = { resources: new Map(), finalizers: new Map(), errors: [] };
    for (const r of deletableResources(resources)) {
      const path = resourcePath(r, name);
      try {
        if (r.verbs.includes('deletecollection')) await ctx.client.delete(path);
        else {
          const list = await ctx.client.list<{ metadata?: { name?: string } }>(path);
          await Promise.all(list.items.map((o) => ctx.client.delete(`${path}/${o.metadata?.name}`).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)))));
        }
        const left = await ctx.client.list<{ metadata?: { finalizers?: string[] } }>(path);
        if (left.items.length) {
          remaining.resources.set(`${r.resource}.${r.group}`, left.items.length);
          for (const o of left.items) for (const f of o.metadata?.finalizers ?? []) remaining.finalizers.set(f, (remaining.finalizers.get(f) ?? 0) + 1);
        }
      } catch (e) {
        if (isNotFound(e)) continue;
        remaining.errors.push(`${r.resource}.${r.group}: ${(e as Error).message}`);
      }
    }
    const conditions = namespaceConditions(remaining, failed);
    if (JSON.stringify(conditions.map(({ lastTransitionTime: _t, ...c }) => c)) !== JSON.stringify((ns.status?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c))) {
      try {
        ns = await ctx.client.update<Mutable<Namespace>>(`/api/v1/namespaces/${name}/status`, { ...ns, status: { ...ns.status, conditions } });
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    }
    if (remaining.resources.size > 0 || remaining.errors.length > 0 || failed.length > 0) {
      if (remaining.errors.length) throw new Error(`namespace ${name}: ${remaining.errors.join('; ')}`);
      return true;
    }
    const finalizers = (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES);
    try {
      await ctx.client.update(`/api/v1/namespaces/${name}/finalize`, { ...ns, apiVersion: 'v1', kind: 'Namespace', spec: { ...ns.spec, finalizers } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    return false;
  }
}
