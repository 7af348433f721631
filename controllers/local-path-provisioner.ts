// The in-tree local-path provisioner: a hostPath PersistentVolume under <data-dir>/volumes for
// each claim of a class whose provisioner is `podium.io/local-path`, and the default
// StorageClass `standard` that uses it.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { ANN_DEFAULT_CLASS, ANN_DYNAMICALLY_PROVISIONED, claimRefFor } from './persistentvolume-logic.js';

export const LOCAL_PATH_PROVISIONER = 'podium.io/local-path';
export const DEFAULT_STORAGE_CLASS = 'standard';

let dataDir = resolve(process.env.PODIUM_DATA_DIR ?? '.podium');

/** Where provisioned volumes live: <dir>/volumes/<pv name>. Set by the controller-manager command. */
export function setLocalPathDataDir(dir: string): void {
  dataDir = resolve(dir);
}

export function localPathDataDir(): string {
  return dataDir;
}

export const volumePath = (pvName: string, dir = dataDir): string => join(dir, 'volumes', pvName);

/**
 * The default class. WaitForFirstConsumer, like kind's and k3s's local-path classes: a hostPath
 * volume lives on one node, so it is created once the scheduler placed the first pod there.
 * Our binder treats a claim as selected once a pod mounting it has spec.nodeName, and our
 * scheduler ignores unbound claims, so StatefulSet pods schedule, then their claims are
 * provisioned and bound within a sync.
 */
export function defaultStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** The PersistentVolume provisioned for a claim (upstream's name: pvc-<claim uid>). */
export function localPathVolume(pvc: PersistentVolumeClaim, sc: StorageClass, node: string | undefined, dir = dataDir): PersistentVolume {
  const name = `pvc-${pvc.metadata?.uid}`;
  const spec: Mutable<NonNullable<PersistentVolume['spec']>> = {
    capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '0' },
    accessModes: [...(pvc.spec?.accessModes ?? ['ReadWriteOnce'])],
    persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
    storageClassName: sc.metadata?.name,
    volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
    hostPath: { path: volumePath(name, dir), type: 'DirectoryOrCreate' },
    claimRef: claimRefFor(pvc),
  };
  if (sc.mountOptions?.length) spec.mountOptions = [...sc.mountOptions];
  if (node) {
    spec.nodeAffinity = {
      required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] },
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER } },
    spec,
  };
}

/** Creates the volume's directory (the controller manager runs on the cluster's machine). */
export function createVolumeDir(pv: PersistentVolume): void {
  const path = pv.spec?.hostPath?.path;
  if (path) mkdirSync(path, { recursive: true });
}

/** Removes a deleted volume's directory, only when it is one of ours (under <data-dir>/volumes). */
export function removeVolumeDir(pv: PersistentVolume, dir = dataDir): boolean {
  const path = pv.spec?.hostPath?.path;
  if (!path || resolve(path) !== volumePath(pv.metadata?.name ?? '', dir)) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}
