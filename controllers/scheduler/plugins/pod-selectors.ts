// Matching existing pods against affinity terms and spread constraints: label selector
// plus the namespaces a term covers.
import type { Pod, PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { fromLabelSelector, matchesLabels, type Selector } from '../../../apimachinery/labels.js';

export interface CompiledTerm {
  topologyKey: string;
  /** undefined: nothing matches (a nil selector), as metav1.LabelSelectorAsSelector(nil). */
  selector?: Selector;
  /** undefined: every namespace. */
  namespaces?: Set<string>;
  weight: number;
}

export function compileSelector(sel: LabelSelector | undefined): Selector | undefined {
  if (!sel) return undefined;
  try {
    return fromLabelSelector(sel);
  } catch {
    return undefined;
  }
}

/** Names of the namespaces whose labels match a selector (the scheduler's namespace cache). */
export type NamespaceLister = (sel: Selector) => string[];

/**
 * The term's namespaces: the listed ones plus those namespaceSelector matches (all of them
 * when it is empty, {}); the owner's own when neither is given.
 */
export function compileTerm(term: PodAffinityTerm, ownerNamespace: string, weight = 1, namespaces?: NamespaceLister): CompiledTerm {
  const set = new Set(term.namespaces ?? []);
  const nsSel = term.namespaceSelector;
  const base = { topologyKey: term.topologyKey, selector: compileSelector(term.labelSelector), weight };
  if (nsSel && !nsSel.matchLabels && !nsSel.matchExpressions?.length) return { ...base, namespaces: undefined };
  if (nsSel) {
    const sel = compileSelector(nsSel);
    if (sel && namespaces) for (const n of namespaces(sel)) set.add(n);
  } else if (set.size === 0) set.add(ownerNamespace);
  return { ...base, namespaces: set };
}

export function termMatches(term: CompiledTerm, pod: Pod): boolean {
  if (!term.selector) return false;
  if (term.namespaces && !term.namespaces.has(pod.metadata?.namespace ?? '')) return false;
  return matchesLabels(term.selector, pod.metadata?.labels);
}
