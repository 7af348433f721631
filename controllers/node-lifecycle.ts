// The node lifecycle controller (upstream pkg/controller/nodelifecycle, taint-based eviction):
// every monitor period it checks each node's heartbeats (its Lease in kube-node-lease and its
// Ready condition's lastHeartbeatTime); a node silent for longer than the grace period gets
// every condition Unknown (NodeStatusUnknown). Nodes whose Ready is Unknown carry the
// node.kubernetes.io/unreachable NoSchedule+NoExecute taints, Ready=False ones the
// node.kubernetes.io/not-ready ones, removed again once Ready; pods on a not-ready node are
// marked Ready=False. The NoExecute taint manager deletes pods that do not tolerate a node's
// NoExecute taints at once, and those that tolerate them for tolerationSeconds afterwards.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isConflict, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { sleep, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import {
  evictionDelayMs,
  HeartbeatTracker,
  isoNow,
  isStale,
  needsMarkNotReady,
  notReadyConditions,
  readyCondition,
  reconcileTaints,
  unknownConditions,
} from './node-lifecycle-logic.js';

export interface NodeLifecycleOptions {
  /** node-monitor-grace-period (upstream 1.32: 40 s). */
  gracePeriodMs?: number;
  /** node-monitor-period (5 s). */
  monitorPeriodMs?: number;
  clock?: () => number;
}

