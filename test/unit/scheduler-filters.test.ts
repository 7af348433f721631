// Filters of the scheduler's plugins, driven through the framework as one cycle would.
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { Framework, runFilters } from '../../controllers/scheduler/framework.js';
import { newPodInfo, nodeInfoOf, SchedulerCache } from '../../controllers/scheduler/node-info.js';
import { CycleState } from '../../controllers/scheduler/plugins/types.js';
import { podRequests } from '../../controllers/scheduler/resources.js';
import { tolerates } from '../../controllers/scheduler/plugins/taint-toleration.js';

function node(name: string, extra: { labels?: Record<string, string>; taints?: Taint[]; unschedulable?: boolean; cpu?: string; ready?: string; pods?: string } = {}): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
    spec: { taints: extra.taints, unschedulable: extra.unschedulable },
    status: {
      allocatable: { cpu: extra.cpu ?? '8', memory: '32Gi', pods: extra.pods ?? '110' },
      conditions: [{ type: 'Ready', status: extra.ready ?? 'True' }],
    },
  };
}

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}, labels?: Record<string, string>, nodeName?: string): Pod {
  return { metadata: { name, namespace: 'ns', labels, uid: `uid-${name}` }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec, nodeName } };
}

function cacheWith(nodes: Node[], pods: Pod[] = []): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.setNode(n);
  for (const p of pods) c.updatePod(p);
  return c;
}

function filter(p: Pod, n: Node, others: Pod[] = []): string[] {
  const cache = cacheWith([n], others);
  const state = new CycleState(p, newPodInfo(p), cache);
  const res = new Framework().schedule(state);
  if (res.ok) return [];
  return res.statuses.get(n.metadata!.name!)?.reasons ?? [];
}

const cpu = (q: string): Partial<NonNullable<Pod['spec']>> => ({ containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: q } } }] });

