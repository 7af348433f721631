// Deployment rollout arithmetic: hashes, revisions, surge/unavailable steps, proportional
// scaling and conditions.
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { newRSNewReplicas, reconcileNewReplicaSet, reconcileOldReplicaSets, scalePlan, isScalingEvent } from '../../controllers/deployment-rolling.js';
import {
  calculateStatus, computeHash, deploymentComplete, deploymentTimedOut, equalIgnoreHash, findNewReplicaSet, maxRevision, resolveFenceposts,
  safeEncodeString, setNewReplicaSetAnnotations, type RS,
} from '../../controllers/deployment-util.js';

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } });

function deploy(replicas: number, o: { surge?: number | string; unavailable?: number | string; recreate?: boolean; image?: string } = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'd', generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: template(o.image ?? 'a'),
      strategy: o.recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.surge ?? '25%', maxUnavailable: o.unavailable ?? '25%' } },
      progressDeadlineSeconds: 600,
    },
  };
}

function rs(name: string, replicas: number, available = replicas, o: { created?: string; revision?: string; max?: number; desired?: number; image?: string } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (o.revision) annotations['deployment.kubernetes.io/revision'] = o.revision;
  if (o.max !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(o.max);
  if (o.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(o.desired);
  return {
    metadata: { name, uid: name, creationTimestamp: o.created ?? '2024-01-01T00:00:00Z', annotations },
    spec: { replicas, selector: {}, template: template(o.image ?? name) },
    status: { replicas, availableReplicas: available, readyReplicas: available },
  };
}

test('hash: stable, safe-encoded, changes with the template and the collision count', () => {
  const h = computeHash(template('a'));
  expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
  expect(computeHash(template('a'))).toBe(h);
  expect(computeHash(template('b'))).not.toBe(h);
  expect(computeHash(template('a'), 1)).not.toBe(h);
  expect(safeEncodeString('0123456789')).toBe('bcdfghjklm'.split('').map((_, i) => 'bcdfghjklmnpqrstvwxz2456789'[(48 + i) % 27]).join(''));
});

test('the new ReplicaSet is the one whose template equals the deployment template, hash label aside', () => {
  const d = deploy(3, { image: 'b' });
  const withHash = { ...rs('new', 0, 0, { image: 'b' }) };
  (withHash.spec!.template!.metadata!.labels as Record<string, string>)['pod-template-hash'] = 'xyz';
  expect(equalIgnoreHash(withHash.spec!.template, d.spec!.template)).toBe(true);
  expect(findNewReplicaSet(d, [rs('old', 3, 3, { image: 'a' }), withHash])).toBe(withHash);
});

test('fenceposts: surge rounds up, unavailable down, never both zero', () => {
  expect(resolveFenceposts(deploy(10))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
  expect(resolveFenceposts(deploy(1, { surge: 0, unavailable: '10%' }))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
});

describe('rolling update steps', () => {
  test('the new ReplicaSet grows by maxSurge', () => {
    const d = deploy(4, { surge: 1, unavailable: 0 });
    const old = rs('old', 4);
    const nu = rs('new', 0, 0);
    expect(newRSNewReplicas(d, [old, nu], nu)).toBe(1);
    expect(reconcileNewReplicaSet(d, [old, nu], nu)).toEqual({ rs: nu, to: 1 });
    // At the surge limit nothing more may be added.
    const nu1 = rs('new', 1, 0);
    expect(reconcileNewReplicaSet(d, [old, nu1], nu1)).toBeUndefined();
  });
  test('old ReplicaSets shrink as far as maxUnavailable allows', () => {
    const d = deploy(4, { surge: 1, unavailable: 0 });
    const old = rs('old', 4);
    expect(reconcileOldReplicaSets(d, [old], rs('new', 1, 0))).toEqual([]);
    expect(reconcileOldReplicaSets(d, [old], rs('new', 1, 1))).toEqual([{ rs: old, to: 3 }]);
  });
  test('unhealthy old replicas are scaled down first', () => {
    // 4 pods, at least 3 available: one may go, and it should be one of the 2 unavailable.
    const d = deploy(4, { surge: 0, unavailable: 1 });
    const old = rs('old', 4, 2);
    expect(reconcileOldReplicaSets(d, [old], rs('new', 0, 0))).toEqual([{ rs: old, to: 3 }]);
    // Unhealthy pods do not count towards availability, so they can all go when enough others are available.
    const d2 = deploy(4, { surge: 0, unavailable: 2 });
    const healthy = rs('healthy', 2, 2);
    const sick = rs('sick', 2, 0, { created: '2023-01-01T00:00:00Z' });
    expect(reconcileOldReplicaSets(d2, [healthy, sick], rs('new', 0, 0))).toEqual([{ rs: sick, to: 0 }]);
  });
  test('Recreate wants the full size at once', () => {
    const d = deploy(5, { recreate: true });
    expect(newRSNewReplicas(d, [rs('new', 0, 0)], rs('new', 0, 0))).toBe(5);
  });
});

describe('scaling', () => {
  test('a single active ReplicaSet takes the whole new size', () => {
    const only = rs('a', 3, 3, { desired: 3, max: 4 });
    const d = deploy(5);
    expect(isScalingEvent(d, [only])).toBe(true);
    expect(scalePlan(d, only, [])).toEqual([{ rs: only, to: 5 }]);
  });
  test('mid-rollout, a resize is shared in proportion', () => {
    // 10 replicas, surge 3: the ReplicaSets were sized for 13 in all; growing to 20 (+surge 5 = 25).
    const d = deploy(20);
    const nu = rs('new', 5, 5, { created: '2024-02-01T00:00:00Z', max: 13, desired: 10 });
    const old = rs('old', 8, 8, { max: 13, desired: 10 });
    const plan = scalePlan(d, nu, [old]);
    const total = plan.reduce((s, op) => s + op.to, 0);
    expect(total).toBe(25);
    expect(plan.find((op) => op.rs === old)!.to).toBe(15);
    expect(plan.find((op) => op.rs === nu)!.to).toBe(10);
  });
});

test('revisions: the next one is one past the max; a revived template records its history', () => {
  expect(maxRevision([rs('a', 0, 0, { revision: '2' }), rs('b', 0, 0, { revision: '5' }), rs('c', 0)])).toBe(5);
  const d = deploy(3);
  const revived = rs('old', 0, 0, { revision: '1' }) as RS;
  expect(setNewReplicaSetAnnotations(d, revived, 3, true)).toBe(true);
  expect(revived.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('3');
  expect(revived.metadata!.annotations!['deployment.kubernetes.io/revision-history']).toBe('1');
  const fresh = { metadata: {}, spec: { selector: {} } } as RS;
  setNewReplicaSetAnnotations({ ...d, metadata: { ...d.metadata, annotations: { team: 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } }, fresh, 1, false);
  expect(fresh.metadata!.annotations).toEqual({ team: 'x', 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
});

test('status: counts and the Available condition; completeness and deadlines', () => {
  const d = deploy(3);
  const nu = rs('new', 3, 2);
  const s = calculateStatus(d, [nu, rs('old', 0, 0)], nu);
  expect(s).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1, observedGeneration: 1 });
  // 25% of 3 rounds down to 0 unavailable allowed.
  expect(s.conditions!.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
  const tolerant = deploy(3, { unavailable: 1 });
  expect(calculateStatus(tolerant, [nu], nu).conditions!.find((c) => c.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
  expect(deploymentComplete(d, s)).toBe(false);
  expect(deploymentComplete(d, { ...s, availableReplicas: 3 })).toBe(true);
  const stale = { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2024-01-01T00:00:00Z' }] };
  expect(deploymentTimedOut(d, stale, Date.parse('2024-01-01T00:09:00Z'))).toBe(false);
  expect(deploymentTimedOut(d, stale, Date.parse('2024-01-01T00:11:00Z'))).toBe(true);
});
