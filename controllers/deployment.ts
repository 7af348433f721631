// The Deployment controller (upstream pkg/controller/deployment): one ReplicaSet per pod
// template, named <deployment>-<pod-template-hash>; rollouts move replicas from old
// ReplicaSets to the new one within maxSurge/maxUnavailable (or all at once, Recreate).
import type { Deployment, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isAlreadyExists, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { claimObjects } from './controller-ref-manager.js';
import { controllerRef, newControllerRef } from './controller-utils.js';
import { isScalingEvent, newRSNewReplicas, reconcileNewReplicaSet, reconcileOldReplicaSets, scalePlan, type ScaleOp } from './deployment-rolling.js';
import {
  byCreation, calculateStatus, canonical, computeHash, deploymentComplete, deploymentProgressing, deploymentTimedOut, desiredReplicasAnnotation,
  equalIgnoreHash, filterActive, findNewReplicaSet, findOldReplicaSets, getCondition, hasProgressDeadline, maxSurge, nextRevision, revisionBig, newCondition,
  POD_TEMPLATE_HASH, removeCondition, replicas, REVISION, setCondition, setNewReplicaSetAnnotations, setReplicasAnnotations, type RS,
} from './deployment-util.js';

type D = Mutable<Deployment>;
const withKind = (d: Deployment): D => ({ ...(structuredClone(d) as D), apiVersion: 'apps/v1', kind: 'Deployment' });
const rsKind = (rs: ReplicaSet): RS => ({ ...(structuredClone(rs) as RS), apiVersion: 'apps/v1', kind: 'ReplicaSet' });

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly queue = new WorkQueue();
  private dInformer!: Informer<Deployment>;
  private rsInformer!: Informer<ReplicaSet>;
  private podInformer!: Informer<Pod>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.dInformer = ctx.informers.for<Deployment>('/apis/apps/v1/deployments');
    this.rsInformer = ctx.informers.for<ReplicaSet>('/apis/apps/v1/replicasets');
    this.podInformer = ctx.informers.for<Pod>('/api/v1/pods');
    const enqueue = (d: Deployment): void => this.queue.add(keyOf(d));
    this.dInformer.on('add', enqueue);
    this.dInformer.on('update', enqueue);
    this.dInformer.on('delete', enqueue);
    const onRS = (rs: ReplicaSet, old?: ReplicaSet): void => {
      for (const k of new Set([...this.ownersOf(rs), ...(old ? this.ownersOf(old) : [])])) this.queue.add(k);
    };
    this.rsInformer.on('add', (rs) => onRS(rs));
    this.rsInformer.on('update', onRS);
    this.rsInformer.on('delete', (rs) => onRS(rs));
    // Recreate waits for old pods to be gone; their deletion must wake it up.
    this.podInformer.on('delete', (pod) => {
      const ref = controllerRef(pod.metadata);
      const rs = ref?.kind === 'ReplicaSet' ? this.rsInformer.get(`${pod.metadata?.namespace}/${ref.name}`) : undefined;
      if (rs) for (const k of this.ownersOf(rs)) this.queue.add(k);
    });
    await Promise.all([this.dInformer.start(ctx.signal), this.rsInformer.start(ctx.signal), this.podInformer.start(ctx.signal)]);
    const recorder = ctx.recorder('deployment-controller');
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key, recorder), ctx.signal, ctx.log);
  }

  /** The deployment controlling rs, or for an orphan, every deployment whose selector matches it. */
  private ownersOf(rs: ReplicaSet): string[] {
    const ns = rs.metadata?.namespace;
    const ref = controllerRef(rs.metadata);
    if (ref) return ref.kind === 'Deployment' ? [`${ns}/${ref.name}`] : [];
    return this.dInformer
      .list(ns)
      .filter((d) => {
        const sel = fromLabelSelector(d.spec?.selector);
        return sel.length > 0 && matchesLabels(sel, rs.metadata?.labels);
      })
      .map(keyOf);
  }

  async sync(ctx: ControllerContext, key: string, recorder: EventRecorder): Promise<void> {
    const cached = this.dInformer.get(key);
    if (!cached) return;
    const d = withKind(cached);
    const { namespace } = splitKey(key);
    const selector = fromLabelSelector(d.spec?.selector);
    if (selector.length === 0) {
      recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const rsPath = `/apis/apps/v1/namespaces/${namespace}/replicasets`;
    const owned = await claimObjects(d, selector, this.rsInformer.list(namespace), {
      client: ctx.client,
      path: rsPath,
      canAdopt: async () => {
        const fresh = await ctx.client.get<Deployment>(`/apis/apps/v1/namespaces/${namespace}/deployments/${d.metadata?.name}`).catch(() => undefined);
        return fresh?.metadata?.uid === d.metadata?.uid && !fresh?.metadata?.deletionTimestamp;
      },
    });
    const s = new DeploymentSync(ctx, recorder, d, owned.map(rsKind), this.podInformer, this.queue);
    if (d.metadata?.deletionTimestamp) return s.syncStatusOnly();
    await s.checkPausedConditions();
    if (d.spec?.paused) return s.syncScale();
    const newRS = findNewReplicaSet(d, s.rsList);
    if (isScalingEvent(d, filterActive([...findOldReplicaSets(s.rsList, newRS), newRS]))) return s.syncScale();
    if (d.spec?.strategy?.type === 'Recreate') return s.rolloutRecreate();
    return s.rolloutRolling();
  }
}