describe('scheduler filters', () => {
  test('resources: quantities and sums of bound pods', () => {
    expect(podRequests(pod('a', cpu('100m'))).milliCPU).toBe(100);
    expect(podRequests(pod('a', { containers: [{ name: 'c', image: 'i', resources: { requests: { memory: '1Gi' } } }] })).memory).toBe(2 ** 30);
    expect(filter(pod('big', cpu('5000')), node('n1'))).toEqual(['Insufficient cpu']);
    expect(filter(pod('p', cpu('4')), node('n1'), [pod('x', cpu('4500m'), undefined, 'n1')])).toEqual(['Insufficient cpu']);
    expect(filter(pod('p', cpu('3')), node('n1'), [pod('x', cpu('4500m'), undefined, 'n1')])).toEqual([]);
    // Finished pods free their requests.
    const done = { ...pod('x', cpu('8'), undefined, 'n1'), status: { phase: 'Succeeded' } };
    expect(filter(pod('p', cpu('1')), node('n1'), [done])).toEqual([]);
    expect(filter(pod('p'), node('n1', { pods: '1' }), [pod('x', {}, undefined, 'n1')])).toEqual(['Too many pods']);
  });

  test('init containers: the max of the largest init container and the app containers', () => {
    const p = pod('p', {
      initContainers: [{ name: 'i', image: 'i', resources: { requests: { cpu: '2' } } }],
      containers: [{ name: 'a', image: 'i', resources: { requests: { cpu: '500m' } } }, { name: 'b', image: 'i', resources: { requests: { cpu: '500m' } } }],
    });
    expect(podRequests(p).milliCPU).toBe(2000);
  });

  test('node selector and required node affinity', () => {
    expect(filter(pod('p', { nodeSelector: { disktype: 'ssd' } }), node('n1'))).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    expect(filter(pod('p', { nodeSelector: { disktype: 'ssd' } }), node('n1', { labels: { disktype: 'ssd' } }))).toEqual([]);
    const affinity = (op: string, values?: string[]) => ({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: op, values }] }] } } },
    });
    expect(filter(pod('p', affinity('In', ['3', '4'])), node('n1', { labels: { gen: '4' } }))).toEqual([]);
    expect(filter(pod('p', affinity('NotIn', ['4'])), node('n1', { labels: { gen: '4' } }))).toHaveLength(1);
    expect(filter(pod('p', affinity('Gt', ['3'])), node('n1', { labels: { gen: '4' } }))).toEqual([]);
    expect(filter(pod('p', affinity('Lt', ['3'])), node('n1', { labels: { gen: '4' } }))).toHaveLength(1);
    expect(filter(pod('p', affinity('DoesNotExist')), node('n1'))).toEqual([]);
  });

  test('cordon, taints, tolerations and readiness', () => {
    expect(filter(pod('p'), node('n1', { unschedulable: true }))).toEqual(['node(s) were unschedulable']);
    const tainted = node('n1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    expect(filter(pod('p'), tainted)).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
    expect(filter(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }), tainted)).toEqual([]);
    expect(filter(pod('p', { tolerations: [{ operator: 'Exists' }] }), tainted)).toEqual([]);
    expect(filter(pod('p'), node('n1', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }))).toEqual([]);
    expect(filter(pod('p'), node('n1', { ready: 'False' }))).toEqual(['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    expect(tolerates({ key: 'a', operator: 'Equal', value: 'x' }, { key: 'a', value: 'y', effect: 'NoSchedule' })).toBe(false);
  });

  test('host ports', () => {
    const withPort = (name: string, ip?: string, n?: string) =>
      pod(name, { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: 8080, hostIP: ip }] }] }, undefined, n);
    expect(filter(withPort('p'), node('n1'), [withPort('x', undefined, 'n1')])).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(filter(withPort('p', '10.0.0.1'), node('n1'), [withPort('x', '10.0.0.2', 'n1')])).toEqual([]);
  });

  test('pod affinity and anti-affinity by hostname', () => {
    const term = { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' };
    const db = pod('db', {}, { app: 'db' }, 'n1');
    const anti = pod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } });
    expect(filter(anti, node('n1'), [db])).toEqual(["node(s) didn't match pod anti-affinity rules"]);
    expect(filter(anti, node('n2'), [db])).toEqual([]);
    const aff = pod('p', { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } });
    expect(filter(aff, node('n1'), [db])).toEqual([]);
    const cache = cacheWith([node('n1'), node('n2')], [db]);
    const st = new CycleState(aff, newPodInfo(aff), cache);
    const res = new Framework().schedule(st);
    expect(res.ok && res.node).toBe('n1');
    // Existing pods' anti-affinity rejects pods they select.
    const guard = pod('guard', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } }, {}, 'n1');
    expect(filter(pod('w', {}, { app: 'web' }), node('n1'), [guard])).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules"]);
  });

  test('affinity terms with a namespaceSelector use namespace labels', () => {
    const db = { ...pod('db', {}, { app: 'db' }, 'n1'), metadata: { name: 'db', namespace: 'data', labels: { app: 'db' } } };
    const term = { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname', namespaceSelector: { matchLabels: { team: 'storage' } } };
    const anti = pod('p', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } });
    const cache = cacheWith([node('n1')], [db]);
    const check = () => new Framework().schedule(new CycleState(anti, newPodInfo(anti), cache)).ok;
    expect(check()).toBe(true);
    cache.namespaceLabels.set('data', { team: 'storage' });
    expect(check()).toBe(false);
  });

  test('topology spread DoNotSchedule', () => {
    const c = { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'w' } } };
    const placed = [pod('a', {}, { app: 'w' }, 'n1')];
    const cache = cacheWith([node('n1'), node('n2')], placed);
    const p = pod('p', { topologySpreadConstraints: [c] }, { app: 'w' });
    const st = new CycleState(p, newPodInfo(p), cache);
    const res = new Framework().schedule(st);
    expect(res.ok && res.node).toBe('n2');
    const n1 = cache.nodes.get('n1')!;
    expect(runFilters(st, n1)?.reasons).toEqual(["node(s) didn't match pod topology spread constraints"]);
  });

  test('nodeInfoOf sums requests', () => {
    const ni = nodeInfoOf(node('n'), [pod('a', cpu('250m'), undefined, 'n'), pod('b', cpu('250m'), undefined, 'n')]);
    expect(ni.requested.milliCPU).toBe(500);
  });
});
