// The scheduler's view of the cluster (upstream's internal cache): each node with the pods
// bound or assumed on it and running totals of their requests and host ports, so a filter
// is a few additions rather than a walk over every pod in the cluster.
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { matchesLabels, type Selector } from '../../apimachinery/labels.js';
import { addResources, emptyResource, nodeAllocatable, podNonZeroRequests, podRequests, type Allocatable, type Resource } from './resources.js';

export interface HostPort {
  hostIP: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  key: string;
  pod: Pod;
  requests: Resource;
  nonZero: { milliCPU: number; memory: number };
  hostPorts: HostPort[];
  /** The first controller owner's uid: the set this pod is spread against. */
  ownerUid?: string;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export function wantedHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ hostIP: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

export function newPodInfo(pod: Pod): PodInfo {
  return {
    key: podKey(pod),
    pod,
    requests: podRequests(pod),
    nonZero: podNonZeroRequests(pod),
    hostPorts: wantedHostPorts(pod),
    ownerUid: pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid,
  };
}

export class NodeInfo {
  node?: Node;
  allocatable: Allocatable = { ...emptyResource(), allowedPodNumber: 0 };
  /** The taints filters see: the node's own plus the ones its Ready condition implies. */
  taints: Taint[] = [];
  readonly pods = new Map<string, PodInfo>();
  requested: Resource = emptyResource();
  nonZeroRequested = { milliCPU: 0, memory: 0 };
  usedPorts: HostPort[] = [];
  /** Pods per controller owner, for spreading. */
  readonly owners = new Map<string, number>();

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node);
    this.taints = effectiveTaints(node);
  }

  addPod(pi: PodInfo): void {
    if (this.pods.has(pi.key)) this.removePod(pi.key);
    this.pods.set(pi.key, pi);
    this.requested = addResources(this.requested, pi.requests);
    this.nonZeroRequested = { milliCPU: this.nonZeroRequested.milliCPU + pi.nonZero.milliCPU, memory: this.nonZeroRequested.memory + pi.nonZero.memory };
    this.usedPorts.push(...pi.hostPorts);
    if (pi.ownerUid) this.owners.set(pi.ownerUid, (this.owners.get(pi.ownerUid) ?? 0) + 1);
  }

  removePod(key: string): PodInfo | undefined {
    const pi = this.pods.get(key);
    if (!pi) return undefined;
    this.pods.delete(key);
    this.requested = addResources(this.requested, pi.requests, -1);
    this.nonZeroRequested = { milliCPU: this.nonZeroRequested.milliCPU - pi.nonZero.milliCPU, memory: this.nonZeroRequested.memory - pi.nonZero.memory };
    for (const hp of pi.hostPorts) {
      const i = this.usedPorts.findIndex((u) => u.port === hp.port && u.protocol === hp.protocol && u.hostIP === hp.hostIP);
      if (i >= 0) this.usedPorts.splice(i, 1);
    }
    if (pi.ownerUid) {
      const n = (this.owners.get(pi.ownerUid) ?? 1) - 1;
      if (n > 0) this.owners.set(pi.ownerUid, n);
      else this.owners.delete(pi.ownerUid);
    }
    return pi;
  }
}

/**
 * The node lifecycle controller taints nodes whose Ready condition is not True; until it
 * has, the scheduler behaves as if it had, so a NotReady node is refused with upstream's
 * "untolerated taint {node.kubernetes.io/not-ready: }" and tolerating pods still fit.
 */
export function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  let implied: string | undefined;
  if (ready?.status === 'Unknown') implied = 'node.kubernetes.io/unreachable';
  else if (ready?.status !== 'True') implied = 'node.kubernetes.io/not-ready';
  if (implied && !taints.some((t) => t.key === implied && t.effect === 'NoSchedule')) taints.push({ key: implied, effect: 'NoSchedule' });
  return taints;
}