/** One sync of one deployment: the steps of upstream's sync.go, rolling.go and recreate.go. */
class DeploymentSync {
  private readonly path: string;
  private readonly rsPath: string;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly recorder: EventRecorder,
    private readonly d: D,
    readonly rsList: RS[],
    private readonly pods: Informer<Pod>,
    private readonly queue: WorkQueue,
  ) {
    const ns = d.metadata?.namespace;
    this.path = `/apis/apps/v1/namespaces/${ns}/deployments/${d.metadata?.name}`;
    this.rsPath = `/apis/apps/v1/namespaces/${ns}/replicasets`;
  }

  async syncStatusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(false);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  async checkPausedConditions(): Promise<void> {
    if (!hasProgressDeadline(this.d)) return;
    const cond = getCondition(this.d.status, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const paused = Boolean(this.d.spec?.paused);
    const status = (this.d.status ??= {});
    if (paused && cond?.reason !== 'DeploymentPaused') setCondition(status, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
    else if (!paused && cond?.reason === 'DeploymentPaused') setCondition(status, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    else return;
    await this.updateStatus(status);
  }

  async syncScale(): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(false);
    await this.applyScale(scalePlan(this.d, newRS, oldRSs));
    const desired = this.d.spec?.replicas ?? 1;
    // Sizes unchanged but sized for another deployment size: record the new size.
    for (const rs of filterActive([...oldRSs, newRS])) if (desiredReplicasAnnotation(rs) !== desired) await this.scaleReplicaSet(rs, replicas(rs));
    if (this.d.spec?.paused) await this.cleanupDeployment(oldRSs);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  async rolloutRolling(): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSets(true);
    const allRSs = [...oldRSs, newRS!];
    const up = reconcileNewReplicaSet(this.d, allRSs, newRS!);
    if (up) {
      await this.applyScale([up]);
      return this.syncRolloutStatus(allRSs, newRS);
    }
    const down = reconcileOldReplicaSets(this.d, oldRSs, newRS);
    if (down.length) {
      await this.applyScale(down);
      return this.syncRolloutStatus(allRSs, newRS);
    }
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(oldRSs);
    return this.syncRolloutStatus(allRSs, newRS);
  }

  async rolloutRecreate(): Promise<void> {
    let { newRS, oldRSs } = await this.getAllReplicaSets(false);
    const activeOld = filterActive(oldRSs);
    if (activeOld.length) {
      await this.applyScale(activeOld.map((rs) => ({ rs, to: 0 })));
      return this.syncRolloutStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
    }
    const oldPodsRunning = oldRSs.some((rs) =>
      this.pods.byOwner(rs.metadata!.uid!).some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'),
    );
    if (oldPodsRunning) return this.syncRolloutStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSets(true));
    const desired = this.d.spec?.replicas ?? 1;
    if (replicas(newRS) !== desired) await this.applyScale([{ rs: newRS!, to: desired }]);
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanupDeployment(oldRSs);
    return this.syncRolloutStatus([...oldRSs, newRS!], newRS);
  }

  private async applyScale(ops: ScaleOp[]): Promise<void> {
    for (const op of ops) await this.scaleReplicaSet(op.rs as RS, op.to);
  }

  /** scaleReplicaSet: new size plus the desired/max annotations, and a ScalingReplicaSet event. */
  private async scaleReplicaSet(rs: RS, to: number): Promise<void> {
    const from = replicas(rs);
    const desired = this.d.spec?.replicas ?? 1;
    const annotationsChanged = setReplicasAnnotations(rs, desired, desired + maxSurge(this.d));
    if (from === to && !annotationsChanged) return;
    (rs.spec ??= { selector: {} }).replicas = to;
    const updated = await this.ctx.client.update<RS>(`${this.rsPath}/${rs.metadata?.name}`, rs);
    Object.assign(rs, rsKind(updated));
    if (from !== to) {
      this.recorder.event(this.d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata?.name} from ${from} to ${to}`);
    }
  }

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked) and the old ones. */
  private async getAllReplicaSets(create: boolean): Promise<{ newRS?: RS; oldRSs: RS[] }> {
    const existing = findNewReplicaSet(this.d, this.rsList);
    const oldRSs = findOldReplicaSets(this.rsList, existing);
    const newRevision = nextRevision(oldRSs);
    if (existing) {
      const changed = setNewReplicaSetAnnotations(this.d, existing, newRevision, true);
      const minReady = this.d.spec?.minReadySeconds ?? 0;
      if (changed || (existing.spec?.minReadySeconds ?? 0) !== minReady) {
        existing.spec!.minReadySeconds = minReady;
        Object.assign(existing, rsKind(await this.ctx.client.update<RS>(`${this.rsPath}/${existing.metadata?.name}`, existing)));
      }
      await this.setDeploymentRevision(revisionBig(existing));
      if (hasProgressDeadline(this.d) && !getCondition(this.d.status, 'Progressing')) {
        const status = (this.d.status ??= {});
        setCondition(status, newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${existing.metadata?.name}"`));
        await this.updateStatus(status);
      }
      return { newRS: existing, oldRSs };
    }
    if (!create) return { oldRSs };
    return { newRS: await this.createNewReplicaSet(oldRSs, newRevision), oldRSs };
  }

  private async createNewReplicaSet(oldRSs: RS[], newRevision: bigint): Promise<RS> {
    const d = this.d;
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    const template = structuredClone(d.spec!.template) as Mutable<PodTemplateSpec>;
    ((template.metadata ??= {}).labels ??= {})[POD_TEMPLATE_HASH] = hash;
    const selector = structuredClone((d.spec?.selector ?? {}) as NonNullable<RS['spec']>['selector']);
    (selector.matchLabels ??= {})[POD_TEMPLATE_HASH] = hash;
    const rs: RS = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `${d.metadata?.name}-${hash}`, namespace: d.metadata?.namespace, labels: template.metadata!.labels, ownerReferences: [newControllerRef(d)] },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds, selector, template },
    };
    rs.spec!.replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: RS;
    try {
      created = rsKind(await this.ctx.client.create<RS>(this.rsPath, rs));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const found = rsKind(await this.ctx.client.get<RS>(`${this.rsPath}/${rs.metadata!.name}`));
      if (controllerRef(found.metadata)?.uid === d.metadata?.uid && equalIgnoreHash(found.spec?.template, d.spec?.template)) {
        created = found;
      } else {
        // A hash collision: bump collisionCount so the next hash differs (upstream's answer too).
        const status = (d.status ??= {});
        status.collisionCount = (status.collisionCount ?? 0) + 1;
        await this.updateStatus(status);
        throw new Error(`hash collision for replica set ${rs.metadata!.name}`);
      }
    }
    this.rsList.push(created);
    const n = replicas(created);
    if (n > 0) this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata?.name} from 0 to ${n}`);
    await this.setDeploymentRevision(newRevision);
    if (hasProgressDeadline(d)) {
      const status = (d.status ??= {});
      setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${created.metadata?.name}"`));
      await this.updateStatus(status);
    }
    return created;
  }

  /**
   * SetDeploymentRevision plus the status write that carries it: as upstream, the annotation
   * goes through the status subresource so it does not bump the deployment's generation.
   */
  private async setDeploymentRevision(revision: bigint): Promise<void> {
    const annotations = ((this.d.metadata ??= {}).annotations ??= {});
    if (annotations[REVISION] === String(revision)) return;
    annotations[REVISION] = String(revision);
    await this.updateStatus(this.d.status ?? {});
  }

  private async updateStatus(status: Mutable<DeploymentStatus>): Promise<void> {
    try {
      const updated = await this.ctx.client.update<Deployment>(`${this.path}/status`, { ...this.d, status });
      this.d.metadata!.resourceVersion = updated.metadata?.resourceVersion;
      this.d.status = status;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  private async syncDeploymentStatus(allRSs: RS[], newRS: RS | undefined): Promise<void> {
    const status = calculateStatus(this.d, allRSs, newRS);
    if (canonical(status) !== canonical(this.d.status)) await this.updateStatus(status);
  }

  /** syncRolloutStatus: the counts plus the Progressing condition and its deadline. */
  private async syncRolloutStatus(allRSs: RS[], newRS: RS | undefined): Promise<void> {
    const d = this.d;
    const status = calculateStatus(d, allRSs, newRS);
    const now = Date.now();
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const cur = getCondition(d.status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
    const name = newRS?.metadata?.name;
    if (hasProgressDeadline(d) && !complete) {
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${name}" has successfully progressed.`));
      } else if (deploymentProgressing(d, status)) {
        const c = newCondition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${name}" is progressing.`);
        // Progress moves the deadline (lastUpdateTime) but is no transition.
        if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, c);
      } else if (deploymentTimedOut(d, status, now)) {
        setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${name}" has timed out progressing.`));
      }
    }
    if (canonical(status) !== canonical(d.status)) await this.updateStatus(status);
    // requeueStuckDeployment: look again when the deadline would pass.
    const c = getCondition(status, 'Progressing');
    if (hasProgressDeadline(d) && c && c.reason !== 'NewReplicaSetAvailable' && c.reason !== 'ProgressDeadlineExceeded' && !deploymentComplete(d, status)) {
      const due = (Date.parse(c.lastUpdateTime ?? '') || now) + d.spec!.progressDeadlineSeconds! * 1000 - now;
      this.queue.addAfter(keyOf(d), Math.max(1000, due + 1000));
    }
  }

  /** cleanupDeployment: delete the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private async cleanupDeployment(oldRSs: RS[]): Promise<void> {
    const limit = this.d.spec?.revisionHistoryLimit ?? 10;
    const cleanable = oldRSs
      .filter((rs) => replicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata?.deletionTimestamp)
      .sort((a, b) => { const ra = revisionBig(a), rb = revisionBig(b); return ra < rb ? -1 : ra > rb ? 1 : byCreation(a, b); });
    const diff = cleanable.length - limit;
    for (const rs of cleanable.slice(0, Math.max(0, diff))) {
      try {
        await this.ctx.client.delete(`${this.rsPath}/${rs.metadata?.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }
}
