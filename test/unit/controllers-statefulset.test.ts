import type { ControllerRevision, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { computeHash, newRevision, revisionsToPrune, templateOf } from '../../controllers/history.js';
import {
  claimsFor, newStatefulSetPod, ordinalOf, planStatefulSet, statefulSetStatus, type StsPlanInput,
} from '../../controllers/statefulset-utils.js';

const set: StatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'ns', uid: 'u1', generation: 2 },
  spec: {
    replicas: 3,
    serviceName: 'db-svc',
    selector: { matchLabels: { app: 'db' } },
    template: {
      metadata: { labels: { app: 'db' } },
      spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'data', emptyDir: {} }] },
    },
    volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'storage' } }, spec: { accessModes: ['ReadWriteOnce'] } }],
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
  },
};

function pod(ordinal: number, opts: { ready?: boolean; rev?: string; terminating?: boolean; phase?: string } = {}): Pod {
  const ready = opts.ready ?? true;
  return {
    metadata: {
      name: `db-${ordinal}`,
      namespace: 'ns',
      labels: { app: 'db', 'controller-revision-hash': opts.rev ?? 'db-new' },
      ...(opts.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const input = (over: Partial<StsPlanInput>): StsPlanInput => ({
  replicas: 3, startOrdinal: 0, parallel: false, partition: 0, minReadySeconds: 0, updateRevision: 'db-new', pods: [], setName: 'db', now: Date.now(), ...over,
});

describe('statefulset identity', () => {
  test('ordinals parse only for the set\'s own pods', () => {
    expect(ordinalOf('db', pod(4))).toBe(4);
    expect(ordinalOf('d', pod(4))).toBe(-1);
    expect(ordinalOf('db', { metadata: { name: 'db-x' } })).toBe(-1);
  });

  test('pods get stable names, identity labels, hostname, subdomain and claims', () => {
    const p = newStatefulSetPod(set, set.spec!.template, 'db-abc', 1);
    expect(p.metadata?.name).toBe('db-1');
    expect(p.metadata?.labels).toEqual({
      app: 'db', 'statefulset.kubernetes.io/pod-name': 'db-1', 'apps.kubernetes.io/pod-index': '1', 'controller-revision-hash': 'db-abc',
    });
    expect(p.spec?.hostname).toBe('db-1');
    expect(p.spec?.subdomain).toBe('db-svc');
    expect(p.spec?.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } }]);
    expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'db', uid: 'u1', controller: true });
  });

  test('claims are named <template>-<set>-<ordinal> and carry the selector labels', () => {
    const [c] = claimsFor(set, 2);
    expect(c.metadata?.name).toBe('data-db-2');
    expect(c.metadata?.labels).toEqual({ tier: 'storage', app: 'db' });
    expect(c.spec?.accessModes).toEqual(['ReadWriteOnce']);
  });
});

describe('statefulset ordering', () => {
  test('OrderedReady creates ordinal 0 first, then waits for it to be ready', () => {
    expect(planStatefulSet(input({}))).toEqual([{ kind: 'create', ordinal: 0, revision: 'update' }]);
    expect(planStatefulSet(input({ pods: [pod(0, { ready: false })] }))).toEqual([]);
    expect(planStatefulSet(input({ pods: [pod(0)] }))).toEqual([{ kind: 'create', ordinal: 1, revision: 'update' }]);
  });

  test('Parallel creates every missing ordinal at once', () => {
    const plan = planStatefulSet(input({ parallel: true, pods: [pod(1, { ready: false })] }));
    expect(plan).toEqual([
      { kind: 'create', ordinal: 0, revision: 'update' },
      { kind: 'create', ordinal: 2, revision: 'update' },
    ]);
  });

  test('scale down removes the highest ordinal first and waits for it to go', () => {
    const pods = [pod(0), pod(1), pod(2), pod(3)];
    const plan = planStatefulSet(input({ replicas: 2, pods }));
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ kind: 'delete', why: 'condemned' });
    expect((plan[0] as { pod: Pod }).pod.metadata?.name).toBe('db-3');
    expect(planStatefulSet(input({ replicas: 2, pods: [pod(0), pod(1), pod(2), pod(3, { terminating: true })] }))).toEqual([]);
  });

  test('Parallel scale down deletes all condemned pods at once', () => {
    const plan = planStatefulSet(input({ replicas: 1, parallel: true, pods: [pod(0), pod(1), pod(2)] }));
    expect(plan.map((a) => a.kind === 'delete' && a.pod.metadata?.name)).toEqual(['db-2', 'db-1']);
  });

  test('a failed pod is deleted to be recreated', () => {
    const plan = planStatefulSet(input({ pods: [pod(0, { phase: 'Failed', ready: false })] }));
    expect(plan[0]).toMatchObject({ kind: 'delete', why: 'failed' });
  });
});

