import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { nodeRestriction } from '../../server/admission/node-restriction.js';
import type { AdmissionRequest, Operation } from '../../server/admission/types.js';
import type { Registry } from '../../server/generic/registry.js';
import type { KubeObject, ResourceDefinition } from '../../server/registry/types.js';
import type { UserInfo } from '../../server/auth/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { WatchCache } from '../../server/storage/watch-cache.js';

const n1: UserInfo = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function cacheOf(type: string, objects: Record<string, unknown>): WatchCache {
  const c = new WatchCache(type, 10);
  c.reset(1, new Map(Object.entries(objects).map(([k, o]) => [k, { rev: 1, json: JSON.stringify(o) }])));
  return c;
}
const nodes = cacheOf('core/nodes', { n1: { metadata: { name: 'n1', uid: 'uid-n1' } } });
const pods = cacheOf('core/pods', {
  'ns/mine': { metadata: { name: 'mine', namespace: 'ns' }, spec: { nodeName: 'n1' } },
  'ns/theirs': { metadata: { name: 'theirs', namespace: 'ns' }, spec: { nodeName: 'n2' } },
});
const registry = {
  store: (_group: string, plural: string) => ({ fresh: async () => (plural === 'nodes' ? nodes : pods) }),
} as unknown as Registry;

interface Req { op: Operation; group?: string; plural: string; sub?: string; ns?: string; name?: string; obj?: unknown; old?: unknown; user?: UserInfo }
function request(r: Req): AdmissionRequest {
  return {
    operation: r.op, def: { group: r.group ?? '', plural: r.plural } as ResourceDefinition, subresource: r.sub ?? '',
    namespace: r.ns ?? '', name: r.name ?? '', object: r.obj as KubeObject | undefined, oldObject: r.old as KubeObject | undefined,
    dryRun: false, registry, user: 'user' in r ? r.user : n1,
  };
}
async function refusal(r: Req): Promise<string | undefined> {
  try {
    await nodeRestriction.validate!(request(r));
    return undefined;
  } catch (e) {
    if (!(e instanceof StatusError)) throw e;
    expect(e.code).toBe(403);
    return e.message;
  }
}

const node = (name: string, labels: Record<string, string> = {}, taints?: unknown[]): Node => ({ metadata: { name, labels }, spec: { taints } } as Node);
const pod = (name: string, nodeName: string, extra: Partial<Pod> = {}): Pod => ({ metadata: { name, namespace: 'ns' }, spec: { nodeName, containers: [] }, ...extra } as Pod);

