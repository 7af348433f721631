// ReplicaSet reconcile decisions: which pods go first, how many to create, status counts,
// and adoption/release by selector.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { fromLabelSelector } from '../../apimachinery/labels.js';
import { compareForDeletion, podFromTemplate, podsToDelete, slowStartBatch } from '../../controllers/controller-utils.js';
import { claimAction } from '../../controllers/controller-ref-manager.js';
import { BURST_REPLICAS, calculateReplicaSetStatus, replicaSetDiff } from '../../controllers/replicaset.js';

let n = 0;
function pod(o: { node?: string; phase?: string; ready?: boolean | string; restarts?: number; created?: string; cost?: string; labels?: Record<string, string> } = {}): Pod {
  n++;
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'ns',
      uid: `u${n}`,
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
      annotations: o.cost ? { 'controller.kubernetes.io/pod-deletion-cost': o.cost } : undefined,
    },
    spec: { nodeName: o.node, containers: [] },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: typeof o.ready === 'string' ? o.ready : '2024-01-01T00:00:00Z' }],
      containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: true, restartCount: o.restarts ?? 0 }],
    },
  } as Pod;
}

describe('deletion ranking (ActivePodsWithRanks)', () => {
  test('unscheduled before scheduled', () => {
    const a = pod({ node: 'n1', ready: true });
    const b = pod({ phase: 'Pending' });
    expect(podsToDelete([a, b], [a, b], 1)).toEqual([b]);
  });
  test('pending < unknown < running', () => {
    const running = pod({ node: 'n', phase: 'Running' });
    const unknown = pod({ node: 'n', phase: 'Unknown' });
    const pending = pod({ node: 'n', phase: 'Pending' });
    expect(podsToDelete([running, unknown, pending], [], 2).map((p) => p.metadata?.name)).toEqual([pending, unknown].map((p) => p.metadata?.name));
  });
  test('not ready before ready; lower deletion cost first', () => {
    const ready = pod({ node: 'n', ready: true });
    const notReady = pod({ node: 'n', ready: false });
    expect(compareForDeletion(notReady, ready)).toBeLessThan(0);
    const cheap = pod({ node: 'n', ready: true, cost: '-10' });
    const dear = pod({ node: 'n', ready: true, cost: '100' });
    expect(podsToDelete([dear, cheap], [], 1)).toEqual([cheap]);
  });
  test('doubled-up nodes first, then shorter readiness, more restarts, newer', () => {
    const crowded = pod({ node: 'busy', ready: true });
    const other = pod({ node: 'busy', ready: true });
    const alone = pod({ node: 'quiet', ready: true });
    expect(podsToDelete([alone, crowded], [crowded, other, alone], 1)).toEqual([crowded]);
    const longReady = pod({ node: 'n', ready: '2024-01-01T00:00:00Z' });
    const newReady = pod({ node: 'n', ready: '2024-06-01T00:00:00Z' });
    expect(podsToDelete([longReady, newReady], [], 1)).toEqual([newReady]);
    const flaky = pod({ node: 'n', ready: false, restarts: 5 });
    const steady = pod({ node: 'n', ready: false, restarts: 0 });
    expect(podsToDelete([steady, flaky], [], 1)).toEqual([flaky]);
    const older = pod({ node: 'n', created: '2024-01-01T00:00:00Z' });
    const newer = pod({ node: 'n', created: '2024-02-01T00:00:00Z' });
    expect(podsToDelete([older, newer], [], 1)).toEqual([newer]);
  });
});

describe('replicaSetDiff', () => {
  test('creates the shortfall, capped at the burst', () => {
    expect(replicaSetDiff(3, [pod()])).toEqual({ create: 2 });
    expect(replicaSetDiff(10_000, [])).toEqual({ create: BURST_REPLICAS });
  });
  test('deletes the surplus, worst pods first', () => {
    const good = pod({ node: 'n', ready: true });
    const bad = pod({ phase: 'Pending' });
    expect(replicaSetDiff(1, [good, bad])).toEqual({ delete: [bad] });
    expect(replicaSetDiff(2, [good, bad])).toEqual({ none: true });
  });
});

test('status counts: labels, readiness, availability after minReadySeconds', () => {
  const rs: ReplicaSet = { metadata: { name: 'rs', generation: 4 }, spec: { replicas: 3, minReadySeconds: 10, selector: {}, template: { metadata: { labels: { app: 'web', tier: 'x' } } } } };
  const now = Date.parse('2024-01-01T00:01:00Z');
  const pods = [
    pod({ ready: '2024-01-01T00:00:00Z', labels: { app: 'web', tier: 'x' } }),
    pod({ ready: '2024-01-01T00:00:55Z', labels: { app: 'web', tier: 'x' } }),
    pod({ ready: false, labels: { app: 'web' } }),
  ];
  expect(calculateReplicaSetStatus(rs, pods, now)).toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 });
});

test('ReplicaFailure is set while pod creation fails and cleared after', () => {
  const rs: ReplicaSet = { metadata: { name: 'rs', generation: 1 }, spec: { replicas: 1, selector: {} } };
  const failed = calculateReplicaSetStatus(rs, [], 0, { error: new Error('pods "rs-" is forbidden: exceeded quota'), creating: true });
  expect(failed.conditions).toEqual([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "rs-" is forbidden: exceeded quota', lastTransitionTime: '1970-01-01T00:00:00Z' }]);
  expect(calculateReplicaSetStatus({ ...rs, status: failed }, [pod()], 0).conditions).toBeUndefined();
});

test('claim: adopt matching orphans, release owned non-matching, ignore others', () => {
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', uid: 'rs-uid' } };
  const sel = fromLabelSelector({ matchLabels: { app: 'web' } });
  const ours = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }];
  const theirs = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'x', controller: true }];
  expect(claimAction(owner, sel, { metadata: { labels: { app: 'web' } } })).toBe('adopt');
  expect(claimAction(owner, sel, { metadata: { labels: { app: 'web' }, ownerReferences: ours } })).toBe('keep');
  expect(claimAction(owner, sel, { metadata: { labels: { app: 'db' }, ownerReferences: ours } })).toBe('release');
  expect(claimAction(owner, sel, { metadata: { labels: { app: 'web' }, ownerReferences: theirs } })).toBe('ignore');
  expect(claimAction({ ...owner, metadata: { ...owner.metadata, deletionTimestamp: 'x' } }, sel, { metadata: { labels: { app: 'web' } } })).toBe('ignore');
  expect(claimAction(owner, [], { metadata: { labels: { app: 'web' } } })).toBe('ignore');
});

test('pods from templates carry a controller reference', () => {
  const p = podFromTemplate({ metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c' }] } }, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'ns', uid: 'u' } }, 'rs-');
  expect(p.metadata).toEqual({ generateName: 'rs-', namespace: 'ns', labels: { a: 'b' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true, blockOwnerDeletion: true }] });
});

test('slowStartBatch grows 1, 2, 4 and stops at the first failing batch', async () => {
  let calls = 0;
  expect(await slowStartBatch(10, 1, async () => void calls++)).toEqual({ successes: 10 });
  expect(calls).toBe(10);
  calls = 0;
  const r = await slowStartBatch(10, 1, async () => {
    calls++;
    if (calls === 2) throw new Error('quota');
  });
  expect(calls).toBe(3); // batch of 1, then a batch of 2 with one failure
  expect(r.successes).toBe(2);
  expect(r.error?.message).toBe('quota');
});
