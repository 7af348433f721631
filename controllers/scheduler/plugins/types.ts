// The shapes of upstream's scheduling framework, cut down to what the in-tree plugins use:
// PreFilter (once per pod), Filter (per node, first failure wins), Score (per feasible
// node) and NormalizeScore. Everything here is synchronous and pure over a snapshot.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo, PodInfo, SchedulerCache } from '../node-info.js';

/** A failure that preemption could fix (Unschedulable) or not (UnschedulableAndUnresolvable). */
export type FailCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

export interface Status {
  code: FailCode;
  reasons: string[];
  plugin?: string;
}

export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons });
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons });

export const MAX_NODE_SCORE = 100;

/** Per-pod scratch space: what PreFilter/PreScore computed, keyed by plugin name. */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  constructor(
    readonly pod: Pod,
    readonly podInfo: PodInfo,
    readonly cache: SchedulerCache,
  ) {}
  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }
}

export interface FilterPlugin {
  readonly name: string;
  /** A failure here rejects every node with the same status (upstream's PreFilter). */
  preFilter?(state: CycleState): Status | null;
  filter(state: CycleState, node: NodeInfo): Status | null;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  preScore?(state: CycleState, nodes: NodeInfo[]): void;
  score(state: CycleState, node: NodeInfo): number;
  /** Rewrites raw scores into [0, MAX_NODE_SCORE] in place. */
  normalize?(state: CycleState, scores: number[]): void;
}

/** DefaultNormalizeScore: scale to the max; `reverse` for "fewer is better" counts. */
export function defaultNormalize(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) max = Math.max(max, s);
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.floor((MAX_NODE_SCORE * scores[i]) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
