// PodTopologySpread: DoNotSchedule constraints filter on skew; ScheduleAnyway constraints,
// or for pods with a controller and no constraints the system defaults (hostname skew 3,
// zone skew 5, over the pods of the same controller), score fewer-matching domains higher.
import type { Pod, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { matchesLabels, type Selector } from '../../../apimachinery/labels.js';
import type { NodeInfo, PodInfo } from '../node-info.js';
import { nodeAffinityFits } from './node-affinity.js';
import { compileSelector } from './pod-selectors.js';
import { MAX_NODE_SCORE, unresolvable, unschedulable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from './types.js';

export const ERR_SPREAD = "node(s) didn't match pod topology spread constraints";
export const ERR_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

const HOSTNAME = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const KEY = 'PodTopologySpread';

interface Constraint {
  topologyKey: string;
  maxSkew: number;
  minDomains: number;
  /** Counts a placed pod toward the constraint. */
  matches: (pi: PodInfo) => boolean;
  selfMatch: boolean;
  /** Only the domain set is wanted, not the pod counts. */
  domainsOnly?: boolean;
}

interface SpreadState {
  constraints: Constraint[];
  /** Per constraint: matching pods per domain, over the nodes the pod could go to. */
  counts: Map<string, number>[];
  /** Default constraints skip nodes lacking the key instead of rejecting them. */
  requireAllKeys: boolean;
}

const label = (node: NodeInfo, key: string): string | undefined => node.node?.metadata?.labels?.[key];

function compile(pod: Pod, c: TopologySpreadConstraint): Constraint {
  const ns = pod.metadata?.namespace;
  const sel: Selector | undefined = compileSelector(c.labelSelector);
  // matchLabelKeys narrows the selector to pods sharing this pod's values (e.g. pod-template-hash).
  const extra = (c.matchLabelKeys ?? []).flatMap((k) => {
    const v = pod.metadata?.labels?.[k];
    return v === undefined ? [] : [{ key: k, operator: '=' as const, values: [v] }];
  });
  const full = sel ? [...sel, ...extra] : undefined;
  const matches = (p: Pod): boolean => Boolean(full) && p.metadata?.namespace === ns && matchesLabels(full!, p.metadata?.labels);
  return { topologyKey: c.topologyKey, maxSkew: c.maxSkew, minDomains: c.minDomains ?? 1, matches: (pi) => matches(pi.pod), selfMatch: matches(pod) };
}

function defaultConstraints(pod: Pod, ownerUid: string): Constraint[] {
  const same = (pi: PodInfo): boolean => pi.ownerUid === ownerUid && pi.pod.metadata?.namespace === pod.metadata?.namespace;
  return [
    { topologyKey: HOSTNAME, maxSkew: 3, minDomains: 1, matches: same, selfMatch: true },
    { topologyKey: ZONE, maxSkew: 5, minDomains: 1, matches: same, selfMatch: true },
  ];
}

function countDomains(state: CycleState, constraints: Constraint[], requireAllKeys: boolean): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  if (constraints.length === 0) return counts;
  for (const ni of state.cache.readyList()) {
    if (!nodeAffinityFits(state.pod, ni.node!)) continue;
    if (requireAllKeys && constraints.some((c) => label(ni, c.topologyKey) === undefined)) continue;
    constraints.forEach((c, i) => {
      const v = label(ni, c.topologyKey);
      if (v === undefined) return;
      let n = counts[i].get(v) ?? 0;
      if (!c.domainsOnly) for (const pi of ni.pods.values()) if (!pi.pod.metadata?.deletionTimestamp && c.matches(pi)) n++;
      counts[i].set(v, n);
    });
  }
  return counts;
}

function minCount(counts: Map<string, number>, minDomains: number): number {
  if (counts.size < minDomains) return 0;
  let min = Infinity;
  for (const n of counts.values()) min = Math.min(min, n);
  return min === Infinity ? 0 : min;
}

export const PodTopologySpread: FilterPlugin & ScorePlugin = {
  name: KEY,
  weight: 2,
  preFilter(state: CycleState): Status | null {
    const hard = (state.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
    const constraints = hard.map((c) => compile(state.pod, c));
    state.write(KEY, { constraints, counts: countDomains(state, constraints, true), requireAllKeys: true } satisfies SpreadState);
    return null;
  },
  filter(state: CycleState, node: NodeInfo): Status | null {
    const s = state.read<SpreadState>(KEY);
    if (!s || s.constraints.length === 0) return null;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const v = label(node, c.topologyKey);
      if (v === undefined) return unresolvable(ERR_SPREAD_LABEL);
      const skew = (s.counts[i].get(v) ?? 0) + (c.selfMatch ? 1 : 0) - minCount(s.counts[i], c.minDomains);
      if (skew > c.maxSkew) return unschedulable(ERR_SPREAD);
    }
    return null;
  },
  preScore(state: CycleState): void {
    const soft = (state.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
    const explicit = (state.pod.spec?.topologySpreadConstraints ?? []).length > 0;
    let constraints = soft.map((c) => compile(state.pod, c));
    if (!explicit && state.podInfo.ownerUid) constraints = defaultConstraints(state.pod, state.podInfo.ownerUid);
    // Hostname domains are single nodes: their counts come straight from the node in score().
    const counts = countDomains(state, constraints.map((c) => (c.topologyKey === HOSTNAME ? { ...c, domainsOnly: true } : c)), explicit);
    state.write(`${KEY}/score`, { constraints, counts, requireAllKeys: explicit } satisfies SpreadState);
  },
  score(state: CycleState, node: NodeInfo): number {
    const s = state.read<SpreadState>(`${KEY}/score`);
    if (!s || s.constraints.length === 0) return 0;
    let total = 0;
    s.constraints.forEach((c, i) => {
      const v = label(node, c.topologyKey);
      if (v === undefined) return;
      let n: number;
      if (c.topologyKey === HOSTNAME) {
        const uid = state.podInfo.ownerUid;
        n = !s.requireAllKeys && uid ? (node.owners.get(uid) ?? 0) : countOnNode(node, c);
      } else n = s.counts[i].get(v) ?? 0;
      // Upstream weighs each constraint by log(domains + 2) and pads with maxSkew - 1.
      total += n * Math.log(s.counts[i].size + 2) + (c.maxSkew - 1);
    });
    return Math.round(total);
  },
  normalize(_state: CycleState, scores: number[]): void {
    let min = Infinity;
    let max = 0;
    for (const s of scores) [min, max] = [Math.min(min, s), Math.max(max, s)];
    for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - scores[i])) / max);
  },
};

function countOnNode(node: NodeInfo, c: Constraint): number {
  let n = 0;
  for (const pi of node.pods.values()) if (!pi.pod.metadata?.deletionTimestamp && c.matches(pi)) n++;
  return n;
}
