// ClusterRole aggregation as performed by upstream's clusterrole-aggregation
// controller: rules of an aggregated ClusterRole are the union of the rules of
// every ClusterRole matched by any of its aggregationRule.clusterRoleSelectors.
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { fromLabelSelector, matchesLabels } from '../../../apimachinery/labels.js';
import { rulesEqual } from './rules.js';

/** Aggregated rules for `role`, or null when it has no aggregationRule. */
export function aggregateRules(role: ClusterRole, allClusterRoles: ClusterRole[]): PolicyRule[] | null {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!role.aggregationRule) return null;
  const out: PolicyRule[] = [];
  const byName = [...allClusterRoles].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const sel of selectors ?? []) {
    const selector = fromLabelSelector(sel);
    for (const cr of byName) {
      if (cr.metadata?.name === role.metadata?.name) continue;
      if (!matchesLabels(selector, cr.metadata?.labels)) continue;
      for (const rule of cr.rules ?? []) {
        if (!out.some((r) => rulesEqual(r, rule))) out.push(rule);
      }
    }
  }
  return out;
}

/**
 * Apply aggregation to every aggregated ClusterRole until a fixed point
 * (aggregated roles may themselves be aggregated, e.g. view -> edit -> admin).
 * Returns new objects; inputs are not mutated.
 */
export function aggregateAll(clusterRoles: ClusterRole[]): ClusterRole[] {
  let current = clusterRoles.map((r) => ({ ...r }));
  for (let i = 0; i < 10; i++) {
    let changed = false;
    current = current.map((r) => {
      const agg = aggregateRules(r, current);
      if (agg === null) return r;
      const prev = r.rules ?? [];
      if (prev.length === agg.length && prev.every((p, j) => rulesEqual(p, agg[j]))) return r;
      changed = true;
      return { ...r, rules: agg };
    });
    if (!changed) break;
  }
  return current;
}
