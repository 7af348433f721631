// The PersistentVolume controller (upstream persistentvolume-binder-controller): binds Pending
// claims to Available volumes, provisions volumes for claims of classes whose provisioner we
// own (podium.io/local-path), releases volumes whose claim is gone and reclaims them, and
// gives classless claims the default StorageClass (upstream's retroactive default class).
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { isAlreadyExists, isNotFound, type ApiClient } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DYNAMICALLY_PROVISIONED, ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER, claimClass, claimRefFor, defaultClass, findBestMatch, podUsesClaim, provisionDecision, reclaimAction, refersTo,
} from './persistentvolume-logic.js';
import {
  createVolumeDir, defaultStorageClass, DEFAULT_STORAGE_CLASS, LOCAL_PATH_PROVISIONER, localPathVolume, removeVolumeDir,
} from './local-path-provisioner.js';

const RESYNC_MS = 15_000;
const claimPath = (ns: string, name: string): string => `/api/v1/namespaces/${ns}/persistentvolumeclaims/${name}`;
const volumePath = (name: string): string => `/api/v1/persistentvolumes/${name}`;
const claimRefObj = (pvc: PersistentVolumeClaim) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: pvc.metadata });
const volumeRefObj = (pv: PersistentVolume) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: pv.metadata });

