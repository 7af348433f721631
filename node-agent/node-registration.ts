// Registers a Node the way the kubelet does: create it with labels, capacity, conditions,
// addresses and nodeInfo; if it already exists (an agent restart), reconcile labels and the
// pod CIDR and post a fresh status. Condition reasons and messages are upstream's words.
import { randomUUID } from 'node:crypto';
import { release } from 'node:os';
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { logger } from '../apimachinery/log.js';
import { isConflict, type ApiClient } from './api.js';
import { rfc3339 } from './pod-status.js';

const log = logger('node-registration');

export const KUBELET_VERSION = 'v1.32.0-podium';

export interface NodeConfig {
  name: string;
  internalIP: string;
  podCIDR: string;
  capacity: { cpu: string; memory: string; pods: string; ephemeralStorage?: string };
  runtimeName: string;
  runtimeVersion: string;
  instanceType?: string;
  osImage?: string;
  extraLabels?: Record<string, string>;
  /**
   * The port of the agent's HTTPS endpoint (logs, exec, attach, port-forward), reachable at
   * the InternalIP. 0 when the agent serves none (simulated nodes, whose addresses are never
   * routed): the API server then answers 503 instead of dialing an address that leads nowhere.
   */
  agentPort?: number;
  /** The images the node holds (status.images), as upstream's kubelet reports them. */
  images?: { names: string[]; sizeBytes: number }[];
}

export const DEFAULT_CAPACITY = { cpu: '8', memory: '32Gi', pods: '110', ephemeralStorage: '100Gi' };

export function goArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

/** Node i's fake addresses: InternalIP in 198.18.0.0/15 (RFC 2544, never routed), pods in 10.128.0.0/9. */
export function simulatedNodeAddresses(index: number): { internalIP: string; podCIDR: string } {
  const n = index + 1;
  const cidr = index % 32768;
  return {
    internalIP: `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`,
    podCIDR: `10.${128 + (cidr >> 8)}.${cidr & 255}.0/24`,
  };
}

type Condition = Mutable<NodeCondition>;

/** The four conditions a healthy kubelet reports, keeping transition times that did not change. */
export function nodeConditions(nowMs: number, previous: readonly NodeCondition[] = []): Condition[] {
  const now = rfc3339(nowMs);
  const make = (type: string, status: string, reason: string, message: string): Condition => {
    const prev = previous.find((c) => c.type === type);
    return { type, status, lastHeartbeatTime: now, lastTransitionTime: prev?.status === status ? (prev.lastTransitionTime ?? now) : now, reason, message };
  };
  return [
    make('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    make('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    make('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    make('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

export function nodeLabels(c: NodeConfig): Record<string, string> {
  const arch = goArch();
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': c.name,
    'kubernetes.io/os': 'linux',
    ...(c.instanceType ? { 'node.kubernetes.io/instance-type': c.instanceType, 'beta.kubernetes.io/instance-type': c.instanceType } : {}),
    ...c.extraLabels,
  };
}

export function nodeStatus(c: NodeConfig, nowMs: number, previous?: NodeStatus): Mutable<NodeStatus> {
  const resources = { cpu: c.capacity.cpu, memory: c.capacity.memory, pods: c.capacity.pods, 'ephemeral-storage': c.capacity.ephemeralStorage ?? '100Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0' };
  const id = previous?.nodeInfo?.machineID ?? randomUUID().replace(/-/g, '');
  return {
    capacity: resources,
    allocatable: { ...resources },
    conditions: nodeConditions(nowMs, previous?.conditions),
    addresses: [
      { type: 'InternalIP', address: c.internalIP },
      { type: 'Hostname', address: c.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: c.agentPort ?? 0 } },
    ...(c.images ? { images: c.images } : {}),
    nodeInfo: {
      machineID: id,
      systemUUID: previous?.nodeInfo?.systemUUID ?? randomUUID(),
      bootID: randomUUID(),
      kernelVersion: release(),
      osImage: c.osImage ?? 'Podium simulated node',
      containerRuntimeVersion: `${c.runtimeName}://${c.runtimeVersion}`,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: goArch(),
    },
  };
}

/** Creates or reconciles the Node; resolves with the Node as the server holds it afterwards. */
export async function registerNode(api: ApiClient, c: NodeConfig): Promise<Node> {
  const labels = nodeLabels(c);
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: c.name,
      labels,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { podCIDR: c.podCIDR, podCIDRs: [c.podCIDR] },
    status: nodeStatus(c, Date.now()),
  };
  try {
    const created = await api.create<Node>('/api/v1/nodes', node);
    log.v(1, 'registered node', { node: c.name, internalIP: c.internalIP, podCIDR: c.podCIDR });
    return created;
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  const existing = await api.get<Node>(`/api/v1/nodes/${encodeURIComponent(c.name)}`);
  const patch: { metadata: unknown; spec?: unknown } = { metadata: { labels } };
  // The pod CIDR is immutable once set; a node registered by another agent keeps its own.
  if (!existing.spec?.podCIDR) patch.spec = { podCIDR: c.podCIDR, podCIDRs: [c.podCIDR] };
  await api.strategicPatch<Node>(`/api/v1/nodes/${encodeURIComponent(c.name)}`, patch);
  const updated = await api.strategicPatch<Node>(`/api/v1/nodes/${encodeURIComponent(c.name)}/status`, {
    status: nodeStatus(c, Date.now(), existing.status),
  });
  log.v(1, 'node already registered; updated it', { node: c.name });
  return updated;
}

/** The periodic status heartbeat: fresh lastHeartbeatTime on the conditions. */
export async function postNodeConditions(api: ApiClient, name: string, previous: readonly NodeCondition[] | undefined): Promise<Node> {
  return api.strategicPatch<Node>(`/api/v1/nodes/${encodeURIComponent(name)}/status`, { status: { conditions: nodeConditions(Date.now(), previous) } });
}
