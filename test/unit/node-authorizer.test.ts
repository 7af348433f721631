import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { NodeAuthorizer } from '../../server/auth/node/node-authorizer.js';
import { WatchCacheNodeGraph, type NodeGraphSource } from '../../server/auth/node/node-graph.js';
import { WatchCache } from '../../server/storage/watch-cache.js';
import type { Attributes, UserInfo } from '../../server/auth/types.js';

const nodeUser = (n: string): UserInfo => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const attrs = (user: UserInfo, verb: string, resource: string, name: string, namespace = 'ns', apiGroup = '', subresource = ''): Attributes =>
  ({ user, verb, namespace, apiGroup, resource, subresource, name, resourceRequest: true, path: '' });

function pod(name: string, nodeName: string | undefined, spec: Partial<Pod['spec']> = {}, namespace = 'ns'): Pod {
  return { metadata: { name, namespace, uid: `uid-${name}` }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }], ...spec } } as Pod;
}

/** A graph over plain arrays: the authorizer's logic apart from the watch-cache index. */
function staticGraph(pods: Pod[], pvcs: PersistentVolumeClaim[] = []): NodeGraphSource {
  return {
    podsOnNode: (n) => pods.filter((p) => p.spec?.nodeName === n),
    pvc: (ns, name) => pvcs.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
  };
}

describe('Node authorizer', () => {
  const pods = [
    pod('web', 'a', {
      serviceAccountName: 'web-sa',
      imagePullSecrets: [{ name: 'pull' }],
      volumes: [
        { name: 's', secret: { secretName: 'vol-secret' } },
        { name: 'p', projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'proj-cm' } }] } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      ],
      containers: [{
        name: 'c', image: 'i',
        env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }],
        envFrom: [{ configMapRef: { name: 'env-cm' } }],
      }],
    }),
    pod('other', 'b', { volumes: [{ name: 's', secret: { secretName: 'b-secret' } }] }),
    pod('pending', undefined, { volumes: [{ name: 's', secret: { secretName: 'pending-secret' } }] }),
  ];
  const pvcs: PersistentVolumeClaim[] = [{ metadata: { name: 'data', namespace: 'ns' }, spec: { volumeName: 'pv-data' } }];
  const authz = new NodeAuthorizer(staticGraph(pods, pvcs));
  const a = nodeUser('a');

  it('lets a node read the secrets its pods use', () => {
    for (const s of ['vol-secret', 'proj-secret', 'env-secret', 'pull']) {
      expect(authz.authorize(attrs(a, 'get', 'secrets', s))).toEqual({ decision: 'allow', reason: '' });
    }
    // a metadata.name-scoped watch of one referenced secret, as the kubelet's secret manager does
    expect(authz.authorize(attrs(a, 'watch', 'secrets', 'vol-secret')).decision).toBe('allow');
  });

  it('refuses secrets of pods on other nodes or unscheduled, with upstream reason', () => {
    for (const s of ['b-secret', 'pending-secret', 'nope']) {
      expect(authz.authorize(attrs(a, 'get', 'secrets', s))).toEqual({ decision: 'no-opinion', reason: "no relationship found between node 'a' and this object" });
    }
    // same name, other namespace
    expect(authz.authorize(attrs(a, 'get', 'secrets', 'vol-secret', 'other')).decision).toBe('no-opinion');
    expect(authz.authorize(attrs(a, 'list', 'secrets', '')).reason).toBe('No Object name found');
    expect(authz.authorize(attrs(a, 'update', 'secrets', 'vol-secret')).reason).toBe('can only read resources of this type');
    expect(authz.authorize(attrs(a, 'get', 'secrets', 'vol-secret', '')).reason).toBe('can only read namespaced object of this type');
    expect(authz.authorize(attrs(nodeUser('b'), 'get', 'secrets', 'b-secret')).decision).toBe('allow');
  });

  it('follows envFrom and projected sources to config maps', () => {
    expect(authz.authorize(attrs(a, 'get', 'configmaps', 'env-cm')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'get', 'configmaps', 'proj-cm')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'get', 'configmaps', 'unrelated')).decision).toBe('no-opinion');
  });

  it('reaches a PersistentVolume through the claim a pod mounts', () => {
    expect(authz.authorize(attrs(a, 'get', 'persistentvolumeclaims', 'data')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'get', 'persistentvolumes', 'pv-data', '')).decision).toBe('allow');
    expect(authz.authorize(attrs(nodeUser('b'), 'get', 'persistentvolumes', 'pv-data', '')).reason).toBe("no relationship found between node 'b' and this object");
    expect(authz.authorize(attrs(a, 'list', 'persistentvolumes', '', '')).reason).toBe('can only get individual resources of this type');
    expect(authz.authorize(attrs(a, 'patch', 'persistentvolumeclaims', 'data', 'ns', '', 'status')).decision).toBe('allow');
  });

  it('lets a node get its own pods and mint tokens for their service accounts', () => {
    expect(authz.authorize(attrs(a, 'get', 'pods', 'web')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'get', 'pods', 'other')).decision).toBe('no-opinion');
    expect(authz.authorize(attrs(a, 'create', 'serviceaccounts', 'web-sa', 'ns', '', 'token')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'create', 'serviceaccounts', 'default', 'ns', '', 'token')).decision).toBe('no-opinion');
    expect(authz.authorize(attrs(a, 'get', 'serviceaccounts', 'web-sa')).reason).toBe('can only create tokens for individual service accounts');
  });

  it('limits leases to the node own lease in kube-node-lease', () => {
    const lease = (verb: string, name: string, ns = 'kube-node-lease') => authz.authorize(attrs(a, verb, 'leases', name, ns, 'coordination.k8s.io'));
    expect(lease('update', 'a').decision).toBe('allow');
    expect(lease('create', '').decision).toBe('allow');
    expect(lease('update', 'b').reason).toBe('can only access node lease with the same name as the requesting node');
    expect(lease('get', 'a', 'kube-system').reason).toBe('can only access leases in the "kube-node-lease" system namespace');
    expect(lease('list', '').reason).toBe('can only get, create, update, patch, or delete a node lease');
  });

  it('allows other resources by the system:node rules only', () => {
    expect(authz.authorize(attrs(a, 'list', 'services', '', '')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'watch', 'pods', '', '')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'patch', 'nodes', 'a', '', '', 'status')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'create', 'events', '')).decision).toBe('allow');
    expect(authz.authorize(attrs(a, 'delete', 'services', 'x'))).toEqual({ decision: 'no-opinion', reason: '' });
    expect(authz.authorize(attrs(a, 'list', 'deployments', '', 'ns', 'apps')).decision).toBe('no-opinion');
  });

  it('has no opinion about users that are not nodes', () => {
    const users: UserInfo[] = [
      { name: 'alice', groups: ['system:authenticated'] },
      { name: 'system:node:a', groups: ['system:authenticated'] }, // not in system:nodes
      { name: 'mallory', groups: ['system:nodes'] }, // no node name prefix
    ];
    for (const u of users) expect(authz.authorize(attrs(u, 'get', 'secrets', 'vol-secret'))).toEqual({ decision: 'no-opinion', reason: '' });
    expect(authz.authorize(attrs({ name: 'system:node:', groups: ['system:nodes'] }, 'get', 'services', 'x')).reason).toBe('unknown node for user "system:node:"');
  });
});

