import type { ClusterRole, ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import { desiredAggregatedRules } from '../../controllers/clusterrole-aggregation.js';
import { reconcileClusterRole, reconcileClusterRoleBinding } from '../../server/auth/rbac/bootstrap-reconcile.js';
import { aggregateAll } from '../../server/auth/rbac/aggregation.js';
import { AUTOUPDATE_ANNOTATION, bootstrapClusterRoles } from '../../server/auth/rbac/bootstrap-policy.js';

const G = 'rbac.authorization.k8s.io';

describe('clusterrole-aggregation controller logic', () => {
  const part: ClusterRole = { metadata: { name: 'part', labels: { agg: 'x' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
  const agg: ClusterRole = { metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'x' } }] } };

  it('computes the rules an aggregated role lacks, and nothing once it has them', () => {
    expect(desiredAggregatedRules(agg, [agg, part])).toEqual(part.rules);
    expect(desiredAggregatedRules({ ...agg, rules: part.rules }, [agg, part])).toBeUndefined();
    expect(desiredAggregatedRules(part, [agg, part])).toBeUndefined();
    // nothing selected and no rules: nil and [] are the same
    expect(desiredAggregatedRules(agg, [agg])).toBeUndefined();
    // a rule from a role no longer selected is dropped
    expect(desiredAggregatedRules({ ...agg, rules: [{ apiGroups: ['x'], resources: ['y'], verbs: ['z'] }] }, [agg])).toEqual([]);
  });

  it('bootstrap view/edit/admin come out aggregated', () => {
    const all = aggregateAll(bootstrapClusterRoles());
    const view = all.find((r) => r.metadata?.name === 'view')!;
    expect(view.rules?.length).toBeGreaterThan(0);
    expect(desiredAggregatedRules(view, all)).toBeUndefined();
  });
});

describe('bootstrap policy reconciliation', () => {
  const expected: ClusterRole = {
    metadata: { name: 'r', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  };

  it('adds missing rules, labels and annotations, keeping what users added', () => {
    const existing: ClusterRole = { metadata: { name: 'r', labels: { mine: 'yes' } }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, { apiGroups: ['x'], resources: ['y'], verbs: ['z'] }] };
    const plan = reconcileClusterRole(existing, expected)!;
    expect(plan.recreate).toBe(false);
    expect(plan.object.rules).toEqual([...existing.rules!, { apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
    expect(plan.object.metadata?.labels).toEqual({ 'kubernetes.io/bootstrapping': 'rbac-defaults', mine: 'yes' });
    expect(reconcileClusterRole(plan.object, expected)).toBeUndefined();
  });

  it('leaves roles marked autoupdate=false alone', () => {
    const existing: ClusterRole = { metadata: { name: 'r', annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, rules: [] };
    expect(reconcileClusterRole(existing, expected)).toBeUndefined();
  });

  it('adds subjects to bindings and re-creates one whose roleRef differs', () => {
    const want: ClusterRoleBinding = { metadata: { name: 'b' }, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'r' }, subjects: [{ kind: 'Group', apiGroup: G, name: 'system:authenticated' }] };
    const have: ClusterRoleBinding = { ...want, subjects: [{ kind: 'User', apiGroup: G, name: 'me' }] };
    expect(reconcileClusterRoleBinding(have, want)?.object.subjects).toEqual([...have.subjects!, ...want.subjects!]);
    expect(reconcileClusterRoleBinding(want, want)).toBeUndefined();
    const other = reconcileClusterRoleBinding({ ...want, roleRef: { apiGroup: G, kind: 'ClusterRole', name: 'other' } }, want)!;
    expect(other.recreate).toBe(true);
    expect(other.object.roleRef.name).toBe('r');
  });
});
