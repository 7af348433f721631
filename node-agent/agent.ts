// The node agent: registers its nodes, keeps their heartbeats, and runs the pods bound to
// them through pod workers. One process can host many nodes (the simulated runtime's scale
// benchmarks run a hundred); they share one pod list+watch, filtered locally by
// spec.nodeName, instead of a watch per node.
import type { Pod, PodList } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import { ApiError, type ApiClient, type WatchEvent } from './api.js';
import { NodeHeartbeat, type HeartbeatOptions } from './lease.js';
import { DEFAULT_CAPACITY, registerNode, simulatedNodeAddresses, type NodeConfig } from './node-registration.js';
import { PodWorkers } from './pod-workers.js';
import type { BackoffPolicy } from './runtime/pod-actions.js';
import { SimulatedRuntime } from './runtime/simulated.js';
import type { Runtime } from './runtime/types.js';
import { StatusManager } from './status-manager.js';
import { startDockerNode, type DockerNodeOptions } from './docker-node.js';
import type { AgentServer } from './server.js';

const log = logger('agent');
const RELIST_DELAY_MS = 1000;

export interface AgentOptions {
  /** The shared pod list+watch, and every node's writes unless `clientFor` is given. */
  api: ApiClient;
  /**
   * Each node's own client (credentials system:node:<name>): registration, heartbeats, pod
   * status and pod deletes of that node go through it. Without it all nodes share `api`.
   */
  clientFor?: (nodeName: string) => ApiClient;
  runtime: 'simulated' | 'docker';
  /** For the docker runtime: its one node (named after the host, by default). */
  docker?: Omit<DockerNodeOptions, 'api' | 'status' | 'heartbeat' | 'backoff'>;
  nodes: number;
  nodeNamePrefix?: string;
  /** Offsets node numbering and fake addresses, so several agent processes do not collide. */
  firstNodeIndex?: number;
  capacity?: NodeConfig['capacity'];
  heartbeat?: HeartbeatOptions;
  backoff?: BackoffPolicy;
}

/** The name of the simulated node at `index` (what --node-name-prefix and --first-node-index produce). */
export function simulatedNodeName(prefix: string, index: number): string {
  return `${prefix}${index}`;
}

interface AgentNode {
  name: string;
  runtime: Runtime;
  workers: PodWorkers;
  heartbeat: NodeHeartbeat;
  server?: AgentServer;
  metrics?: { stop(): void };
  network?: { stop(): Promise<void> };
}

export class Agent {
  readonly nodes = new Map<string, AgentNode>();
  readonly status: StatusManager;
  private readonly abort = new AbortController();
  private watching?: Promise<void>;
  private readonly known = new Map<string, string>(); // pod uid -> node name

  constructor(private readonly o: AgentOptions) {
    this.status = new StatusManager(o.api, o.clientFor);
  }

  async start(): Promise<void> {
    if (this.o.runtime === 'docker') {
      const d = this.o.docker;
      if (!d) throw new Error('the docker runtime needs its node options');
      const node = await startDockerNode({ ...d, api: this.o.clientFor?.(d.name) ?? this.o.api, status: this.status, heartbeat: this.o.heartbeat, backoff: this.o.backoff });
      this.nodes.set(node.name, node);
    } else {
      await this.startSimulatedNodes();
    }
    log.info('nodes registered', { nodes: this.nodes.size, runtime: this.o.runtime });
    const ready = new Promise<void>((resolve) => {
      this.watching = this.watchPods(resolve);
    });
    await ready;
  }

  private async startSimulatedNodes(): Promise<void> {
    const prefix = this.o.nodeNamePrefix ?? 'sim-';
    const first = this.o.firstNodeIndex ?? 0;
    await Promise.all(
      Array.from({ length: this.o.nodes }, async (_, i) => {
        const index = first + i;
        const name = simulatedNodeName(prefix, index);
        const api = this.o.clientFor?.(name) ?? this.o.api;
        const { internalIP, podCIDR } = simulatedNodeAddresses(index);
        const runtime = new SimulatedRuntime({ podCIDR, backoff: this.o.backoff });
        const node = await registerNode(api, {
          name,
          internalIP,
          podCIDR,
          capacity: this.o.capacity ?? DEFAULT_CAPACITY,
          runtimeName: runtime.name,
          runtimeVersion: runtime.version,
          instanceType: 'podium-simulated',
        });
        const heartbeat = new NodeHeartbeat(api, node, this.o.heartbeat);
        await heartbeat.start();
        const workers = new PodWorkers({ nodeName: name, hostIP: internalIP, api, runtime, status: this.status });
        this.nodes.set(name, { name, runtime, workers, heartbeat });
      }),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const n of this.nodes.values()) {
      n.heartbeat.stop();
      n.metrics?.stop();
      await n.network?.stop();
      await n.server?.close();
      await n.workers.close();
      await n.runtime.close();
    }
    await this.watching?.catch(() => undefined);
    this.status.close();
  }

