import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import {
  claimRefFor, defaultClass, findBestMatch, podUsesClaim, provisionDecision, reclaimAction, volumeSatisfies,
} from '../../controllers/persistentvolume-logic.js';
import {
  createVolumeDir, defaultStorageClass, LOCAL_PATH_PROVISIONER, localPathVolume, removeVolumeDir,
} from '../../controllers/local-path-provisioner.js';

function pv(name: string, storage: string, extra: Partial<NonNullable<PersistentVolume['spec']>> = {}, labels?: Record<string, string>): PersistentVolume {
  return {
    metadata: { name, labels },
    spec: { capacity: { storage }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: `/tmp/${name}` }, ...extra },
    status: { phase: 'Available' },
  };
}

function pvc(extra: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}, annotations?: Record<string, string>): PersistentVolumeClaim {
  return {
    metadata: { name: 'data', namespace: 'default', uid: 'claim-uid', resourceVersion: '7', annotations },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual', ...extra },
  };
}

const sc = (mode: string, provisioner = LOCAL_PATH_PROVISIONER): StorageClass => ({
  metadata: { name: 'standard' }, provisioner, reclaimPolicy: 'Delete', volumeBindingMode: mode,
});

describe('matching volumes to claims', () => {
  test('class, access modes, capacity, volume mode and selector must all fit', () => {
    const claim = pvc();
    expect(volumeSatisfies(pv('a', '1Gi'), claim)).toBe(true);
    expect(volumeSatisfies(pv('a', '512Mi'), claim)).toBe(false);
    expect(volumeSatisfies(pv('a', '5Gi', { storageClassName: 'fast' }), claim)).toBe(false);
    expect(volumeSatisfies(pv('a', '5Gi', { accessModes: ['ReadOnlyMany'] }), claim)).toBe(false);
    expect(volumeSatisfies(pv('a', '5Gi', { accessModes: ['ReadWriteOnce', 'ReadWriteMany'] }), claim)).toBe(true);
    expect(volumeSatisfies(pv('a', '5Gi', { volumeMode: 'Block' }), claim)).toBe(false);
    const selecting = pvc({ selector: { matchLabels: { tier: 'db' } } });
    expect(volumeSatisfies(pv('a', '5Gi', {}, { tier: 'db' }), selecting)).toBe(true);
    expect(volumeSatisfies(pv('a', '5Gi', {}, { tier: 'web' }), selecting)).toBe(false);
  });

  test('the smallest available fit wins; bound and deleting volumes are skipped', () => {
    const bound = pv('bound', '1Gi', { claimRef: { name: 'other', namespace: 'default', uid: 'x' } });
    const deleting = { ...pv('deleting', '1Gi'), metadata: { name: 'deleting', deletionTimestamp: '2024-01-01T00:00:00Z' } };
    const released = { ...pv('released', '1Gi'), status: { phase: 'Released' } };
    const best = findBestMatch(pvc(), [pv('big', '10Gi'), bound, deleting, released, pv('small', '2Gi'), pv('tiny', '100Mi')]);
    expect(best?.metadata?.name).toBe('small');
  });

  test('a volume pre-bound to the claim wins over a smaller one', () => {
    const pre = pv('pre', '10Gi', { claimRef: { name: 'data', namespace: 'default' } });
    expect(findBestMatch(pvc(), [pv('small', '1Gi'), pre])?.metadata?.name).toBe('pre');
  });

  test('the claimRef names the claim with its uid and resourceVersion', () => {
    expect(claimRefFor(pvc())).toEqual({ kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'data', uid: 'claim-uid', resourceVersion: '7' });
  });
});

