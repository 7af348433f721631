// NodeResourcesFit (filter, and the LeastAllocated score strategy upstream's default
// profile uses) and NodeResourcesBalancedAllocation.
import type { NodeInfo } from '../node-info.js';
import type { Resource } from '../resources.js';
import { MAX_NODE_SCORE, unresolvable, unschedulable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from './types.js';

export interface InsufficientResource {
  resource: string;
  reason: string;
  /** The request exceeds the node's whole allocatable: evicting pods cannot help. */
  unresolvable: boolean;
}

/** fitsRequest: every shortage on this node, in upstream's order (pods, cpu, memory, ephemeral-storage, extended). */
export function insufficientResources(req: Resource, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.size + 1 > alloc.allowedPodNumber) out.push({ resource: 'pods', reason: 'Too many pods', unresolvable: false });
  const check = (name: string, want: number, have: number, taken: number): void => {
    if (want > 0 && want > have - taken) out.push({ resource: name, reason: `Insufficient ${name}`, unresolvable: want > have });
  };
  check('cpu', req.milliCPU, alloc.milliCPU, used.milliCPU);
  check('memory', req.memory, alloc.memory, used.memory);
  check('ephemeral-storage', req.ephemeralStorage, alloc.ephemeralStorage, used.ephemeralStorage);
  for (const [name, want] of req.scalar) check(name, want, alloc.scalar.get(name) ?? 0, used.scalar.get(name) ?? 0);
  return out;
}

export const NodeResourcesFit: FilterPlugin & ScorePlugin = {
  name: 'NodeResourcesFit',
  weight: 1,
  filter(state: CycleState, node: NodeInfo): Status | null {
    const short = insufficientResources(state.podInfo.requests, node);
    if (short.length === 0) return null;
    const reasons = short.map((s) => s.reason);
    return short.every((s) => s.unresolvable) ? unresolvable(...reasons) : unschedulable(...reasons);
  },
  score(state: CycleState, node: NodeInfo): number {
    return leastAllocatedScore(state.podInfo.nonZero, node);
  },
};

function leastAllocated(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** cpu and memory weighted equally, counting containers without requests at the defaults. */
export function leastAllocatedScore(pod: { milliCPU: number; memory: number }, node: NodeInfo): number {
  const cpu = leastAllocated(node.nonZeroRequested.milliCPU + pod.milliCPU, node.allocatable.milliCPU);
  const mem = leastAllocated(node.nonZeroRequested.memory + pod.memory, node.allocatable.memory);
  return Math.floor((cpu + mem) / 2);
}

export function balancedAllocationScore(pod: Resource, node: NodeInfo): number {
  const frac = (req: number, cap: number): number => (cap === 0 ? 0 : Math.min(1, req / cap));
  const cpu = frac(node.requested.milliCPU + pod.milliCPU, node.allocatable.milliCPU);
  const mem = frac(node.requested.memory + pod.memory, node.allocatable.memory);
  const std = Math.abs(cpu - mem) / 2;
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}

export const NodeResourcesBalancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(state: CycleState, node: NodeInfo): number {
    return balancedAllocationScore(state.podInfo.requests, node);
  },
};