describe('NodeRestriction admission', () => {
  it('ignores users that are not nodes, and the server itself', async () => {
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', sub: 'status', name: 'n2', obj: node('n2'), old: node('n2'), user: { name: 'alice', groups: [] } })).toBeUndefined();
    expect(await refusal({ op: 'DELETE', plural: 'pods', ns: 'ns', name: 'theirs', old: pod('theirs', 'n2'), user: undefined })).toBeUndefined();
  });

  it('lets a node write only its own Node object and status', async () => {
    expect(await refusal({ op: 'CREATE', plural: 'nodes', name: 'n1', obj: node('n1', { 'kubernetes.io/hostname': 'n1', 'node.kubernetes.io/instance-type': 'x' }) })).toBeUndefined();
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', sub: 'status', name: 'n1', obj: node('n1'), old: node('n1') })).toBeUndefined();
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', sub: 'status', name: 'n2', obj: node('n2'), old: node('n2') }))
      .toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    expect(await refusal({ op: 'CREATE', plural: 'nodes', name: 'n2', obj: node('n2') }))
      .toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  });

  it('keeps a node from changing its taints or restricted labels', async () => {
    const tainted = node('n1', {}, [{ key: 'k', effect: 'NoSchedule' }]);
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', name: 'n1', obj: node('n1'), old: tainted }))
      .toBe('nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', name: 'n1', obj: node('n1', { 'node-restriction.kubernetes.io/dedicated': 'x' }), old: node('n1') }))
      .toBe('nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/dedicated');
    expect(await refusal({ op: 'CREATE', plural: 'nodes', name: 'n1', obj: node('n1', { 'node-role.kubernetes.io/control-plane': '', 'example.com/x': 'y' }) }))
      .toBe('nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane');
    // its own well-known labels and other domains are fine
    expect(await refusal({ op: 'UPDATE', plural: 'nodes', name: 'n1', obj: node('n1', { 'kubernetes.io/arch': 'arm64', 'example.com/x': 'y' }), old: node('n1') })).toBeUndefined();
  });

  it('limits pod status updates and deletes to pods bound to the node', async () => {
    expect(await refusal({ op: 'UPDATE', plural: 'pods', sub: 'status', ns: 'ns', name: 'mine', obj: pod('mine', 'n1'), old: pod('mine', 'n1') })).toBeUndefined();
    expect(await refusal({ op: 'UPDATE', plural: 'pods', sub: 'status', ns: 'ns', name: 'theirs', obj: pod('theirs', 'n2'), old: pod('theirs', 'n2') }))
      .toBe('pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    const relabeled = pod('mine', 'n1', { metadata: { name: 'mine', namespace: 'ns', labels: { a: 'b' } } });
    expect(await refusal({ op: 'UPDATE', plural: 'pods', sub: 'status', ns: 'ns', name: 'mine', obj: relabeled, old: pod('mine', 'n1') }))
      .toBe('pods "mine" is forbidden: node "n1" cannot update labels through pod status');
    expect(await refusal({ op: 'DELETE', plural: 'pods', ns: 'ns', name: 'mine', old: pod('mine', 'n1') })).toBeUndefined();
    expect(await refusal({ op: 'DELETE', plural: 'pods', ns: 'ns', name: 'theirs', old: pod('theirs', 'n2') }))
      .toBe('pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
    expect(await refusal({ op: 'UPDATE', plural: 'pods', ns: 'ns', name: 'mine', obj: pod('mine', 'n1'), old: pod('mine', 'n1') }))
      .toBe('pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');
  });

  it('lets a node create only mirror pods bound to and owned by itself', async () => {
    const mirror = (extra: Partial<Pod['spec']> = {}, nodeName = 'n1', uid = 'uid-n1'): Pod => ({
      metadata: {
        name: 'static-n1', namespace: 'ns', annotations: { 'kubernetes.io/config.mirror': 'hash' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid, controller: true }],
      },
      spec: { nodeName, containers: [{ name: 'c', image: 'i' }], ...extra },
    } as Pod);
    expect(await refusal({ op: 'CREATE', plural: 'pods', ns: 'ns', obj: mirror() })).toBeUndefined();
    expect(await refusal({ op: 'CREATE', plural: 'pods', ns: 'ns', obj: pod('plain', 'n1') }))
      .toBe('pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
    expect(await refusal({ op: 'CREATE', plural: 'pods', ns: 'ns', obj: mirror({}, 'n2') }))
      .toBe('pods "static-n1" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
    expect(await refusal({ op: 'CREATE', plural: 'pods', ns: 'ns', obj: mirror({}, 'n1', 'stale') }))
      .toBe('pods "static-n1" is forbidden: node n1 UID mismatch: expected stale got uid-n1');
    expect(await refusal({ op: 'CREATE', plural: 'pods', ns: 'ns', obj: mirror({ volumes: [{ name: 'v', secret: { secretName: 's' } }] }) }))
      .toBe('pods "static-n1" is forbidden: node "n1" can not create pods that reference secrets');
  });

  it('lets a node evict only its own pods', async () => {
    expect(await refusal({ op: 'CREATE', plural: 'pods', sub: 'eviction', ns: 'ns', name: 'mine', obj: { metadata: { name: 'mine' } } })).toBeUndefined();
    expect(await refusal({ op: 'CREATE', plural: 'pods', sub: 'eviction', ns: 'ns', name: 'theirs', obj: { metadata: { name: 'theirs' } } }))
      .toBe('pods "theirs" is forbidden: node n1 can only evict pods with spec.nodeName set to itself');
  });

  it('holds a node to its own lease in kube-node-lease', async () => {
    const lease = (name: string, ns = 'kube-node-lease', op: Operation = 'CREATE') =>
      refusal({ op, group: 'coordination.k8s.io', plural: 'leases', ns, name: op === 'CREATE' ? '' : name, obj: { metadata: { name, namespace: ns } } });
    expect(await lease('n1')).toBeUndefined();
    expect(await lease('n1', 'kube-node-lease', 'UPDATE')).toBeUndefined();
    expect(await lease('n2')).toBe('leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    expect(await lease('n2', 'kube-node-lease', 'UPDATE')).toBe('leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    expect(await lease('n1', 'kube-system')).toBe('leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');
  });
});