export class PersistentVolumeBinderController implements Controller {
  readonly name = 'persistentvolume-binder';
  private readonly claimQueue = new WorkQueue();
  private readonly volumeQueue = new WorkQueue();
  private client!: ApiClient;
  private recorder!: EventRecorder;
  private pvs!: Informer<PersistentVolume>;
  private pvcs!: Informer<PersistentVolumeClaim>;
  private classes!: Informer<StorageClass>;
  private pods!: Informer<Pod>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.client = ctx.client;
    this.recorder = ctx.recorder('persistentvolume-controller');
    this.pvs = ctx.informers.for<PersistentVolume>('/api/v1/persistentvolumes');
    this.pvcs = ctx.informers.for<PersistentVolumeClaim>('/api/v1/persistentvolumeclaims');
    this.classes = ctx.informers.for<StorageClass>('/apis/storage.k8s.io/v1/storageclasses');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    const onVolume = (pv: PersistentVolume): void => {
      this.volumeQueue.add(pv.metadata!.name!);
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
    };
    this.pvs.on('add', onVolume);
    this.pvs.on('update', onVolume);
    this.pvs.on('delete', (pv) => {
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
    });
    this.pvcs.on('add', (c) => this.claimQueue.add(keyOf(c)));
    this.pvcs.on('update', (c) => this.claimQueue.add(keyOf(c)));
    this.pvcs.on('delete', (c) => {
      for (const pv of this.pvs.list()) if (pv.spec?.claimRef?.uid === c.metadata?.uid) this.volumeQueue.add(pv.metadata!.name!);
    });
    const onClass = (): void => {
      for (const c of this.pvcs.list()) if (!c.spec?.volumeName) this.claimQueue.add(keyOf(c));
    };
    this.classes.on('add', onClass);
    this.classes.on('update', onClass);
    const onPod = (pod: Pod): void => {
      if (!pod.spec?.nodeName) return;
      for (const v of pod.spec.volumes ?? []) {
        if (v.persistentVolumeClaim?.claimName) this.claimQueue.add(`${pod.metadata!.namespace}/${v.persistentVolumeClaim.claimName}`);
      }
    };
    this.pods.on('add', onPod);
    this.pods.on('update', onPod);
    await Promise.all([this.pvs, this.pvcs, this.classes, this.pods].map((i) => i.start(ctx.signal)));
    await this.ensureDefaultClass(ctx);
    // Upstream's PV controller resyncs every 15 s: bindings that raced settle then.
    const resync = setInterval(() => {
      for (const c of this.pvcs.list()) this.claimQueue.add(keyOf(c));
      for (const v of this.pvs.list()) this.volumeQueue.add(v.metadata!.name!);
    }, RESYNC_MS);
    resync.unref?.();
    ctx.signal.addEventListener('abort', () => clearInterval(resync), { once: true });
    await Promise.all([
      runWorkers(this.claimQueue, workers, (k) => this.syncClaim(k), ctx.signal, ctx.log),
      runWorkers(this.volumeQueue, workers, (k) => this.syncVolume(k), ctx.signal, ctx.log),
    ]);
  }

  /** The `standard` class, created when the controller starts if it is missing. */
  private async ensureDefaultClass(ctx: ControllerContext): Promise<void> {
    if (this.classes.get(DEFAULT_STORAGE_CLASS)) return;
    try {
      await this.client.create('/apis/storage.k8s.io/v1/storageclasses', defaultStorageClass());
      ctx.log.info('created default StorageClass', { name: DEFAULT_STORAGE_CLASS });
    } catch (e) {
      if (!isAlreadyExists(e)) ctx.log.warn('could not create default StorageClass', { error: (e as Error).message });
    }
  }

  // ---- claims ----

  private async syncClaim(key: string): Promise<void> {
    const pvc = this.pvcs.get(key);
    if (!pvc || pvc.metadata?.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    if (pvc.spec?.storageClassName == null && !pvc.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class']) {
      const def = defaultClass(this.classes.list());
      if (def) {
        await this.client.patch(claimPath(namespace!, pvc.metadata!.name!), { spec: { storageClassName: def.metadata!.name } }, 'merge');
        return;
      }
    }
    if (!pvc.spec?.volumeName) return this.syncUnboundClaim(pvc);
    const pv = this.pvs.get(pvc.spec.volumeName);
    if (!pv) {
      if (pvc.status?.phase !== 'Lost' && pvc.metadata?.annotations?.[ANN_BIND_COMPLETED]) {
        await this.setClaimStatus(pvc, { phase: 'Lost' });
        this.recorder.event(claimRefObj(pvc), 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    if (!pv.spec?.claimRef || refersTo(pv, pvc)) return this.bind(pv, pvc);
    if (pvc.status?.phase !== 'Lost') {
      await this.setClaimStatus(pvc, { phase: 'Lost' });
      this.recorder.event(claimRefObj(pvc), 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
    }
  }

  private async syncUnboundClaim(pvc: PersistentVolumeClaim): Promise<void> {
    const match = findBestMatch(pvc, this.pvs.list());
    if (match) return this.bind(match, pvc);
    const sc = this.classes.get(claimClass(pvc));
    const node = this.pods
      .list(pvc.metadata?.namespace)
      .find((p) => p.spec?.nodeName && !p.metadata?.deletionTimestamp && podUsesClaim(p, pvc.metadata!.name!))?.spec?.nodeName;
    const decision = provisionDecision(pvc, sc, [LOCAL_PATH_PROVISIONER], node);
    if (pvc.status?.phase !== 'Pending') await this.setClaimStatus(pvc, { phase: 'Pending' });
    switch (decision.action) {
      case 'wait-for-consumer':
        this.recorder.event(claimRefObj(pvc), 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        return;
      case 'none':
        if (!claimClass(pvc)) {
          this.recorder.event(claimRefObj(pvc), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
        } else if (!sc) {
          this.recorder.event(claimRefObj(pvc), 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${claimClass(pvc)}" not found`);
        }
        return;
      case 'external':
        await this.annotateProvisioner(pvc, decision.provisioner, undefined);
        this.recorder.event(claimRefObj(pvc), 'Normal', 'ExternalProvisioning',
          `Waiting for a volume to be created either by the external provisioner '${decision.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
        return;
      case 'provision':
        return this.provision(pvc, sc!, decision.node);
    }
  }

  private async annotateProvisioner(pvc: PersistentVolumeClaim, provisioner: string, node: string | undefined): Promise<PersistentVolumeClaim> {
    const a = pvc.metadata?.annotations ?? {};
    const want: Record<string, string> = { [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
    if (node && !a[ANN_SELECTED_NODE]) want[ANN_SELECTED_NODE] = node;
    if (Object.entries(want).every(([k, v]) => a[k] === v)) return pvc;
    return this.client.patch(claimPath(pvc.metadata!.namespace!, pvc.metadata!.name!), { metadata: { annotations: want } }, 'merge');
  }

  private async provision(pvc: PersistentVolumeClaim, sc: StorageClass, node: string | undefined): Promise<void> {
    const annotated = await this.annotateProvisioner(pvc, sc.provisioner, node);
    const pv = localPathVolume(annotated, sc, node);
    let created: PersistentVolume;
    try {
      createVolumeDir(pv);
      created = await this.client.create<PersistentVolume>('/api/v1/persistentvolumes', pv);
    } catch (e) {
      if (isAlreadyExists(e)) return; // provisioned before; the volume's events bind it
      this.recorder.event(claimRefObj(pvc), 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata?.name}": ${(e as Error).message}`);
      throw e;
    }
    this.recorder.event(claimRefObj(pvc), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${created.metadata?.name}`);
    await this.bind(created, annotated);
  }

  /** upstream bind(): volume claimRef, volume phase, claim volumeName, claim phase, in that order. */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    let pv = volume;
    const ref = pv.spec?.claimRef;
    const pvAnn = pv.metadata?.annotations ?? {};
    if (!ref || ref.uid !== claim.metadata?.uid) {
      const next = structuredClone(pv) as any;
      next.spec.claimRef = claimRefFor(claim);
      if (!ref) next.metadata.annotations = { ...pvAnn, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      pv = await this.client.update<PersistentVolume>(volumePath(pv.metadata!.name!), next);
    }
    if (pv.status?.phase !== 'Bound') {
      const next = structuredClone(pv) as any;
      next.status = { ...(next.status ?? {}), phase: 'Bound' };
      delete next.status.message;
      delete next.status.reason;
      pv = await this.client.update<PersistentVolume>(`${volumePath(pv.metadata!.name!)}/status`, next);
    }
    let pvc = claim;
    const cAnn = pvc.metadata?.annotations ?? {};
    if (pvc.spec?.volumeName !== pv.metadata?.name || cAnn[ANN_BIND_COMPLETED] !== 'yes') {
      const next = structuredClone(pvc) as any;
      const annotations: Record<string, string> = { ...cAnn, [ANN_BIND_COMPLETED]: 'yes' };
      if (!pvc.spec?.volumeName) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
      next.metadata.annotations = annotations;
      next.spec.volumeName = pv.metadata!.name;
      pvc = await this.client.update<PersistentVolumeClaim>(claimPath(pvc.metadata!.namespace!, pvc.metadata!.name!), next);
    }
    const s = pvc.status;
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
    if (s?.phase !== 'Bound' || !same(s.capacity, pv.spec?.capacity) || !same(s.accessModes, pv.spec?.accessModes)) {
      await this.setClaimStatus(pvc, { phase: 'Bound', capacity: pv.spec?.capacity, accessModes: pv.spec?.accessModes });
    }
  }

  private async setClaimStatus(pvc: PersistentVolumeClaim, status: Record<string, unknown>): Promise<void> {
    const next = structuredClone(pvc) as any;
    next.status = { ...(next.status ?? {}), ...status };
    if (status.phase !== 'Bound') {
      delete next.status.capacity;
      delete next.status.accessModes;
    }
    await this.client.update(`${claimPath(pvc.metadata!.namespace!, pvc.metadata!.name!)}/status`, next);
  }

  // ---- volumes ----

  private async setVolumePhase(pv: PersistentVolume, phase: string, message?: string): Promise<PersistentVolume> {
    const next = structuredClone(pv) as any;
    next.status = { phase, lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    if (message) next.status.message = message;
    return this.client.update<PersistentVolume>(`${volumePath(pv.metadata!.name!)}/status`, next);
  }

  private async syncVolume(name: string): Promise<void> {
    const pv = this.pvs.get(name);
    if (!pv || pv.metadata?.deletionTimestamp) return;
    const ref = pv.spec?.claimRef;
    if (!ref || !ref.uid) {
      if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
      if (pv.status?.phase !== 'Available') await this.setVolumePhase(pv, 'Available');
      return;
    }
    let claim = this.pvcs.get(`${ref.namespace}/${ref.name}`);
    if (!claim || claim.metadata?.uid !== ref.uid) {
      // The cache may lag behind a fresh claim: ask the server before releasing (as upstream).
      try {
        claim = await this.client.get<PersistentVolumeClaim>(claimPath(ref.namespace!, ref.name!));
      } catch (e) {
        if (!isNotFound(e)) throw e;
        claim = undefined;
      }
    }
    if (claim && claim.metadata?.uid === ref.uid) {
      if (claim.spec?.volumeName === name) {
        if (pv.status?.phase !== 'Bound') await this.setVolumePhase(pv, 'Bound');
      } else if (!claim.spec?.volumeName) {
        this.claimQueue.add(keyOf(claim)); // binding in progress
      } else if (pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
        // The claim went to another volume: give this one back.
        const next = structuredClone(pv) as any;
        delete next.spec.claimRef;
        await this.client.update(volumePath(name), next);
      } else if (pv.status?.phase !== 'Released') {
        await this.setVolumePhase(pv, 'Released');
      }
      return;
    }
    // The claim is gone: Released, then the reclaim policy.
    let current = pv;
    if (pv.status?.phase !== 'Released' && pv.status?.phase !== 'Failed') current = await this.setVolumePhase(pv, 'Released');
    await this.reclaim(current);
  }

  private async reclaim(pv: PersistentVolume): Promise<void> {
    const action = reclaimAction(pv);
    if (action === 'retain') return;
    if (action === 'recycle') {
      if (pv.status?.phase !== 'Failed') {
        await this.setVolumePhase(pv, 'Failed', 'no volume plugin matched');
        this.recorder.event(volumeRefObj(pv), 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      }
      return;
    }
    const ours = pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] === LOCAL_PATH_PROVISIONER || removeVolumeDir(pv);
    if (!ours) {
      if (pv.status?.phase !== 'Failed') {
        const msg = `error getting deleter volume plugin for volume "${pv.metadata?.name}": no deletable volume plugin matched`;
        await this.setVolumePhase(pv, 'Failed', msg);
        this.recorder.event(volumeRefObj(pv), 'Warning', 'VolumeFailedDelete', msg);
      }
      return;
    }
    removeVolumeDir(pv);
    try {
      await this.client.delete(volumePath(pv.metadata!.name!), { preconditions: { uid: pv.metadata?.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
