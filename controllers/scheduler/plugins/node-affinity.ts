// NodeAffinity: spec.nodeSelector and requiredDuringScheduling node affinity filter;
// preferredDuringScheduling terms add their weights to the score.
import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import { defaultNormalize, unresolvable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from './types.js';

export const ERR_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

function matchRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      const [have, want] = [Number(value), Number(values[0])];
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; a term with neither matches nothing. */
export function matchTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  for (const r of exprs) if (!matchRequirement(r, Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) if (r.key !== 'metadata.name' || !matchRequirement(r, node.metadata?.name)) return false;
  return true;
}

/** Terms are ORed. */
export function matchNodeSelector(sel: NodeSelector, node: Node): boolean {
  return sel.nodeSelectorTerms.some((t) => matchTerm(t, node));
}

export function nodeAffinityFits(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || matchNodeSelector(required, node);
}

export function preferredNodeAffinityScore(pod: Pod, node: Node): number {
  let score = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (p.weight !== 0 && matchTerm(p.preference, node)) score += p.weight;
  }
  return score;
}

export const NodeAffinity: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  filter(state: CycleState, node: NodeInfo): Status | null {
    return node.node && nodeAffinityFits(state.pod, node.node) ? null : unresolvable(ERR_NODE_AFFINITY);
  },
  score(state: CycleState, node: NodeInfo): number {
    return node.node ? preferredNodeAffinityScore(state.pod, node.node) : 0;
  },
  normalize(_state: CycleState, scores: number[]): void {
    defaultNormalize(scores, false);
  },
};
