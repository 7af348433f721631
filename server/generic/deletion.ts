// What a DELETE does to an object: remove it now, or mark it (deletionTimestamp) and keep it
// while a grace period runs or finalizers are pending — upstream's BeforeDelete rules.
import type { DeleteOptions } from 'kubernetes-types/meta/v1.js';
import type { KubeObject, ResourceDefinition } from '../registry/types.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';

export interface DeletionPlan {
  /** The object to store instead of deleting it; undefined means delete now. */
  object?: KubeObject;
}

export function deletionFor(def: ResourceDefinition, current: KubeObject, options: DeleteOptions): DeletionPlan {
  const obj = structuredClone(current);
  const meta = obj.metadata!;
  const finalizers = new Set(meta.finalizers ?? []);
  const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
  if (policy === 'Orphan') finalizers.add('orphan');
  if (policy === 'Foreground') finalizers.add('foregroundDeletion');
  if (policy === 'Background' || options.orphanDependents === false) finalizers.delete('orphan');
  const namespaceFinalizers = def.kind === 'Namespace' && def.group === '' ? ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []) : [];
  const grace = def.strategy.gracePeriodSeconds?.(current, options) ?? 0;

  if (meta.deletionTimestamp) {
    // Already being deleted: a shorter grace period may bring the deadline forward.
    if (meta.deletionGracePeriodSeconds && grace < meta.deletionGracePeriodSeconds) {
      if (grace === 0 && finalizers.size === 0) return {};
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = nowTimestamp(Date.now() + grace * 1000);
    }
    if (finalizers.size) meta.finalizers = [...finalizers];
    return { object: obj };
  }
  if (grace === 0 && finalizers.size === 0 && namespaceFinalizers.length === 0) return {};
  meta.deletionTimestamp = nowTimestamp(Date.now() + grace * 1000);
  meta.deletionGracePeriodSeconds = grace;
  if (finalizers.size) meta.finalizers = [...finalizers];
  if (def.kind === 'Namespace') obj.status = { ...(obj.status as object), phase: 'Terminating' };
  return { object: obj };
}