const LEASE_NAMESPACE = 'kube-node-lease';
/** Longest a scheduled eviction waits before its node is looked at again. */
const MAX_REQUEUE_MS = 60_000;

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private readonly gracePeriodMs: number;
  private readonly monitorPeriodMs: number;
  private readonly clock: () => number;
  private readonly tracker = new HeartbeatTracker();
  /** Last Ready status seen per node, for the NodeReady/NodeNotReady events. */
  private readonly lastReady = new Map<string, string>();
  /** Scheduled evictions by pod uid: when the taint manager first saw the pod tolerate-for-a-while. */
  private readonly scheduled = new Map<string, number>();
  private readonly queue = new WorkQueue();
  private nodes!: Informer<Node>;
  private leases!: Informer<Lease>;
  private pods!: Informer<Pod>;

  constructor(opts: NodeLifecycleOptions = {}) {
    this.gracePeriodMs = opts.gracePeriodMs ?? 40_000;
    this.monitorPeriodMs = opts.monitorPeriodMs ?? 5_000;
    this.clock = opts.clock ?? Date.now;
  }

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.nodes = ctx.informers.for<Node>('/api/v1/nodes');
    this.leases = ctx.informers.for<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`);
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    const enqueueNode = (node: Node): void => this.queue.add(node.metadata?.name ?? '');
    this.nodes.on('add', enqueueNode);
    this.nodes.on('update', enqueueNode);
    const enqueuePod = (pod: Pod): void => {
      if (pod.spec?.nodeName) this.queue.add(pod.spec.nodeName);
    };
    this.pods.on('add', enqueuePod);
    this.pods.on('update', enqueuePod);
    this.pods.on('delete', (pod: Pod) => this.scheduled.delete(pod.metadata?.uid ?? ''));
    await Promise.all([this.nodes.start(ctx.signal), this.leases.start(ctx.signal), this.pods.start(ctx.signal)]);
    const recorder = ctx.recorder('node-controller');
    const taintRecorder = ctx.recorder('taint-eviction-controller');
    await Promise.all([
      this.monitorLoop(ctx, recorder),
      runWorkers(this.queue, workers, (name) => this.syncTaintEviction(ctx, name, taintRecorder), ctx.signal, ctx.log),
    ]);
  }

  private async monitorLoop(ctx: ControllerContext, recorder: EventRecorder): Promise<void> {
    while (!ctx.signal.aborted) {
      try {
        await this.monitorNodeHealth(ctx, recorder);
      } catch (e) {
        if (!ctx.signal.aborted) ctx.log.warn('node health monitoring failed', { error: (e as Error).message });
      }
      await sleep(this.monitorPeriodMs, ctx.signal);
    }
  }

  /** One pass of upstream's monitorNodeHealth over every node. */
  async monitorNodeHealth(ctx: ControllerContext, recorder: EventRecorder): Promise<void> {
    const now = this.clock();
    const nodes = this.nodes.list();
    const present = new Set(nodes.map((n) => n.metadata?.name ?? ''));
    for (const name of this.tracker.names()) {
      if (!present.has(name)) {
        this.tracker.forget(name);
        this.lastReady.delete(name);
      }
    }
    for (const cached of nodes) {
      try {
        await this.checkNode(ctx, cached, now, recorder);
      } catch (e) {
        if (isNotFound(e) || ctx.signal.aborted) continue;
        const fields = { node: cached.metadata?.name, error: (e as Error).message };
        if (isConflict(e)) ctx.log.v(2, 'node update conflicted, retrying next pass', fields);
        else ctx.log.warn('node health update failed', fields);
      }
    }
  }

  private async checkNode(ctx: ControllerContext, cached: Node, now: number, recorder: EventRecorder): Promise<void> {
    const name = cached.metadata?.name ?? '';
    const lease = this.leases.get(`${LEASE_NAMESPACE}/${name}`);
    const probe = this.tracker.observe(name, lease?.spec?.renewTime, readyCondition(cached)?.lastHeartbeatTime, now);
    let node = cached;
    const nodeRef = { ...node, apiVersion: 'v1', kind: 'Node' };
    if (isStale(probe, now, this.gracePeriodMs)) {
      const conditions = unknownConditions(node, now);
      if (conditions) {
        node = await ctx.client.patch<Node>(`/api/v1/nodes/${encodeURIComponent(name)}/status`, { status: { conditions } }, 'merge');
        ctx.log.info('node stopped posting status, conditions set Unknown', { node: name });
      }
    }
    const ready = readyCondition(node)?.status ?? 'Unknown';
    const previous = this.lastReady.get(name);
    this.lastReady.set(name, ready);
    if (previous !== undefined && previous !== ready) {
      if (ready === 'True') recorder.event(nodeRef, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
      else if (previous === 'True') recorder.event(nodeRef, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const taints = reconcileTaints(node, now);
    if (taints) {
      node = await ctx.client.patch<Node>(
        `/api/v1/nodes/${encodeURIComponent(name)}`,
        { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints } },
        'merge',
      );
    }
    if (ready !== 'True') await this.markPodsNotReady(ctx, name, now, recorder);
  }

  /** MarkPodsNotReady: the node's pods get Ready and ContainersReady False. */
  private async markPodsNotReady(ctx: ControllerContext, nodeName: string, now: number, recorder: EventRecorder): Promise<void> {
    for (const pod of this.podsOn(nodeName)) {
      if (!needsMarkNotReady(pod)) continue;
      const { namespace, name } = pod.metadata ?? {};
      try {
        await ctx.client.patch(
          `/api/v1/namespaces/${namespace}/pods/${name}/status`,
          { metadata: { resourceVersion: pod.metadata?.resourceVersion }, status: { conditions: notReadyConditions(pod, now) } },
          'merge',
        );
        recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (e) {
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
  }

  private podsOn(nodeName: string): Pod[] {
    return this.pods.list().filter((p) => p.spec?.nodeName === nodeName);
  }

  /** The NoExecute taint manager's pass over one node's pods. */
  async syncTaintEviction(ctx: ControllerContext, nodeName: string, recorder: EventRecorder): Promise<void> {
    const node = this.nodes.get(nodeName);
    const taints = (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
    const now = this.clock();
    let next = Infinity;
    for (const pod of this.podsOn(nodeName)) {
      const uid = pod.metadata?.uid ?? '';
      if (pod.metadata?.deletionTimestamp) continue;
      const delay = node ? evictionDelayMs(taints, pod.spec?.tolerations ?? []) : Infinity;
      if (delay === Infinity) {
        this.scheduled.delete(uid);
        continue;
      }
      // An eviction already scheduled keeps its start (upstream keeps the earlier trigger).
      const start = this.scheduled.get(uid) ?? now;
      this.scheduled.set(uid, start);
      const fireAt = start + delay;
      if (fireAt > now) {
        next = Math.min(next, fireAt - now);
        continue;
      }
      await this.evict(ctx, pod, recorder);
      this.scheduled.delete(uid);
    }
    if (next !== Infinity) this.queue.addAfter(nodeName, Math.min(next, MAX_REQUEUE_MS));
  }

  private async evict(ctx: ControllerContext, pod: Pod, recorder: EventRecorder): Promise<void> {
    const { namespace, name, uid } = pod.metadata ?? {};
    const path = `/api/v1/namespaces/${namespace}/pods/${name}`;
    recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${name}`);
    try {
      // As upstream, the pod first says why it is going (DisruptionTarget).
      await ctx.client.patch(
        `${path}/status`,
        {
          status: {
            conditions: [
              {
                type: 'DisruptionTarget',
                status: 'True',
                reason: 'DeletionByTaintManager',
                message: 'Taint manager: deleting due to NoExecute taint',
                lastTransitionTime: isoNow(this.clock()),
              },
            ],
          },
        },
        'strategic',
      );
    } catch (e) {
      if (isNotFound(e)) return;
      ctx.log.v(2, 'could not add DisruptionTarget condition', { pod: `${namespace}/${name}`, error: (e as Error).message });
    }
    try {
      await ctx.client.delete(path, { preconditions: { uid } });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
  }
}
