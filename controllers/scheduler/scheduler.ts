// The scheduler: informers on nodes, pods and namespaces feed the cache and the queue; one
// loop pops a pod, runs the framework against the cache, assumes the pod on the chosen node
// at once (so the next cycle already sees the usage) and binds in the background.
import type { Namespace, Node, Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../../apimachinery/log.js';
import { ApiClient, ApiError, isConflict, isNotFound } from '../framework/client.js';
import { Informer, keyOf } from '../framework/informer.js';
import { Binder, SCHEDULER_NAME } from './binder.js';
import { Framework } from './framework.js';
import { holdsResources, newPodInfo, podKey, SchedulerCache } from './node-info.js';
import { CycleState } from './plugins/types.js';
import { SchedulingQueue, type QueueOptions } from './queue.js';

const log = logger('scheduler');
const STATS_EVERY_MS = 5000;
const SCHEDULING_GATED_MESSAGE = 'Scheduling is blocked due to non-empty scheduling gates';

export interface SchedulerOptions extends QueueOptions {
  schedulerName?: string;
}

export function responsibleFor(pod: Pod, schedulerName = SCHEDULER_NAME): boolean {
  return (pod.spec?.schedulerName || SCHEDULER_NAME) === schedulerName;
}

/** Unassigned, ours, alive and not finished: what the queue holds. */
export function needsScheduling(pod: Pod, schedulerName = SCHEDULER_NAME): boolean {
  if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return responsibleFor(pod, schedulerName);
}

/** The parts of a node the filters read; other changes (heartbeats) wake no parked pod. */
function schedulingView(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  return JSON.stringify([node.metadata?.labels, node.spec?.taints, node.spec?.unschedulable, node.status?.allocatable, ready]);
}

// Which rejections a change to assigned pods can undo.
const FREED_BY_POD = ['NodeResourcesFit', 'NodePorts', 'InterPodAffinity', 'PodTopologySpread'];
const HELPED_BY_NEW_POD = ['InterPodAffinity', 'PodTopologySpread'];

function schedulingRelevant(pod: Pod): string {
  return JSON.stringify([pod.spec, pod.metadata?.labels, pod.metadata?.annotations]);
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  private readonly framework = new Framework();
  private readonly binder: Binder;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly namespaces: Informer<Namespace>;
  private readonly name: string;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  scheduled = 0;

  constructor(client: ApiClient, opts: SchedulerOptions = {}) {
    this.name = opts.schedulerName ?? SCHEDULER_NAME;
    this.queue = new SchedulingQueue(opts);
    this.binder = new Binder(client);
    this.nodes = new Informer<Node>(client, '/api/v1/nodes');
    this.pods = new Informer<Pod>(client, '/api/v1/pods');
    this.namespaces = new Informer<Namespace>(client, '/api/v1/namespaces');
    this.wire();
  }

  private wire(): void {
    this.nodes.on('add', (n) => {
      this.cache.setNode(n);
      this.queue.moveAll();
    });
    this.nodes.on('update', (n, old) => {
      this.cache.setNode(n);
      if (!old || schedulingView(n) !== schedulingView(old)) this.queue.moveAll();
    });
    this.nodes.on('delete', (n) => this.cache.removeNode(n.metadata?.name ?? ''));
    const nsChanged = (ns: Namespace): void => {
      this.cache.namespaceLabels.set(ns.metadata?.name ?? '', ns.metadata?.labels);
      this.queue.moveAll(['InterPodAffinity']);
    };
    this.namespaces.on('add', nsChanged);
    this.namespaces.on('update', (ns, old) => {
      if (JSON.stringify(ns.metadata?.labels) !== JSON.stringify(old?.metadata?.labels)) nsChanged(ns);
    });
    this.namespaces.on('delete', (ns) => this.cache.namespaceLabels.delete(ns.metadata?.name ?? ''));
    this.pods.on('add', (p) => this.onPod(p));
    this.pods.on('update', (p, old) => this.onPod(p, old));
    this.pods.on('delete', (p) => {
      const key = podKey(p);
      this.queue.delete(key);
      if (p.spec?.nodeName) {
        this.cache.removePod(key);
        this.queue.moveAll(FREED_BY_POD);
      }
    });
  }

  private onPod(pod: Pod, old?: Pod): void {
    const key = podKey(pod);
    if (pod.spec?.nodeName) {
      this.queue.delete(key);
      const wasHolding = old ? holdsResources(old) : false;
      this.cache.updatePod(pod);
      const holding = holdsResources(pod);
      if (wasHolding && !holding) this.queue.moveAll(FREED_BY_POD);
      else if (!wasHolding && holding) this.queue.moveAll(HELPED_BY_NEW_POD);
      return;
    }
    if (!needsScheduling(pod, this.name)) this.queue.delete(key);
    // Our own condition patch must not count as a change that could make the pod fit (isPodUpdated).
    else if (!old || this.queue.stageOf(key) === undefined || schedulingRelevant(pod) !== schedulingRelevant(old)) this.queue.add(key, pod.spec?.priority ?? 0);
  }

  /** Lists nodes and pods, then schedules until stop(). Resolves once the caches have synced. */
  async start(): Promise<void> {
    const signal = this.abort.signal;
    await Promise.all([this.nodes.start(signal), this.pods.start(signal), this.namespaces.start(signal)]);
    this.queue.run();
    log.info('scheduler caches synced', { nodes: this.cache.nodeCount(), pending: this.queue.size });
    const stats = setInterval(() => {
      if (this.queue.size || this.binder.busy) log.v(1, 'progress', { queued: this.queue.size, bindsInFlight: this.binder.busy, scheduled: this.scheduled });
    }, STATS_EVERY_MS);
    stats.unref();
    signal.addEventListener('abort', () => clearInterval(stats), { once: true });
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.close();
    await this.loop;
  }

  private async runLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const key = await this.queue.pop();
      if (key === undefined) return;
      await this.binder.slot();
      try {
        this.scheduleOne(key);
      } catch (e) {
        log.error('scheduling cycle failed', { pod: key, error: (e as Error).stack ?? String(e) });
        this.queue.retry(key);
      }
      // Let informer events in between cycles: a busy queue must not starve the watches.
      await new Promise((r) => setImmediate(r));
    }
  }

  scheduleOne(key: string): void {
    const pod = this.pods.get(key);
    if (!pod || !needsScheduling(pod, this.name)) {
      this.queue.delete(key);
      return;
    }
    if (this.cache.isAssumed(key)) {
      // Binding in flight: its outcome decides (bindFailed requeues the pod if it must).
      this.queue.delete(key);
      return;
    }
    if (pod.spec?.schedulingGates?.length) {
      // PodSchedulingReadiness: wait, parked, until an update removes the gates.
      this.queue.failed(key, new Set(['SchedulingGates']));
      this.binder.recordFailure(pod, 'SchedulingGated', SCHEDULING_GATED_MESSAGE).catch(() => undefined);
      return;
    }
    const state = new CycleState(pod, newPodInfo(pod), this.cache);
    const result = this.framework.schedule(state);
    if (!result.ok) {
      log.v(2, 'unschedulable', { pod: key, message: result.message });
      this.queue.failed(key, new Set([...result.statuses.values()].map((st) => st.plugin ?? '')));
      this.binder.recordFailure(pod, 'Unschedulable', result.message).catch((e: Error) => {
        if (!isNotFound(e)) log.warn('could not update pod condition', { pod: key, error: e.message });
      });
      return;
    }
    const node = result.node;
    const assumed: Pod = { ...pod, spec: { ...pod.spec!, nodeName: node } };
    this.cache.assume(newPodInfo(assumed), node);
    this.queue.delete(key);
    log.v(3, 'assumed', { pod: key, node, feasible: result.feasibleNodes, evaluated: result.evaluatedNodes });
    this.binder.bind(pod, node).then(
      () => {
        this.scheduled++;
        log.v(2, 'bound', { pod: key, node });
      },
      (e: Error) => this.bindFailed(pod, node, e),
    );
  }

  private bindFailed(pod: Pod, node: string, e: Error): void {
    const key = keyOf(pod);
    this.cache.forget(key);
    // Gone, deleted meanwhile, or bound by someone else: nothing left to do.
    if (isNotFound(e) || isConflict(e)) {
      log.v(1, 'binding not applied', { pod: key, node, error: e.message });
      return;
    }
    log.warn('binding failed', { pod: key, node, error: e.message, code: e instanceof ApiError ? e.code : undefined });
    const current = this.pods.get(key);
    if (current && needsScheduling(current, this.name)) {
      this.queue.add(key, current.spec?.priority ?? 0);
      this.queue.retry(key);
      void this.binder.recordFailure(current, 'SchedulerError', `Binding rejected: ${e.message}`).catch(() => undefined);
    }
  }
}
