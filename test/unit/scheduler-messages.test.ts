// Upstream's FailedScheduling texts, scoring preferences and the queue's back-off.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Framework, feasibleNodesToFind, scoreNodes } from '../../controllers/scheduler/framework.js';
import { fitErrorMessage, reasonHistogram } from '../../controllers/scheduler/messages.js';
import { newPodInfo, SchedulerCache } from '../../controllers/scheduler/node-info.js';
import { CycleState } from '../../controllers/scheduler/plugins/types.js';
import { backoffFor, SchedulingQueue } from '../../controllers/scheduler/queue.js';

const node = (name: string, labels: Record<string, string> = {}, cpu = '8'): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { allocatable: { cpu, memory: '32Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pod = (name: string, spec: Partial<NonNullable<Pod['spec']>> = {}, nodeName?: string, owner?: string): Pod => ({
  metadata: { name, namespace: 'ns', uid: name, ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true }] : undefined },
  spec: { containers: [{ name: 'c', image: 'i' }], ...spec, nodeName },
});

function run(nodes: Node[], p: Pod, pods: Pod[] = []) {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  for (const x of pods) cache.updatePod(x);
  return { res: new Framework().schedule(new CycleState(p, newPodInfo(p), cache)), cache };
}

describe('scheduler messages', () => {
  test('histogram is sorted as strings', () => {
    expect(reasonHistogram([{ code: 'Unschedulable', reasons: ['b'] }, { code: 'Unschedulable', reasons: ['a'] }, { code: 'Unschedulable', reasons: ['b'] }])).toEqual(['1 a', '2 b']);
    expect(fitErrorMessage(3, [])).toBe('0/3 nodes are available:');
  });

  test('node selector and insufficient cpu, with the preemption suffix', () => {
    const { res } = run([node('a'), node('b', { disktype: 'ssd' }, '2')], pod('p', { nodeSelector: { disktype: 'ssd' }, containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '5' } } }] }));
    expect(res.ok).toBe(false);
    expect(!res.ok && res.message).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling..",
    );
  });

  test('a shortage other pods cause is resolvable', () => {
    const { res } = run([node('a')], pod('p', { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '5' } } }] }), [
      pod('x', { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '4' } } }] }, 'a'),
    ]);
    expect(!res.ok && res.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..');
  });

  test('no nodes at all', () => {
    const { res } = run([], pod('p'));
    expect(!res.ok && res.message).toBe('no nodes available to schedule pods');
  });

  test('preemptionPolicy Never', () => {
    const { res } = run([node('a', {}, '1')], pod('p', { preemptionPolicy: 'Never', containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '2' } } }] }));
    expect(!res.ok && res.message).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..');
  });
});

describe('scheduler scoring', () => {
  test('least allocated prefers the emptier node', () => {
    const cache = new SchedulerCache();
    cache.setNode(node('busy'));
    cache.setNode(node('idle'));
    cache.updatePod(pod('x', { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '6' } } }] }, 'busy'));
    const p = pod('p');
    const st = new CycleState(p, newPodInfo(p), cache);
    const [busy, idle] = scoreNodes(st, [cache.nodes.get('busy')!, cache.nodes.get('idle')!]);
    expect(idle).toBeGreaterThan(busy);
  });

  test("one owner's pods spread over nodes", () => {
    const nodes = [node('a'), node('b'), node('c')];
    const cache = new SchedulerCache();
    for (const n of nodes) cache.setNode(n);
    const fw = new Framework();
    const placed: Record<string, number> = {};
    for (let i = 0; i < 9; i++) {
      const p = pod(`p${i}`, {}, undefined, 'rs1');
      const res = fw.schedule(new CycleState(p, newPodInfo(p), cache));
      if (!res.ok) throw new Error(res.message);
      cache.assume(newPodInfo({ ...p, spec: { ...p.spec!, nodeName: res.node } }), res.node);
      placed[res.node] = (placed[res.node] ?? 0) + 1;
    }
    expect(placed).toEqual({ a: 3, b: 3, c: 3 });
  });

  test('PreferNoSchedule and preferred node affinity steer the choice', () => {
    const soft = { ...node('soft'), spec: { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] } };
    expect(run([soft, node('plain')], pod('p')).res).toMatchObject({ ok: true, node: 'plain' });
    const pref = pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } });
    expect(run([node('x'), node('y', { disk: 'ssd' })], pref).res).toMatchObject({ ok: true, node: 'y' });
  });

  test('preferred pod affinity and anti-affinity, both ways', () => {
    const term = (app: string) => ({ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' });
    const withLabels = (p: Pod, labels: Record<string, string>): Pod => ({ ...p, metadata: { ...p.metadata, labels } });
    const cache = () => [node('x'), node('y')];
    const cachePod = withLabels(pod('cache', {}, 'y'), { app: 'cache' });
    const near = pod('p', { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term('cache') }] } } });
    expect(run(cache(), near, [cachePod]).res).toMatchObject({ ok: true, node: 'y' });
    const away = pod('p', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term('cache') }] } } });
    expect(run(cache(), away, [cachePod]).res).toMatchObject({ ok: true, node: 'x' });
    // A placed pod that prefers to be alone pushes matching newcomers away from its node.
    const loner = pod('loner', { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term('web') }] } } }, 'x');
    expect(run(cache(), withLabels(pod('w'), { app: 'web' }), [loner, pod('filler', {}, 'y')]).res).toMatchObject({ ok: true, node: 'y' });
  });

  test('feasible nodes to find', () => {
    expect(feasibleNodesToFind(50)).toBe(50);
    expect(feasibleNodesToFind(100)).toBe(100);
    expect(feasibleNodesToFind(1000)).toBe(420);
    expect(feasibleNodesToFind(5000)).toBe(500);
  });
});

describe('scheduling queue', () => {
  test('priority order, back-off and moves', async () => {
    let now = 0;
    const q = new SchedulingQueue({ now: () => now, unschedulableFlushMs: 30_000 });
    q.add('ns/low', 0);
    q.add('ns/high', 10);
    expect(await q.pop()).toBe('ns/high');
    expect(await q.pop()).toBe('ns/low');
    q.failed('ns/low');
    expect(q.stageOf('ns/low')).toBe('unschedulable');
    q.moveAll();
    expect(q.stageOf('ns/low')).toBe('backoff');
    now += backoffFor(1);
    q.flushBackoff();
    expect(q.stageOf('ns/low')).toBe('active');
    expect(await q.pop()).toBe('ns/low');
    q.failed('ns/low');
    now += 30_000;
    q.flushUnschedulable();
    expect(await q.pop()).toBe('ns/low');
    // Only events relevant to the rejecting plugin move a parked pod.
    q.failed('ns/low', new Set(['NodeAffinity']));
    q.moveAll(['NodeResourcesFit']);
    expect(q.stageOf('ns/low')).toBe('unschedulable');
    q.moveAll();
    expect(q.stageOf('ns/low')).toBe('backoff');
    q.delete('ns/low');
    expect(q.size).toBe(1);
    expect(backoffFor(1)).toBe(1000);
    expect(backoffFor(10)).toBe(10_000);
    q.close();
  });
});