describe('provisioning decisions', () => {
  const claim = pvc({ storageClassName: 'standard' });
  test('Immediate classes of our provisioner provision at once', () => {
    expect(provisionDecision(claim, sc('Immediate'), [LOCAL_PATH_PROVISIONER], undefined)).toEqual({ action: 'provision', provisioner: LOCAL_PATH_PROVISIONER, node: undefined });
  });
  test('WaitForFirstConsumer waits for a scheduled pod, then provisions on its node', () => {
    expect(provisionDecision(claim, sc('WaitForFirstConsumer'), [LOCAL_PATH_PROVISIONER], undefined)).toEqual({ action: 'wait-for-consumer' });
    expect(provisionDecision(claim, sc('WaitForFirstConsumer'), [LOCAL_PATH_PROVISIONER], 'sim-0')).toEqual({ action: 'provision', provisioner: LOCAL_PATH_PROVISIONER, node: 'sim-0' });
    const selected = pvc({ storageClassName: 'standard' }, { 'volume.kubernetes.io/selected-node': 'sim-1' });
    expect(provisionDecision(selected, sc('WaitForFirstConsumer'), [LOCAL_PATH_PROVISIONER], undefined)).toMatchObject({ action: 'provision', node: 'sim-1' });
  });
  test('other provisioners are external; no class, no provisioner or a selector means no provisioning', () => {
    expect(provisionDecision(claim, sc('Immediate', 'ebs.csi.aws.com'), [LOCAL_PATH_PROVISIONER], undefined)).toEqual({ action: 'external', provisioner: 'ebs.csi.aws.com' });
    expect(provisionDecision(claim, undefined, [LOCAL_PATH_PROVISIONER], undefined).action).toBe('none');
    expect(provisionDecision(claim, sc('Immediate', 'kubernetes.io/no-provisioner'), [LOCAL_PATH_PROVISIONER], undefined).action).toBe('none');
    expect(provisionDecision(pvc({ storageClassName: 'standard', selector: { matchLabels: { a: 'b' } } }), sc('Immediate'), [LOCAL_PATH_PROVISIONER], undefined).action).toBe('none');
  });
  test('pods reference claims through volumes', () => {
    const pod: Pod = { spec: { containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] } };
    expect(podUsesClaim(pod, 'data')).toBe(true);
    expect(podUsesClaim(pod, 'other')).toBe(false);
  });
});

describe('the local-path provisioner and the default class', () => {
  test('the default class is standard, WaitForFirstConsumer, Delete, annotated default', () => {
    const c = defaultStorageClass();
    expect(c).toMatchObject({ metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'podium.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });
    const older: StorageClass = { metadata: { name: 'old', creationTimestamp: '2020-01-01T00:00:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'x' };
    const newer: StorageClass = { ...older, metadata: { ...older.metadata, name: 'new', creationTimestamp: '2024-01-01T00:00:00Z' } };
    expect(defaultClass([older, newer, { metadata: { name: 'plain' }, provisioner: 'x' }])?.metadata?.name).toBe('new');
    expect(defaultClass([{ metadata: { name: 'plain' }, provisioner: 'x' }])).toBeUndefined();
  });

  test('a provisioned volume mirrors the claim, lives under <data-dir>/volumes and is pinned to the node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podium-pv-'));
    const claim = pvc({ storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } });
    const v = localPathVolume(claim, sc('WaitForFirstConsumer'), 'sim-0', dir);
    expect(v.metadata?.name).toBe('pvc-claim-uid');
    expect(v.spec).toMatchObject({
      capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'standard',
      hostPath: { path: join(dir, 'volumes', 'pvc-claim-uid'), type: 'DirectoryOrCreate' },
      claimRef: { name: 'data', namespace: 'default', uid: 'claim-uid' },
    });
    expect(v.spec?.nodeAffinity?.required?.nodeSelectorTerms[0].matchExpressions?.[0]).toEqual({ key: 'kubernetes.io/hostname', operator: 'In', values: ['sim-0'] });
    expect(localPathVolume(claim, sc('Immediate'), undefined, dir).spec?.nodeAffinity).toBeUndefined();
    createVolumeDir(v);
    expect(existsSync(v.spec!.hostPath!.path)).toBe(true);
    expect(removeVolumeDir(v, dir)).toBe(true);
    expect(existsSync(v.spec!.hostPath!.path)).toBe(false);
    // A hostPath outside our volumes directory is never removed.
    expect(removeVolumeDir(pv('x', '1Gi'), dir)).toBe(false);
  });

  test('reclaim policies', () => {
    expect(reclaimAction(pv('a', '1Gi', { persistentVolumeReclaimPolicy: 'Delete' }))).toBe('delete');
    expect(reclaimAction(pv('a', '1Gi', { persistentVolumeReclaimPolicy: 'Retain' }))).toBe('retain');
    expect(reclaimAction(pv('a', '1Gi'))).toBe('retain');
  });
});