describe('statefulset rolling update', () => {
  const old = [pod(0, { rev: 'db-old' }), pod(1, { rev: 'db-old' }), pod(2, { rev: 'db-old' })];

  test('replaces the highest ordinal first, one at a time', () => {
    const plan = planStatefulSet(input({ pods: old }));
    expect(plan).toHaveLength(1);
    expect((plan[0] as { pod: Pod }).pod.metadata?.name).toBe('db-2');
    // The replacement is unhealthy: wait.
    expect(planStatefulSet(input({ pods: [old[0], old[1], pod(2, { ready: false })] }))).toEqual([]);
    const next = planStatefulSet(input({ pods: [old[0], old[1], pod(2)] }));
    expect((next[0] as { pod: Pod }).pod.metadata?.name).toBe('db-1');
  });

  test('stops at the partition, and recreates pods below it at the current revision', () => {
    expect(planStatefulSet(input({ partition: 2, pods: [old[0], old[1], pod(2)] }))).toEqual([]);
    expect(planStatefulSet(input({ partition: 2, pods: [old[1], pod(2)] }))).toEqual([{ kind: 'create', ordinal: 0, revision: 'current' }]);
  });

  test('OnDelete never deletes for an update', () => {
    expect(planStatefulSet(input({ partition: undefined, pods: old }))).toEqual([]);
  });
});

describe('statefulset status and revisions', () => {
  test('counts replicas by revision and completes the rollout when all are updated and ready', () => {
    const s = statefulSetStatus(set, [pod(0, { rev: 'db-old' }), pod(1), pod(2, { ready: false })], 'db-old', 'db-new', 0, Date.now());
    expect(s).toMatchObject({ replicas: 3, readyReplicas: 2, currentReplicas: 1, updatedReplicas: 2, currentRevision: 'db-old', updateRevision: 'db-new', observedGeneration: 2 });
    const done = statefulSetStatus(set, [pod(0), pod(1), pod(2)], 'db-old', 'db-new', 0, Date.now());
    expect(done).toMatchObject({ currentRevision: 'db-new', currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  });

  test('revisions are named <owner>-<hash>, restore the template, and depend on the collision count', () => {
    const r = newRevision(set, set.spec!.template, 1, 0);
    expect(r.metadata?.name).toMatch(/^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(r.metadata?.labels?.['controller.kubernetes.io/hash']).toBe(r.metadata!.name!.slice(3));
    expect(newRevision(set, set.spec!.template, 1, 0, {}, true).metadata?.labels?.['controller-revision-hash']).toBe(r.metadata!.name!.slice(3));
    expect(templateOf(r)).toEqual(set.spec!.template);
    expect(newRevision(set, set.spec!.template, 1, 1).metadata?.name).not.toBe(r.metadata?.name);
    expect(computeHash({ a: 1, b: 2 })).toBe(computeHash({ b: 2, a: 1 }));
  });

  test('history keeps live revisions and the newest up to the limit', () => {
    const revs = [1, 2, 3, 4].map((n): ControllerRevision => ({ metadata: { name: `r${n}` }, revision: n, data: {} }));
    expect(revisionsToPrune(revs, new Set(['r4', 'r1']), 1).map((r) => r.metadata?.name)).toEqual(['r2']);
  });
});
