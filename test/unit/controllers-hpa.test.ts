import type { Pod } from 'kubernetes-types/core/v1.js';
import { applyRateAndBounds, resourceReplicas, stabilize, type PodMetric } from '../../controllers/horizontal-pod-autoscaler-logic.js';

const NOW = Date.parse('2024-01-01T01:00:00Z');
const LONG_AGO = '2024-01-01T00:00:00Z';

function pod(name: string, request = '100m', opts: { phase?: string; ready?: boolean; started?: string } = {}): Pod {
  return {
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: request } } }] },
    status: {
      phase: opts.phase ?? 'Running',
      startTime: opts.started ?? LONG_AGO,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: LONG_AGO }],
    },
  };
}
const usage = (entries: [string, number][]): Map<string, PodMetric> =>
  new Map(entries.map(([n, v]) => [n, { value: v, timestampMs: NOW - 1000, windowMs: 30_000 }]));

describe('resource utilization replica calculation', () => {
  test('desired = ceil(current × utilization / target)', () => {
    const pods = [pod('a'), pod('b')];
    // 90% of request each against a 50% target: ratio 1.8 → ceil(3.6) = 4
    expect(resourceReplicas(2, 50, 'cpu', pods, usage([['a', 90], ['b', 90]]), NOW)).toEqual({ replicas: 4, utilization: 90, averageValue: 90 });
    // 20% against 50%: ratio 0.4 → ceil(0.8) = 1
    expect(resourceReplicas(2, 50, 'cpu', pods, usage([['a', 20], ['b', 20]]), NOW).replicas).toBe(1);
  });

  test('within the 10 % tolerance nothing changes', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    expect(resourceReplicas(3, 50, 'cpu', pods, usage([['a', 54], ['b', 54], ['c', 54]]), NOW).replicas).toBe(3);
    expect(resourceReplicas(3, 50, 'cpu', pods, usage([['a', 46], ['b', 46], ['c', 46]]), NOW).replicas).toBe(3);
    expect(resourceReplicas(3, 50, 'cpu', pods, usage([['a', 56], ['b', 56], ['c', 56]]), NOW).replicas).toBe(4);
  });

  test('pods without metrics count as full on scale down and idle on scale up', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    // scale up: a,b at 100% vs 50% target; c missing counts 0 → (200/300)/0.5 = 1.33 → ceil(4) = 4
    expect(resourceReplicas(3, 50, 'cpu', pods, usage([['a', 100], ['b', 100]]), NOW).replicas).toBe(4);
    // scale down: a,b at 10%; c missing counts 100% → 120/300 = 40% → ratio 0.8 → ceil(2.4) = 3: no change
    expect(resourceReplicas(3, 50, 'cpu', pods, usage([['a', 10], ['b', 10]]), NOW).replicas).toBe(3);
  });

  test('unready and pending pods only damp a scale up', () => {
    const pods = [pod('a'), pod('b', '100m', { phase: 'Pending' })];
    // a at 200% vs 100% target: ratio 2, with the pending pod as 0 → 200/200 = 100% → within tolerance → unchanged
    expect(resourceReplicas(2, 100, 'cpu', pods, usage([['a', 200]]), NOW).replicas).toBe(2);
  });

  test('a container without a request is an error, as upstream', () => {
    const p = pod('a');
    (p.spec!.containers[0] as any).resources = {};
    expect(() => resourceReplicas(1, 50, 'cpu', [p], usage([['a', 10]]), NOW)).toThrow(/missing request for cpu/);
  });
});

describe('behavior: stabilization and scaling policies', () => {
  test('scale down takes the highest recommendation of the last 300 s', () => {
    const history = [
      { replicas: 8, timestampMs: NOW - 200_000 },
      { replicas: 5, timestampMs: NOW - 100_000 },
      { replicas: 10, timestampMs: NOW - 400_000 }, // outside the window
    ];
    expect(stabilize(2, 10, history, undefined, NOW)).toBe(8);
    expect(stabilize(2, 10, [], undefined, NOW)).toBe(2);
    expect(stabilize(2, 10, history, { scaleDown: { stabilizationWindowSeconds: 60 } }, NOW)).toBe(2);
  });

  test('scale up is immediate by default, or the lowest recommendation within its window', () => {
    const history = [{ replicas: 3, timestampMs: NOW - 30_000 }];
    expect(stabilize(9, 3, history, undefined, NOW)).toBe(9);
    expect(stabilize(9, 3, history, { scaleUp: { stabilizationWindowSeconds: 60 } }, NOW)).toBe(3);
  });

  test('min and max replicas bound the result', () => {
    expect(applyRateAndBounds(20, 5, 1, 10, undefined, [], NOW)).toMatchObject({ replicas: 10, reason: 'TooManyReplicas' });
    expect(applyRateAndBounds(0, 5, 2, 10, undefined, [], NOW)).toMatchObject({ replicas: 2, reason: 'TooFewReplicas' });
    expect(applyRateAndBounds(7, 5, 1, 10, undefined, [], NOW)).toMatchObject({ replicas: 7, reason: 'DesiredWithinRange' });
  });

  test('default scale-up rate: the larger of +4 pods and +100 % per 15 s', () => {
    expect(applyRateAndBounds(50, 2, 1, 100, undefined, [], NOW)).toMatchObject({ replicas: 6, reason: 'ScaleUpLimit' });
    expect(applyRateAndBounds(50, 10, 1, 100, undefined, [], NOW)).toMatchObject({ replicas: 20, reason: 'ScaleUpLimit' });
    // 10 replicas were just added: the period's base is 10, not 20.
    expect(applyRateAndBounds(50, 20, 1, 100, undefined, [{ change: 10, timestampMs: NOW - 5000 }], NOW).replicas).toBe(20);
  });

  test('custom scale-down policies and Disabled', () => {
    const behavior = { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    expect(applyRateAndBounds(2, 10, 1, 20, behavior, [], NOW)).toMatchObject({ replicas: 9, reason: 'ScaleDownLimit' });
    expect(applyRateAndBounds(2, 10, 1, 20, { scaleDown: { selectPolicy: 'Disabled' } }, [], NOW).replicas).toBe(10);
  });
});
