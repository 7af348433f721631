// InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, and the
// required anti-affinity of pods already placed (symmetry); the score adds preferred terms
// both ways and placed pods' required affinity. Domains are node label values under each
// term's topologyKey.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import { compileTerm, termMatches, type CompiledTerm, type NamespaceLister } from './pod-selectors.js';
import { MAX_NODE_SCORE, unresolvable, unschedulable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from './types.js';

export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const domain = (key: string, value: string): string => `${key}\u0000${value}`;
const label = (node: NodeInfo, key: string): string | undefined => node.node?.metadata?.labels?.[key];

interface PreFilterState {
  affinity: CompiledTerm[];
  antiAffinity: CompiledTerm[];
  /** Per term index, the domains holding a matching pod. */
  affinityDomains: Map<string, number>[];
  antiAffinityDomains: Set<string>;
  existingAntiDomains: Set<string>;
  /** No pod anywhere matches the affinity terms: the first pod of a group may go anywhere it matches itself. */
  noAffinityMatches: boolean;
  selfMatches: boolean;
}

const KEY = 'InterPodAffinity';

function requiredTerms(pod: Pod, nsl: NamespaceLister): { affinity: CompiledTerm[]; antiAffinity: CompiledTerm[] } {
  const ns = pod.metadata?.namespace ?? '';
  const a = pod.spec?.affinity;
  return {
    affinity: (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, ns, 1, nsl)),
    antiAffinity: (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, ns, 1, nsl)),
  };
}

function preFilter(state: CycleState): PreFilterState {
  const { pod, cache } = state;
  const nsl = cache.namespacesMatching;
  const { affinity, antiAffinity } = requiredTerms(pod, nsl);
  const s: PreFilterState = {
    affinity,
    antiAffinity,
    affinityDomains: affinity.map(() => new Map()),
    antiAffinityDomains: new Set(),
    existingAntiDomains: new Set(),
    noAffinityMatches: true,
    selfMatches: affinity.every((t) => termMatches(t, pod)),
  };
  for (const pi of cache.antiAffinityPods.values()) {
    const ni = cache.nodes.get(pi.pod.spec?.nodeName ?? '') ?? findNodeOf(state, pi.key);
    if (!ni?.node) continue;
    for (const t of requiredTerms(pi.pod, nsl).antiAffinity) {
      const v = label(ni, t.topologyKey);
      if (v !== undefined && termMatches(t, pod)) s.existingAntiDomains.add(domain(t.topologyKey, v));
    }
  }
  if (affinity.length || antiAffinity.length) {
    for (const ni of cache.readyList()) {
      for (const pi of ni.pods.values()) {
        if (pi.key === state.podInfo.key) continue;
        affinity.forEach((t, i) => {
          if (!termMatches(t, pi.pod)) return;
          s.noAffinityMatches = false;
          const v = label(ni, t.topologyKey);
          if (v !== undefined) s.affinityDomains[i].set(v, (s.affinityDomains[i].get(v) ?? 0) + 1);
        });
        for (const t of antiAffinity) {
          const v = label(ni, t.topologyKey);
          if (v !== undefined && termMatches(t, pi.pod)) s.antiAffinityDomains.add(domain(t.topologyKey, v));
        }
      }
    }
  }
  return s;
}

const HARD_POD_AFFINITY_WEIGHT = 1;

function existingPodTerms(pod: Pod, nsl: NamespaceLister): CompiledTerm[] {
  const ns = pod.metadata?.namespace ?? '';
  const a = pod.spec?.affinity;
  return [
    ...(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, ns, HARD_POD_AFFINITY_WEIGHT, nsl)),
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => compileTerm(w.podAffinityTerm, ns, w.weight, nsl)),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => compileTerm(w.podAffinityTerm, ns, -w.weight, nsl)),
  ];
}

// Assumed pods are placed before their nodeName is set; look them up by membership.
function findNodeOf(state: CycleState, key: string): NodeInfo | undefined {
  for (const ni of state.cache.nodes.values()) if (ni.pods.has(key)) return ni;
  return undefined;
}

export const InterPodAffinity: FilterPlugin & ScorePlugin = {
  name: KEY,
  weight: 2,
  preFilter(state: CycleState): Status | null {
    state.write(KEY, preFilter(state));
    return null;
  },
  filter(state: CycleState, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(KEY);
    if (!s) return null;
    if (s.existingAntiDomains.size) {
      for (const d of s.existingAntiDomains) {
        const [k, v] = d.split('\u0000');
        if (label(node, k) === v) return unschedulable(ERR_EXISTING_ANTI_AFFINITY);
      }
    }
    for (const t of s.antiAffinity) {
      const v = label(node, t.topologyKey);
      if (v !== undefined && s.antiAffinityDomains.has(domain(t.topologyKey, v))) return unschedulable(ERR_ANTI_AFFINITY);
    }
    if (s.affinity.length) {
      const everyKey = s.affinity.every((t) => label(node, t.topologyKey) !== undefined);
      if (!everyKey) return unresolvable(ERR_AFFINITY);
      const inDomain = s.affinity.every((t, i) => (s.affinityDomains[i].get(label(node, t.topologyKey)!) ?? 0) > 0);
      if (!inDomain && !(s.noAffinityMatches && s.selfMatches)) return unresolvable(ERR_AFFINITY);
    }
    return null;
  },
  preScore(state: CycleState): void {
    const { pod, cache } = state;
    const nsl = cache.namespacesMatching;
    const ns = pod.metadata?.namespace ?? '';
    const a = pod.spec?.affinity;
    const terms = [
      ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => compileTerm(w.podAffinityTerm, ns, w.weight, nsl)),
      ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => compileTerm(w.podAffinityTerm, ns, -w.weight, nsl)),
    ];
    // topologyKey -> domain value -> score, so score() is one lookup per key.
    const byKey = new Map<string, Map<string, number>>();
    const add = (key: string, value: string, w: number): void => {
      let m = byKey.get(key);
      if (!m) byKey.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + w);
    };
    if (terms.length) {
      for (const ni of cache.readyList()) {
        for (const pi of ni.pods.values()) {
          for (const t of terms) {
            const v = label(ni, t.topologyKey);
            if (v !== undefined && termMatches(t, pi.pod)) add(t.topologyKey, v, t.weight);
          }
        }
      }
    }
    // Symmetry: placed pods' preferences about the incoming pod, and their required affinity
    // at upstream's hardPodAffinityWeight of 1.
    for (const pi of cache.affinityPods.values()) {
      const ni = cache.nodes.get(pi.pod.spec?.nodeName ?? '') ?? findNodeOf(state, pi.key);
      if (!ni?.node) continue;
      for (const t of existingPodTerms(pi.pod, nsl)) {
        const v = label(ni, t.topologyKey);
        if (v !== undefined && termMatches(t, pod)) add(t.topologyKey, v, t.weight);
      }
    }
    state.write(`${KEY}/score`, byKey);
  },
  score(state: CycleState, node: NodeInfo): number {
    const byKey = state.read<Map<string, Map<string, number>>>(`${KEY}/score`);
    if (!byKey || byKey.size === 0) return 0;
    let total = 0;
    for (const [key, values] of byKey) {
      const v = label(node, key);
      if (v !== undefined) total += values.get(v) ?? 0;
    }
    return total;
  },
  normalize(_state: CycleState, scores: number[]): void {
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) [min, max] = [Math.min(min, s), Math.max(max, s)];
    const span = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = span > 0 ? Math.floor((MAX_NODE_SCORE * (scores[i] - min)) / span) : 0;
  },
};
