// pods/binding (the scheduler's write) and pods/eviction (the disruption-budget-aware delete).
import type { Binding, Pod as ReadonlyPod } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../../apimachinery/mutable.js';
type Pod = Mutable<ReadonlyPod>;
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Eviction } from 'kubernetes-types/policy/v1.js';
import type { Store, WriteOptions } from '../generic/store.js';
import type { Registry } from '../generic/registry.js';
import type { KubeObject } from '../registry/types.js';
import { conflict, StatusError } from '../../apimachinery/errors.js';
import { fromLabelSelector, matchesLabels } from '../../apimachinery/labels.js';

export async function bindPod(store: Store, namespace: string, name: string, body: KubeObject, opts: WriteOptions): Promise<void> {
  const binding = body as unknown as Binding;
  const node = binding.target?.name;
  if (!node) throw new StatusError(422, 'Invalid', `Binding.core "${name}" is invalid: target.name: Required value`);
  await store.patch(namespace, name, (cur) => {
    const pod = cur as Pod;
    if (pod.metadata?.deletionTimestamp) throw conflict(store.gr, name, 'pod is being deleted, cannot be assigned to a host');
    if (pod.spec?.nodeName) throw conflict(store.gr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
    pod.spec!.nodeName = node;
    const conditions = (pod.status ??= {}).conditions ?? [];
    if (!conditions.some((c: { type: string }) => c.type === 'PodScheduled')) conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    else for (const c of conditions) if (c.type === 'PodScheduled') Object.assign(c, { status: 'True', reason: undefined, message: undefined });
    pod.status.conditions = conditions;
    if (binding.metadata?.annotations) pod.metadata!.annotations = { ...pod.metadata!.annotations, ...binding.metadata.annotations };
    return pod as KubeObject;
  }, opts, 'binding');
}

/** Deletes the pod unless a PodDisruptionBudget covering it allows no disruption (429, as upstream). */
export async function evictPod(registry: Registry, pods: Store, namespace: string, name: string, body: KubeObject, opts: WriteOptions): Promise<void> {
  const eviction = body as Eviction;
  const pod = (await pods.get(namespace, name)) as Pod;
  const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (!terminal) {
    const pdbStore = registry.store('policy', 'poddisruptionbudgets');
    const cache = await pdbStore.fresh();
    for (const [, entry] of cache.entries(`${namespace}/`)) {
      const pdb = entry.object as PodDisruptionBudget;
      if (!matchesLabels(fromLabelSelector(pdb.spec?.selector), pod.metadata?.labels)) continue;
      if ((pdb.status?.disruptionsAllowed ?? 0) <= 0) {
        throw new StatusError(429, 'TooManyRequests', `Cannot evict pod as it would violate the pod's disruption budget.`, { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata?.name} needs ${pdb.status?.desiredHealthy ?? 0} healthy pods and has ${pdb.status?.currentHealthy ?? 0} currently` }] });
      }
    }
  }
  await pods.delete(namespace, name, eviction.deleteOptions ?? {}, opts);
}
