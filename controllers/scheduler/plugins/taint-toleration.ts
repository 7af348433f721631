// TaintToleration: NoSchedule and NoExecute taints must be tolerated; PreferNoSchedule
// taints only lower the score.
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { NodeInfo } from '../node-info.js';
import { defaultNormalize, unresolvable, type CycleState, type FilterPlugin, type ScorePlugin, type Status } from './types.js';

/** Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Pick<Taint, 'key' | 'value' | 'effect'>): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  // An empty key is only valid with Exists; with Equal it never matches a real taint.
  if (!t.key) return false;
  return (t.value ?? '') === (taint.value ?? '');
}

export function firstUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

export const untoleratedTaintMessage = (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;

export const TaintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  filter(state: CycleState, node: NodeInfo): Status | null {
    const taint = firstUntoleratedTaint(node.taints, state.pod.spec?.tolerations ?? [], ['NoSchedule', 'NoExecute']);
    return taint ? unresolvable(untoleratedTaintMessage(taint)) : null;
  },
  score(state: CycleState, node: NodeInfo): number {
    const tolerations = (state.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint))) n++;
    return n;
  },
  normalize(_state: CycleState, scores: number[]): void {
    defaultNormalize(scores, true);
  },
};