describe('WatchCacheNodeGraph', () => {
  let rev = 0;
  const event = (type: 'ADDED' | 'MODIFIED' | 'DELETED', p: Pod) =>
    ({ rev: ++rev, type, key: `${p.metadata!.namespace}/${p.metadata!.name}`, json: JSON.stringify(p) });
  const names = (ps: Pod[]) => ps.map((p) => p.metadata?.name).sort();

  it('indexes pods by node and follows binds, moves and deletes', () => {
    const pods = new WatchCache('core/pods', 100);
    const pvcs = new WatchCache('core/persistentvolumeclaims', 100);
    pods.reset(rev, new Map([['ns/x', { rev, json: JSON.stringify(pod('x', 'a')) }]]));
    const graph = new WatchCacheNodeGraph(pods, pvcs);
    expect(names(graph.podsOnNode('a'))).toEqual(['x']);
    pods.apply([event('ADDED', pod('y', undefined)), event('ADDED', pod('z', 'b'))]);
    expect(names(graph.podsOnNode('a'))).toEqual(['x']);
    pods.apply([event('MODIFIED', pod('y', 'a'))]);
    expect(names(graph.podsOnNode('a'))).toEqual(['x', 'y']);
    pods.apply([event('DELETED', pod('x', 'a'))]);
    expect(names(graph.podsOnNode('a'))).toEqual(['y']);
    expect(names(graph.podsOnNode('b'))).toEqual(['z']);
    // a reload (which notifies no listener) is noticed and the index rebuilt
    pods.reset(++rev, new Map([['ns/w', { rev, json: JSON.stringify(pod('w', 'a')) }]]));
    expect(names(graph.podsOnNode('a'))).toEqual(['w']);
    expect(graph.podsOnNode('b')).toEqual([]);
    pvcs.apply([{ rev: ++rev, type: 'ADDED', key: 'ns/data', json: JSON.stringify({ metadata: { name: 'data', namespace: 'ns' }, spec: { volumeName: 'pv' } }) }]);
    expect(graph.pvc('ns', 'data')?.spec?.volumeName).toBe('pv');
    graph.close();
    expect(pods.watcherCount).toBe(0);
  });

  it('drives the authorizer from the caches', () => {
    const pods = new WatchCache('core/pods', 100);
    const pvcs = new WatchCache('core/persistentvolumeclaims', 100);
    const authz = new NodeAuthorizer(new WatchCacheNodeGraph(pods, pvcs));
    const get = () => authz.authorize(attrs(nodeUser('a'), 'get', 'secrets', 's')).decision;
    expect(get()).toBe('no-opinion');
    pods.apply([event('ADDED', pod('p', undefined, { volumes: [{ name: 'v', secret: { secretName: 's' } }] }))]);
    expect(get()).toBe('no-opinion');
    pods.apply([event('MODIFIED', pod('p', 'a', { volumes: [{ name: 'v', secret: { secretName: 's' } }] }))]);
    expect(get()).toBe('allow');
    pods.apply([event('DELETED', pod('p', 'a'))]);
    expect(get()).toBe('no-opinion');
  });
});
