import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import {
  evictionDelayMs,
  HeartbeatTracker,
  isStale,
  lifecycleTaintKey,
  needsMarkNotReady,
  notReadyConditions,
  reconcileTaints,
  unknownConditions,
  NODE_STATUS_UNKNOWN_MESSAGE,
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
} from '../../controllers/node-lifecycle-logic.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const GRACE = 40_000;

function node(ready: string | undefined, taints: Taint[] = []): Node {
  const conds = ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: 'False', reason: 'KubeletHasSufficient' }));
  return {
    metadata: { name: 'n1', creationTimestamp: '2025-12-31T00:00:00Z' },
    spec: { taints },
    status: { conditions: ready === undefined ? conds : [{ type: 'Ready', status: ready, reason: 'KubeletReady', lastHeartbeatTime: '2025-12-31T23:59:00Z' }, ...conds] },
  };
}

describe('heartbeat staleness', () => {
  test('a node first seen gets a full grace period; a renewed Lease resets it', () => {
    const t = new HeartbeatTracker();
    expect(t.observe('n1', 'r1', 'h1', NOW)).toBe(NOW);
    expect(isStale(t.observe('n1', 'r1', 'h1', NOW + 30_000), NOW + 30_000, GRACE)).toBe(false);
    // Lease renewed at +35 s: probe time moves.
    expect(t.observe('n1', 'r2', 'h1', NOW + 35_000)).toBe(NOW + 35_000);
    expect(isStale(t.observe('n1', 'r2', 'h1', NOW + 70_000), NOW + 70_000, GRACE)).toBe(false);
    expect(isStale(t.observe('n1', 'r2', 'h1', NOW + 76_000), NOW + 76_000, GRACE)).toBe(true);
    // A Ready heartbeat alone also counts.
    expect(isStale(t.observe('n1', 'r2', 'h2', NOW + 80_000), NOW + 80_000, GRACE)).toBe(false);
    t.forget('n1');
    expect(t.names()).toEqual([]);
  });
});

describe('conditions and taints', () => {
  test('a silent node gets every condition Unknown with NodeStatusUnknown', () => {
    const conds = unknownConditions(node('True'), NOW)!;
    expect(conds.map((c) => [c.type, c.status, c.reason, c.message])).toEqual(
      ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].map((t) => [t, 'Unknown', 'NodeStatusUnknown', NODE_STATUS_UNKNOWN_MESSAGE]),
    );
    expect(conds[0].lastHeartbeatTime).toBe('2025-12-31T23:59:00Z');
    expect(conds[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    // Already Unknown: nothing to write.
    expect(unknownConditions({ ...node('True'), status: { conditions: conds } }, NOW + 5000)).toBeUndefined();
    // A node that never reported Ready gets it added.
    const never = unknownConditions(node(undefined), NOW)!;
    expect(never.find((c) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
  });

  test('taint keys follow Ready', () => {
    expect(lifecycleTaintKey(node('True'))).toBeUndefined();
    expect(lifecycleTaintKey(node('False'))).toBe(TAINT_NOT_READY);
    expect(lifecycleTaintKey(node('Unknown'))).toBe(TAINT_UNREACHABLE);
  });

  test('unreachable taints added with timeAdded, swapped for not-ready, removed when Ready', () => {
    const user: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const t1 = reconcileTaints(node('Unknown', [user]), NOW)!;
    expect(t1).toEqual([user, { key: TAINT_UNREACHABLE, effect: 'NoSchedule' }, { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' }]);
    expect(reconcileTaints(node('Unknown', t1), NOW + 5000)).toBeUndefined();
    const t2 = reconcileTaints(node('False', t1), NOW)!;
    expect(t2.map((t) => `${t.key}:${t.effect}`)).toEqual(['dedicated:NoSchedule', `${TAINT_NOT_READY}:NoSchedule`, `${TAINT_NOT_READY}:NoExecute`]);
    expect(reconcileTaints(node('True', t2), NOW)).toEqual([user]);
    expect(reconcileTaints(node('True', [user]), NOW)).toBeUndefined();
  });
});

describe('pods on a tainted node', () => {
  const unreachable: Taint[] = [
    { key: TAINT_UNREACHABLE, effect: 'NoSchedule' },
    { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' },
  ];

  test('no NoExecute taint: never evicted', () => {
    expect(evictionDelayMs([{ key: 'x', effect: 'NoSchedule' }], [])).toBe(Infinity);
  });

  test('untolerated NoExecute taint: evicted at once', () => {
    expect(evictionDelayMs(unreachable, [])).toBe(0);
    expect(evictionDelayMs(unreachable, [{ key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }])).toBe(0);
  });

  test('tolerated with tolerationSeconds: evicted after them; forever without', () => {
    expect(evictionDelayMs(unreachable, [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }])).toBe(300_000);
    expect(evictionDelayMs(unreachable, [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }])).toBe(Infinity);
    expect(evictionDelayMs(unreachable, [{ operator: 'Exists' }])).toBe(Infinity);
    expect(evictionDelayMs(unreachable, [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: -5 }])).toBe(0);
    // Two NoExecute taints: the smaller of the tolerations used.
    const both: Taint[] = [...unreachable, { key: 'maintenance', value: 'yes', effect: 'NoExecute' }];
    expect(evictionDelayMs(both, [
      { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      { key: 'maintenance', operator: 'Equal', value: 'yes', tolerationSeconds: 20 },
    ])).toBe(20_000);
    expect(evictionDelayMs(both, [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 60 }])).toBe(0);
  });

  test('MarkPodsNotReady sets Ready and ContainersReady False', () => {
    const p: Pod = {
      metadata: { name: 'p', namespace: 'default' },
      status: { phase: 'Running', conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
      ] },
    };
    expect(needsMarkNotReady(p)).toBe(true);
    const conds = notReadyConditions(p, NOW);
    expect(conds.map((c) => `${c.type}=${c.status}`)).toEqual(['Initialized=True', 'Ready=False', 'ContainersReady=False', 'PodScheduled=True']);
    expect(needsMarkNotReady({ ...p, status: { ...p.status, conditions: conds } })).toBe(false);
    expect(needsMarkNotReady({ ...p, status: { ...p.status, phase: 'Succeeded' } })).toBe(false);
  });
});
