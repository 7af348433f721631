// One scheduling cycle for one pod (upstream's schedulePod): PreFilter, Filter over the
// nodes (stopping once enough feasible ones are found in big clusters), Score, pick.
import { NodeUnschedulable, NodeName } from './plugins/node-unschedulable.js';
import { TaintToleration } from './plugins/taint-toleration.js';
import { NodeAffinity } from './plugins/node-affinity.js';
import { NodePorts } from './plugins/node-ports.js';
import { NodeResourcesBalancedAllocation, NodeResourcesFit } from './plugins/node-resources.js';
import { PodTopologySpread } from './plugins/pod-topology-spread.js';
import { InterPodAffinity } from './plugins/inter-pod-affinity.js';
import { CycleState, MAX_NODE_SCORE, type FilterPlugin, type ScorePlugin, type Status } from './plugins/types.js';
import type { NodeInfo } from './node-info.js';
import { ERR_NO_NODES, fitErrorMessage, preemptionMessage } from './messages.js';

/** Upstream's default profile order: cheap node-only checks first, pod-set checks last. */
export const FILTERS: FilterPlugin[] = [NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity];
export const SCORERS: ScorePlugin[] = [TaintToleration, NodeAffinity, NodeResourcesFit, NodeResourcesBalancedAllocation, PodTopologySpread, InterPodAffinity];

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;

export type ScheduleResult =
  | { ok: true; node: string; evaluatedNodes: number; feasibleNodes: number }
  | { ok: false; message: string; /** Resolvable by cluster changes only, never by preemption. */ statuses: Map<string, Status> };

/** numFeasibleNodesToFind with the adaptive percentage (percentageOfNodesToScore unset). */
export function feasibleNodesToFind(numNodes: number): number {
  if (numNodes < MIN_FEASIBLE_NODES_TO_FIND) return numNodes;
  const pct = Math.max(MIN_FEASIBLE_PERCENTAGE, 50 - Math.floor(numNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numNodes * pct) / 100));
}

export function runFilters(state: CycleState, node: NodeInfo): Status | null {
  for (const p of FILTERS) {
    const s = p.filter(state, node);
    if (s) return { ...s, plugin: p.name };
  }
  return null;
}

export class Framework {
  /** Round-robin start, so big clusters do not always fill the same first nodes. */
  private nextStart = 0;

  schedule(state: CycleState): ScheduleResult {
    const nodes = [...state.cache.readyList()];
    if (nodes.length === 0) return { ok: false, message: ERR_NO_NODES, statuses: new Map() };
    const statuses = new Map<string, Status>();
    for (const p of FILTERS) {
      const s = p.preFilter?.(state);
      if (s) {
        for (const n of nodes) statuses.set(n.name, { ...s, plugin: p.name });
        const msg = s.reasons.join(', ');
        return { ok: false, statuses, message: fitErrorMessage(nodes.length, [], { preFilterMsg: msg, postFilterMsg: preemptionMessage(state.pod, nodes.length, statuses.values()) }) };
      }
    }
    const want = feasibleNodesToFind(nodes.length);
    const feasible: NodeInfo[] = [];
    let evaluated = 0;
    for (; evaluated < nodes.length && feasible.length < want; evaluated++) {
      const n = nodes[(this.nextStart + evaluated) % nodes.length];
      const s = runFilters(state, n);
      if (s) statuses.set(n.name, s);
      else feasible.push(n);
    }
    this.nextStart = (this.nextStart + evaluated) % nodes.length;
    if (feasible.length === 0) {
      const post = preemptionMessage(state.pod, nodes.length, statuses.values());
      return { ok: false, statuses, message: fitErrorMessage(nodes.length, statuses.values(), { postFilterMsg: post }) };
    }
    const node = feasible.length === 1 ? feasible[0] : pickHighest(feasible, scoreNodes(state, feasible));
    return { ok: true, node: node.name, evaluatedNodes: evaluated, feasibleNodes: feasible.length };
  }
}

export function scoreNodes(state: CycleState, nodes: NodeInfo[]): number[] {
  const totals = new Array<number>(nodes.length).fill(0);
  for (const p of SCORERS) {
    p.preScore?.(state, nodes);
    const scores = nodes.map((n) => p.score(state, n));
    p.normalize?.(state, scores);
    for (let i = 0; i < nodes.length; i++) totals[i] += Math.max(0, Math.min(MAX_NODE_SCORE, scores[i])) * p.weight;
  }
  return totals;
}

/** selectHost: the highest total, ties broken uniformly at random. */
function pickHighest(nodes: NodeInfo[], scores: number[]): NodeInfo {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < nodes.length; i++) {
    if (scores[i] > scores[best]) {
      best = i;
      ties = 1;
    } else if (scores[i] === scores[best] && Math.random() * ++ties < 1) best = i;
  }
  return nodes[best];
}
