// NodeUnschedulable and NodeName: the two filters that read only the node object.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import { tolerates } from './taint-toleration.js';
import { unresolvable, type CycleState, type FilterPlugin, type Status } from './types.js';

export const ERR_NODE_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_NODE_NAME = "node(s) didn't match the requested node name";

// A cordoned node still takes pods that tolerate the taint cordoning stands for (DaemonSets).
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' } as const;

export function nodeUnschedulableFits(pod: Pod, node: NodeInfo): boolean {
  if (!node.node?.spec?.unschedulable) return true;
  return (pod.spec?.tolerations ?? []).some((t) => tolerates(t, UNSCHEDULABLE_TAINT));
}

export const NodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(state: CycleState, node: NodeInfo): Status | null {
    return nodeUnschedulableFits(state.pod, node) ? null : unresolvable(ERR_NODE_UNSCHEDULABLE);
  },
};

export const NodeName: FilterPlugin = {
  name: 'NodeName',
  filter(state: CycleState, node: NodeInfo): Status | null {
    // The scheduler only sees pods without spec.nodeName, so this guards only odd inputs.
    const want = state.pod.spec?.nodeName;
    return !want || want === node.name ? null : unresolvable(ERR_NODE_NAME);
  },
};
