// Pure decisions of the PersistentVolume controller (upstream pkg/controller/volume/persistentvolume):
// which Available volume satisfies a claim, whether a claim should be provisioned, and the
// objects a bind writes. No I/O here; persistentvolume-binder.ts applies them.
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import { parseQuantity } from '../server/registry/quantity.js';

export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** The class name a claim asks for ("" means explicitly no class). */
export function claimClass(pvc: PersistentVolumeClaim): string {
  return pvc.spec?.storageClassName ?? pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

export function volumeClass(pv: PersistentVolume): string {
  return pv.spec?.storageClassName ?? pv.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '';
}

export function isDefaultClass(sc: StorageClass): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[ANN_DEFAULT_CLASS] === 'true' || a[ANN_BETA_DEFAULT_CLASS] === 'true';
}

/** Upstream's GetDefaultClass: among default classes, the newest (then name order). */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter(isDefaultClass);
  defaults.sort((a, b) => {
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? 1 : -1;
    return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1;
  });
  return defaults[0];
}

export function claimRequest(pvc: PersistentVolumeClaim): number {
  return parseQuantity(pvc.spec?.resources?.requests?.storage) ?? 0;
}

export function volumeCapacity(pv: PersistentVolume): number {
  return parseQuantity(pv.spec?.capacity?.storage) ?? 0;
}

const volumeMode = (m: string | undefined): string => m ?? 'Filesystem';

/** Whether a volume's spec satisfies a claim (ignoring its phase and claimRef). */
export function volumeSatisfies(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  if (volumeClass(pv) !== claimClass(pvc)) return false;
  if (volumeMode(pv.spec?.volumeMode) !== volumeMode(pvc.spec?.volumeMode)) return false;
  const modes = new Set(pv.spec?.accessModes ?? []);
  if (!(pvc.spec?.accessModes ?? []).every((m) => modes.has(m))) return false;
  if (volumeCapacity(pv) < claimRequest(pvc)) return false;
  if (pvc.spec?.selector && !matchesLabels(fromLabelSelector(pvc.spec.selector), pv.metadata?.labels ?? {})) return false;
  return true;
}

/** A claimRef pointing at this claim (uid matches, or the ref has no uid yet: pre-bound by name). */
export function refersTo(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || (ref.namespace ?? '') !== (pvc.metadata?.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

/**
 * upstream findBestMatchForClaim: a volume pre-bound to the claim wins; otherwise the smallest
 * unbound, not-being-deleted volume that satisfies it. Volumes of a WaitForFirstConsumer class
 * are only considered once a node was selected (node affinity is not checked further here).
 */
export function findBestMatch(pvc: PersistentVolumeClaim, volumes: PersistentVolume[]): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const pv of volumes) {
    if (pv.metadata?.deletionTimestamp) continue;
    if (refersTo(pv, pvc)) {
      if (volumeSatisfies(pv, pvc)) return pv;
      continue;
    }
    if (pv.spec?.claimRef) continue;
    if (pv.status?.phase && pv.status.phase !== 'Available' && pv.status.phase !== 'Pending') continue;
    if (!volumeSatisfies(pv, pvc)) continue;
    if (!best || volumeCapacity(pv) < volumeCapacity(best)) best = pv;
  }
  return best;
}

/** Whether a pod (scheduled or not) mounts the claim. */
export function podUsesClaim(pod: Pod, claimName: string): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName);
}

export type ProvisionDecision =
  | { action: 'none'; reason: string }
  | { action: 'wait-for-consumer' }
  | { action: 'external'; provisioner: string }
  | { action: 'provision'; provisioner: string; node?: string };

/**
 * What to do for an unbound claim no existing volume satisfies (upstream provisionClaim and
 * the WaitForFirstConsumer check). `scheduledNode` is the node of a scheduled pod using the
 * claim (our scheduler does not set selected-node, so we derive it).
 */
export function provisionDecision(
  pvc: PersistentVolumeClaim,
  sc: StorageClass | undefined,
  ownedProvisioners: string[],
  scheduledNode: string | undefined,
): ProvisionDecision {
  if (pvc.spec?.volumeName) return { action: 'none', reason: 'claim names a volume' };
  if (pvc.spec?.selector) return { action: 'none', reason: 'claims with a selector are not provisioned' };
  if (!sc) return { action: 'none', reason: 'no storage class' };
  const provisioner = sc.provisioner;
  if (!provisioner || provisioner === 'kubernetes.io/no-provisioner') return { action: 'none', reason: 'class has no provisioner' };
  const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE] ?? scheduledNode;
  if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !selected) return { action: 'wait-for-consumer' };
  if (!ownedProvisioners.includes(provisioner)) return { action: 'external', provisioner };
  return { action: 'provision', provisioner, node: selected };
}

/** The claimRef written into a volume bound to this claim. */
export function claimRefFor(pvc: PersistentVolumeClaim): NonNullable<PersistentVolume['spec']>['claimRef'] {
  return {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    namespace: pvc.metadata?.namespace,
    name: pvc.metadata?.name,
    uid: pvc.metadata?.uid,
    resourceVersion: pvc.metadata?.resourceVersion,
  };
}

/** What a Released volume's reclaim policy asks for. */
export function reclaimAction(pv: PersistentVolume): 'delete' | 'retain' | 'recycle' {
  const p = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
  return p === 'Delete' ? 'delete' : p === 'Recycle' ? 'recycle' : 'retain';
}
