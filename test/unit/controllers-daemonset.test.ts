import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { daemonSetDiff } from '../../controllers/daemonset.js';
import {
  daemonSetStatus, daemonTolerations, groupByNode, newDaemonPod, nodeShouldRunDaemonPod, oldPodsToDelete, resolveMaxUnavailable, rollingParams, surgeUpdate, targetNodeName,
} from '../../controllers/daemonset-utils.js';

const ds: DaemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'ns', uid: 'u1', generation: 3 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
  },
};

const node = (name: string, extra: Partial<Node> = {}, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels }, ...extra });

function pod(name: string, nodeName: string, opts: { hash?: string; ready?: boolean; created?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'agent', 'controller-revision-hash': opts.hash ?? 'new' }, creationTimestamp: opts.created ?? '2024-01-01T00:00:00Z' },
    spec: { nodeName, containers: [] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

const withSpec = (spec: Record<string, unknown>): DaemonSet => ({ ...ds, spec: { ...ds.spec!, template: { ...ds.spec!.template, spec: { containers: [], ...spec } } } });

describe('daemonset node eligibility', () => {
  test('node selectors and required node affinity', () => {
    const sel = withSpec({ nodeSelector: { disk: 'ssd' } });
    expect(nodeShouldRunDaemonPod(node('a', {}, { disk: 'ssd' }), sel).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(node('b'), sel)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    const aff = withSpec({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z1'] }] }] } } },
    });
    expect(nodeShouldRunDaemonPod(node('a', {}, { zone: 'z1' }), aff).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(node('a', {}, { zone: 'z2' }), aff).shouldRun).toBe(false);
  });

  test('taints must be tolerated; NoSchedule taints keep existing pods', () => {
    const noSchedule = node('a', { spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] } });
    expect(nodeShouldRunDaemonPod(noSchedule, ds)).toEqual({ shouldRun: false, shouldContinueRunning: true });
    const noExecute = node('a', { spec: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }] } });
    expect(nodeShouldRunDaemonPod(noExecute, ds)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    const tolerant = withSpec({ tolerations: [{ key: 'gpu', operator: 'Equal', value: 'yes' }] });
    expect(nodeShouldRunDaemonPod(noExecute, tolerant).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(node('a', { spec: { taints: [{ key: 'other', effect: 'PreferNoSchedule' }] } }), ds).shouldRun).toBe(true);
  });

  test('cordoned and not-ready nodes still run daemons (default tolerations)', () => {
    const cordoned = node('a', { spec: { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] } });
    expect(nodeShouldRunDaemonPod(cordoned, ds).shouldRun).toBe(true);
    const notReady = node('a', { spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] } });
    expect(nodeShouldRunDaemonPod(notReady, ds).shouldRun).toBe(true);
    expect(daemonTolerations({ containers: [], hostNetwork: true }).map((t) => t.key)).toContain('node.kubernetes.io/network-unavailable');
  });
});

describe('daemonset pods', () => {
  test('are pinned by node affinity, labelled with the revision, and tolerate node conditions', () => {
    const p = newDaemonPod(ds, 'abc', 'node-1');
    expect(p.spec?.nodeName).toBeUndefined();
    expect(p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }],
    });
    expect(targetNodeName(p)).toBe('node-1');
    expect(p.metadata?.labels).toMatchObject({ 'controller-revision-hash': 'abc', 'pod-template-generation': '3' });
    expect(p.spec?.tolerations).toHaveLength(6);
  });

  test('one pod per eligible node: create where missing, delete extras and misplaced pods', () => {
    const nodes = [node('a'), node('b'), node('c', { spec: { taints: [{ key: 'x', effect: 'NoExecute' }] } })];
    const pods = [pod('p1', 'b', { created: '2024-01-01T00:00:00Z' }), pod('p2', 'b', { created: '2024-01-02T00:00:00Z' }), pod('p3', 'c'), pod('p4', 'gone')];
    const diff = daemonSetDiff(ds, nodes, groupByNode(pods));
    expect(diff.create).toEqual(['a']);
    expect(diff.remove.map((p) => p.metadata?.name).sort()).toEqual(['p2', 'p3']);
  });
});

describe('daemonset rolling update and status', () => {
  test('maxUnavailable bounds how many available old pods go at once; unavailable old pods go anyway', () => {
    const byNode = groupByNode([pod('a1', 'a', { hash: 'old' }), pod('b1', 'b', { hash: 'old' }), pod('c1', 'c', { hash: 'old', ready: false })]);
    expect(oldPodsToDelete(byNode, 'new', 3, 1, 0, Date.now()).map((p) => p.metadata?.name)).toEqual(['c1', 'a1']);
    const inProgress = groupByNode([pod('a2', 'a', { ready: false }), pod('b1', 'b', { hash: 'old' })]);
    expect(oldPodsToDelete(inProgress, 'new', 3, 1, 0, Date.now())).toEqual([]);
    expect(resolveMaxUnavailable({ spec: { ...ds.spec!, updateStrategy: { rollingUpdate: { maxUnavailable: '25%' } } } }, 10)).toBe(3);
  });

  test('maxSurge starts new pods beside old ones and removes the old once the new is available', () => {
    expect(rollingParams({ spec: { ...ds.spec!, updateStrategy: { rollingUpdate: { maxSurge: '50%' } } } }, 3)).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    const eligible = new Set(['a', 'b', 'c']);
    const start = groupByNode([pod('a1', 'a', { hash: 'old' }), pod('b1', 'b', { hash: 'old' }), pod('c1', 'c', { hash: 'old' })]);
    expect(surgeUpdate(start, eligible, 'new', 3, 1, 0, Date.now())).toEqual({ create: ['a'], remove: [] });
    const surged = groupByNode([pod('a1', 'a', { hash: 'old' }), pod('a2', 'a'), pod('b1', 'b', { hash: 'old' }), pod('c1', 'c', { hash: 'old' })]);
    const plan = surgeUpdate(surged, eligible, 'new', 3, 1, 0, Date.now());
    expect(plan.remove.map((p) => p.metadata?.name)).toEqual(['a1']);
    expect(plan.create).toEqual(['b']);
    const waiting = groupByNode([pod('a1', 'a', { hash: 'old' }), pod('a2', 'a', { ready: false }), pod('b1', 'b', { hash: 'old' })]);
    expect(surgeUpdate(waiting, eligible, 'new', 3, 1, 0, Date.now())).toEqual({ create: [], remove: [] });
    // With surge the manage step keeps one pod of each revision on a node.
    expect(daemonSetDiff(ds, [{ metadata: { name: 'a' } }], surged, { hash: 'new' }).remove).toEqual([]);
  });

  test('status counts desired, scheduled, ready, updated and misscheduled nodes', () => {
    const nodes = [node('a'), node('b'), node('c', { spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } })];
    const byNode = groupByNode([pod('a1', 'a'), pod('b1', 'b', { hash: 'old', ready: false }), pod('c1', 'c')]);
    expect(daemonSetStatus(ds, nodes, byNode, 'new', Date.now())).toMatchObject({
      desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1,
      numberMisscheduled: 1, numberUnavailable: 1, observedGeneration: 3,
    });
  });
});