  private fieldSelector(): string {
    // A single node can let the server filter; many nodes share one watch of every bound pod.
    if (this.nodes.size === 1) return `spec.nodeName=${[...this.nodes.keys()][0]}`;
    return 'spec.nodeName!=';
  }

  private dispatch(type: WatchEvent<Pod>['type'], pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const node = this.nodes.get(pod.spec?.nodeName ?? '');
    if (!node) return;
    if (type === 'DELETED') {
      this.known.delete(uid);
      node.workers.remove(pod);
      return;
    }
    this.known.set(uid, node.name);
    node.workers.update(pod);
  }

  /** List, then watch from the list's resourceVersion; re-list when the watch is too old. */
  private async watchPods(onSynced: () => void): Promise<void> {
    const signal = this.abort.signal;
    const selector = encodeURIComponent(this.fieldSelector());
    let rv = '';
    let failing = false;
    while (!signal.aborted) {
      try {
        if (!rv) {
          rv = await this.relist(selector);
          onSynced();
          if (failing) {
            failing = false;
            log.info('pod watch resumed');
          }
        }
        let expired = false;
        await this.o.api.watch<Pod>(
          `/api/v1/pods?watch=true&allowWatchBookmarks=true&fieldSelector=${selector}&resourceVersion=${rv}&timeoutSeconds=${240 + Math.floor(Math.random() * 120)}`,
          (e) => {
            if (failing) {
              failing = false;
              log.info('pod watch resumed');
            }
            if (e.type === 'ERROR') {
              expired = (e.object as unknown as { code?: number }).code === 410;
              return;
            }
            rv = e.object.metadata?.resourceVersion ?? rv;
            if (e.type !== 'BOOKMARK') this.dispatch(e.type, e.object);
          },
          signal,
        );
        if (expired) rv = '';
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof ApiError && err.code === 410) rv = '';
        else if (!failing) {
          // Once per outage; every retry of it is detail.
          failing = true;
          log.warn('pod watch failed; retrying', { error: (err as Error).message });
        } else log.v(2, 'pod watch failed again', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, RELIST_DELAY_MS));
      }
    }
  }

  private async relist(selector: string): Promise<string> {
    const seen = new Set<string>();
    let cont = '';
    let rv = '';
    do {
      const list = await this.o.api.get<PodList>(`/api/v1/pods?fieldSelector=${selector}&limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      // Pods that already have an IP first, so a restarted agent adopts their addresses before new pods take one.
      const items = [...list.items].sort((a, b) => Number(!a.status?.podIP) - Number(!b.status?.podIP));
      for (const pod of items) {
        seen.add(pod.metadata?.uid ?? '');
        this.dispatch('MODIFIED', pod);
      }
      cont = list.metadata?.continue ?? '';
      rv = list.metadata?.resourceVersion ?? rv;
    } while (cont);
    // Pods deleted while the watch was down.
    for (const [uid, nodeName] of this.known) {
      if (seen.has(uid)) continue;
      this.known.delete(uid);
      seen.add(uid); // its worker kills it
      this.nodes.get(nodeName)?.workers.remove({ metadata: { uid } });
    }
    await this.removeOrphans(seen);
    log.v(1, 'listed pods', { pods: seen.size, resourceVersion: rv });
    return rv;
  }

  /**
   * Upstream's HandlePodCleanups: containers of pods the API no longer has. A pod force-deleted
   * (grace 0) while no agent ran is gone from the API before this agent could see it, so no
   * watch event or `known` entry would ever lead to its containers; the runtime's own listing
   * does. Runs after every list, before the watch starts pods it has not seen.
   */
  private async removeOrphans(seen: Set<string>): Promise<void> {
    for (const node of this.nodes.values()) {
      let pods;
      try {
        pods = await node.runtime.listPods();
      } catch (err) {
        log.warn('cannot list the runtime\'s pods', { node: node.name, error: (err as Error).message });
        continue;
      }
      for (const p of pods) {
        if (seen.has(p.uid)) continue;
        log.info('removing the containers of a pod the API no longer has', { node: node.name, pod: `${p.namespace}/${p.name}`, uid: p.uid });
        await node.runtime.killPod({ metadata: { uid: p.uid, name: p.name, namespace: p.namespace } }, 0).catch((err: Error) => {
          log.warn('could not remove an orphaned pod', { node: node.name, uid: p.uid, error: err.message });
        });
      }
    }
  }
}
