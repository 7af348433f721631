import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import {
  computePdbStatus,
  currentHealthyCount,
  desiredHealthyCount,
  expectedPodCount,
  failSafeStatus,
  podsForPdb,
  pruneDisruptedPods,
  scaledValue,
  type ScaleLookup,
} from '../../controllers/disruption.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function pod(name: string, opts: { ready?: boolean; labels?: Record<string, string>; owner?: string; deleting?: boolean; ns?: string } = {}): Pod {
  const owner: OwnerReference[] | undefined = opts.owner
    ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner, uid: `uid-${opts.owner}`, controller: true }]
    : undefined;
  return {
    metadata: {
      name,
      namespace: opts.ns ?? 'default',
      labels: opts.labels ?? { app: 'web' },
      ownerReferences: owner,
      deletionTimestamp: opts.deleting ? '2026-01-01T00:00:00Z' : undefined,
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

function pdb(spec: { minAvailable?: number | string; maxUnavailable?: number | string }, status?: PodDisruptionBudget['status']): PodDisruptionBudget {
  return {
    metadata: { name: 'pdb', namespace: 'default', generation: 3 },
    spec: { ...spec, selector: { matchLabels: { app: 'web' } } },
    status,
  };
}

const lookup = (replicas: Record<string, number>): ScaleLookup => (_ns, ref) =>
  replicas[ref.name] === undefined ? undefined : { uid: ref.uid, replicas: replicas[ref.name] };

describe('PDB arithmetic', () => {
  test('scaled values round percentages as asked', () => {
    expect(scaledValue(2, 10, true)).toBe(2);
    expect(scaledValue('50%', 5, true)).toBe(3);
    expect(scaledValue('50%', 5, false)).toBe(2);
    expect(scaledValue('3', 5, true)).toBe(3);
    expect(() => scaledValue('abc', 5, true)).toThrow();
  });

  test('desiredHealthy from minAvailable and maxUnavailable', () => {
    expect(desiredHealthyCount(pdb({ minAvailable: 2 }), 5)).toBe(2);
    expect(desiredHealthyCount(pdb({ minAvailable: '50%' }), 5)).toBe(3);
    expect(desiredHealthyCount(pdb({ maxUnavailable: 1 }), 5)).toBe(4);
    // maxUnavailable percentages round up, so fewer pods are required healthy.
    expect(desiredHealthyCount(pdb({ maxUnavailable: '30%' }), 5)).toBe(3);
    expect(desiredHealthyCount(pdb({ maxUnavailable: 10 }), 5)).toBe(0);
    expect(desiredHealthyCount(pdb({ minAvailable: '100%' }), 3)).toBe(3);
  });

  test('selector: same namespace and matching labels; no selector matches nothing', () => {
    const pods = [pod('a'), pod('b', { labels: { app: 'db' } }), pod('c', { ns: 'other' })];
    expect(podsForPdb(pdb({ minAvailable: 1 }), pods).map((p) => p.metadata?.name)).toEqual(['a']);
    expect(podsForPdb({ metadata: { namespace: 'default' }, spec: { minAvailable: 1 } }, pods)).toEqual([]);
  });

  test('expectedPods: pod count for an integer minAvailable, controllers scale otherwise', () => {
    const pods = [pod('a', { owner: 'rs1' }), pod('b', { owner: 'rs1' }), pod('c')];
    expect(expectedPodCount(pdb({ minAvailable: 2 }), pods, lookup({ rs1: 5 }))).toBe(3);
    // rs1 counts once with its 5 replicas; the controller-less pod counts as one.
    expect(expectedPodCount(pdb({ minAvailable: '50%' }), pods, lookup({ rs1: 5 }))).toBe(6);
    expect(expectedPodCount(pdb({ maxUnavailable: 1 }), pods, lookup({ rs1: 5 }))).toBe(6);
    // An unknown controller falls back to one per pod.
    expect(expectedPodCount(pdb({ maxUnavailable: 1 }), pods, lookup({}))).toBe(3);
  });

  test('currentHealthy skips unready, deleting and recently disrupted pods', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { deleting: true }), pod('d'), pod('e')];
    const disrupted = { d: new Date(NOW - 1000).toISOString(), e: new Date(NOW - 3 * 60_000).toISOString() };
    expect(currentHealthyCount(pods, disrupted, NOW)).toBe(2);
    expect(pruneDisruptedPods({ ...disrupted, gone: new Date(NOW).toISOString(), c: new Date(NOW).toISOString() }, pods, NOW)).toEqual({ d: disrupted.d });
  });

  test('minAvailable 2 over 2 ready pods allows no disruption', () => {
    const pods = [pod('a'), pod('b')];
    const s = computePdbStatus(pdb({ minAvailable: 2 }), pods, 2, NOW);
    expect(s).toMatchObject({ observedGeneration: 3, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
    expect(s.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
  });

  test('maxUnavailable 25% of 4 allows one disruption; condition keeps its transition time', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d')];
    const old = '2025-01-01T00:00:00Z';
    const p = pdb({ maxUnavailable: '25%' }, {
      disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3, expectedPods: 4,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: old }],
    });
    const s = computePdbStatus(p, pods, 4, NOW);
    expect(s).toMatchObject({ desiredHealthy: 3, currentHealthy: 4, disruptionsAllowed: 1 });
    expect(s.conditions?.[0]).toMatchObject({ status: 'True', reason: 'SufficientPods', lastTransitionTime: old });
    // One pod unready: no more disruptions, and the condition flips.
    const s2 = computePdbStatus(p, [pod('a'), pod('b'), pod('c'), pod('d', { ready: false })], 4, NOW);
    expect(s2.disruptionsAllowed).toBe(0);
    expect(s2.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
    expect(s2.conditions?.[0].lastTransitionTime).not.toBe(old);
  });

  test('fail-safe status allows nothing', () => {
    const s = failSafeStatus(pdb({ minAvailable: 'x%' }), 'bad', NOW);
    expect(s.disruptionsAllowed).toBe(0);
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SyncFailed', message: 'bad' });
  });
});