/** Assigned pods that still hold resources: bound and not in a terminal phase. */
export function holdsResources(pod: Pod): boolean {
  return Boolean(pod.spec?.nodeName) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

export class SchedulerCache {
  readonly nodes = new Map<string, NodeInfo>();
  /** Where each known pod sits (bound or assumed). */
  private readonly podNode = new Map<string, string>();
  private readonly assumed = new Set<string>();
  /** Pods with required anti-affinity terms: the only existing pods that can reject a node. */
  readonly antiAffinityPods = new Map<string, PodInfo>();
  /** Pods with any pod (anti-)affinity: the ones whose preferences score incoming pods. */
  readonly affinityPods = new Map<string, PodInfo>();
  /** Namespace labels, for affinity terms with a namespaceSelector. */
  readonly namespaceLabels = new Map<string, Readonly<Record<string, string>> | undefined>();
  readonly namespacesMatching = (sel: Selector): string[] => {
    const out: string[] = [];
    for (const [name, labels] of this.namespaceLabels) if (matchesLabels(sel, labels)) out.push(name);
    return out;
  };
  /** Bumped on every change, so per-pod precomputations can tell when they are stale. */
  generation = 0;

  private info(name: string): NodeInfo {
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(name)));
    return ni;
  }

  /** Nodes that exist as Node objects (a pod may name a node that is gone). */
  *readyList(): Iterable<NodeInfo> {
    for (const ni of this.nodes.values()) if (ni.node) yield ni;
  }

  nodeCount(): number {
    let n = 0;
    for (const ni of this.nodes.values()) if (ni.node) n++;
    return n;
  }

  setNode(node: Node): void {
    this.info(node.metadata!.name!).setNode(node);
    this.generation++;
  }

  removeNode(name: string): void {
    const ni = this.nodes.get(name);
    if (!ni) return;
    if (ni.pods.size === 0) this.nodes.delete(name);
    else ni.node = undefined;
    this.generation++;
  }

  /** An informer saw this pod: it counts on its node if bound and live, else not at all. */
  updatePod(pod: Pod): void {
    const key = podKey(pod);
    if (!holdsResources(pod)) {
      this.removePod(key);
      return;
    }
    const node = pod.spec!.nodeName!;
    this.assumed.delete(key);
    this.place(key, node, newPodInfo(pod));
  }

  removePod(key: string): void {
    const node = this.podNode.get(key);
    if (node === undefined) return;
    this.podNode.delete(key);
    this.assumed.delete(key);
    this.antiAffinityPods.delete(key);
    this.affinityPods.delete(key);
    const ni = this.nodes.get(node);
    ni?.removePod(key);
    if (ni && !ni.node && ni.pods.size === 0) this.nodes.delete(node);
    this.generation++;
  }

  /** Counts the pod on the node before the binding is confirmed, as upstream's AssumePod. */
  assume(pi: PodInfo, node: string): void {
    this.place(pi.key, node, pi);
    this.assumed.add(pi.key);
  }

  /** The binding failed: undo assume (unless the informer already saw the pod bound). */
  forget(key: string): void {
    if (this.assumed.has(key)) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  private place(key: string, node: string, pi: PodInfo): void {
    const prev = this.podNode.get(key);
    if (prev !== undefined && prev !== node) this.removePod(key);
    this.podNode.set(key, node);
    this.info(node).addPod(pi);
    if (pi.pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) this.antiAffinityPods.set(key, pi);
    else this.antiAffinityPods.delete(key);
    const aff = pi.pod.spec?.affinity;
    if (aff?.podAffinity || aff?.podAntiAffinity) this.affinityPods.set(key, pi);
    else this.affinityPods.delete(key);
    this.generation++;
  }
}

/** For tests and one-off checks: a NodeInfo holding a node and some pods. */
export function nodeInfoOf(node: Node, pods: Pod[] = []): NodeInfo {
  const ni = new NodeInfo(node.metadata?.name ?? '');
  ni.setNode(node);
  for (const p of pods) ni.addPod(newPodInfo(p));
  return ni;
}
