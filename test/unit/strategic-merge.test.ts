// Strategic merge patch, driven with the bodies kubectl sends. Expected results were checked
// against upstream's implementation (`kubectl patch --local`, which runs the same library).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { applyPatch, applyStrategicMergePatch, STRATEGIC_MERGE_PATCH } from '../../server/patch/index.js';
import { failure } from '../support/errors.js';

const DEPLOYMENT = { group: 'apps', version: 'v1', kind: 'Deployment' };
const SERVICE = { group: '', version: 'v1', kind: 'Service' };
const POD = { group: '', version: 'v1', kind: 'Pod' };

function deployment(): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: {
      name: 'web', namespace: 'default', labels: { app: 'web', tier: 'fe' }, annotations: { a: '1' }, finalizers: ['x/a', 'x/b'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o1', uid: 'u1' }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'o2', uid: 'u2' }],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx', image: 'nginx:1.25', args: ['a', 'b'],
              ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'sidecar', image: 'busybox', command: ['sleep', '1d'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          imagePullSecrets: [{ name: 'reg' }],
        },
      },
    },
  };
}

function service(): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
    spec: {
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }],
    },
  };
}

const smp = <T extends object>(original: T, patch: unknown, schema = DEPLOYMENT): T =>
  applyPatch(STRATEGIC_MERGE_PATCH, original, JSON.stringify(patch), schema);


const podSpec = (d: Deployment) => d.spec!.template.spec!;

describe('kubectl set image / rollout / scale', () => {
  test('set image: $setElementOrder/containers plus a merge by name', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } } };
    const out = smp(deployment(), patch);
    const expected = deployment();
    podSpec(expected).containers[0].image = 'nginx:1.26';
    expect(out).toEqual(expected);
  });

  test('rollout restart adds a template annotation', () => {
    const out = smp(deployment(), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } });
    expect(out.spec!.template.metadata).toEqual({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } });
  });

  test('rollout pause and scale set scalars', () => {
    const out = smp(deployment(), { spec: { paused: true, replicas: 6 } });
    expect(out.spec!.paused).toBe(true);
    expect(out.spec!.replicas).toBe(6);
  });
});

describe('kubectl apply (three-way patches)', () => {
  test('re-apply: null deletes a label, $patch delete drops an env var, image changes, order kept', () => {
    const patch = {
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}' }, labels: { tier: null } },
      spec: { template: { spec: {
        '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
        containers: [{ '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }], env: [{ $patch: 'delete', name: 'B' }], image: 'nginx:1.26', name: 'nginx' }],
      } } },
    };
    const out = smp(deployment(), patch);
    expect(out.metadata!.labels).toEqual({ app: 'web' });
    expect(out.metadata!.annotations).toEqual({ a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}' });
    const [nginx, sidecar] = podSpec(out).containers;
    expect(nginx.image).toBe('nginx:1.26');
    expect(nginx.env).toEqual([{ name: 'A', value: '1' }, { name: 'C', value: '3' }]);
    expect(nginx.ports).toEqual(podSpec(deployment()).containers[0].ports);
    expect(sidecar).toEqual(podSpec(deployment()).containers[1]);
  });

  test('re-apply removing a container', () => {
    const out = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } } });
    expect(podSpec(out).containers.map((c) => c.name)).toEqual(['nginx']);
  });

  test('re-apply adding a container first: $setElementOrder decides the position', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'init' }, { name: 'nginx' }, { name: 'sidecar' }], containers: [{ name: 'init', image: 'i' }] } } } };
    expect(podSpec(smp(deployment(), patch)).containers.map((c) => c.name)).toEqual(['init', 'nginx', 'sidecar']);
  });

  test('without $setElementOrder, patch items come before items only the server has (upstream order rule)', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'log', image: 'fluent' }] } } } });
    expect(podSpec(out).containers.map((c) => c.name)).toEqual(['log', 'nginx', 'sidecar']);
  });

  test('$setElementOrder alone reorders a list', () => {
    const patch = { spec: { template: { spec: { containers: [{ name: 'nginx', '$setElementOrder/env': [{ name: 'C' }, { name: 'B' }, { name: 'A' }] }] } } } };
    expect(podSpec(smp(deployment(), patch)).containers[0].env!.map((e) => e.name)).toEqual(['C', 'B', 'A']);
  });

  test('switching the strategy to Recreate: $retainKeys clears rollingUpdate (retainKeys strategy)', () => {
    const out = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
    expect(out.spec!.strategy).toEqual({ type: 'Recreate' });
  });

  test('switching a volume source: merge,retainKeys on volumes', () => {
    const patch = { spec: { template: { spec: {
      '$setElementOrder/volumes': [{ name: 'data' }, { name: 'cfg' }],
      volumes: [{ $retainKeys: ['name', 'secret'], configMap: null, name: 'cfg', secret: { secretName: 'cfg' } }],
    } } } };
    expect(podSpec(smp(deployment(), patch)).volumes).toEqual([{ name: 'data', emptyDir: {} }, { name: 'cfg', secret: { secretName: 'cfg' } }]);
  });

  test('primitive merge list: $setElementOrder, additions and $deleteFromPrimitiveList together', () => {
    const out = smp(deployment(), { metadata: { '$setElementOrder/finalizers': ['x/b', 'x/c'], '$deleteFromPrimitiveList/finalizers': ['x/a'], finalizers: ['x/c'] } });
    expect(out.metadata!.finalizers).toEqual(['x/b', 'x/c']);
  });
});

describe('directives', () => {
  test('$patch: replace on a list element replaces the whole list', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } });
    expect(podSpec(out).containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  test('$patch: replace on a map replaces the map', () => {
    expect(smp(deployment(), { metadata: { labels: { $patch: 'replace', x: 'y' } } }).metadata!.labels).toEqual({ x: 'y' });
  });

  test('$patch: delete on a map leaves it empty', () => {
    expect(smp(deployment(), { spec: { strategy: { $patch: 'delete' } } }).spec!.strategy).toEqual({});
  });

  test('$patch: delete removes every list element with that merge key', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'A', $patch: 'delete' }, { name: 'D', value: '4' }] }] } } } });
    expect(podSpec(out).containers[0].env).toEqual([{ name: 'D', value: '4' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }]);
  });

  test('$deleteFromPrimitiveList removes values; a merge list of primitives is a deduplicated union', () => {
    expect(smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['x/a'] } }).metadata!.finalizers).toEqual(['x/b']);
    expect(smp(deployment(), { metadata: { finalizers: ['x/c', 'x/a'] } }).metadata!.finalizers).toEqual(['x/c', 'x/a', 'x/b']);
  });

  test('$patch inside values the original lacks is dropped, and so are nulls', () => {
    const patch = { spec: { template: { spec: { affinity: { nodeAffinity: null, podAffinity: { x: null, requiredDuringSchedulingIgnoredDuringExecution: [{ $patch: 'delete' }, { topologyKey: 'k' }] } } } } } };
    expect(podSpec(smp(deployment(), patch)).affinity).toEqual({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'k' }] } });
  });
});

describe('merge keys and strategies from the metadata table', () => {
  test('lists without a merge strategy are replaced (args, tolerations)', () => {
    const out = smp(deployment(), { spec: { template: { spec: { tolerations: [{ key: 'z', operator: 'Exists' }], containers: [{ name: 'nginx', args: ['c'] }] } } } });
    expect(podSpec(out).tolerations).toEqual([{ key: 'z', operator: 'Exists' }]);
    expect(podSpec(out).containers[0].args).toEqual(['c']);
  });

  test('container ports merge by containerPort', () => {
    const out = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 8080 }, { containerPort: 80, name: 'http' }] }] } } } });
    expect(podSpec(out).containers[0].ports).toEqual([{ containerPort: 8080 }, { containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443, protocol: 'TCP' }]);
  });

  test('service ports merge by port; the selector map merges', () => {
    const out = smp(service(), { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 8081, name: 'x' }], selector: { app: null, role: 'db' } } }, SERVICE);
    expect(out.spec!.ports).toEqual([
      { name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' }, { port: 8081, name: 'x' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
    ]);
    expect(out.spec!.selector).toEqual({ role: 'db' });
  });

  test('ownerReferences merge by uid', () => {
    const out = smp(deployment(), { metadata: { ownerReferences: [{ uid: 'u2', name: 'renamed' }, { uid: 'u3', name: 'o3', apiVersion: 'v1', kind: 'X' }] } });
    expect(out.metadata!.ownerReferences!.map((o) => [o.uid, o.name])).toEqual([['u1', 'o1'], ['u2', 'renamed'], ['u3', 'o3']]);
  });

  test('pod status conditions merge by type', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
    const out = smp(pod, { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True', reason: 'x' }] } }, POD);
    expect(out.status!.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True', reason: 'x' }]);
  });

  test('null deletes a key; a null for an absent key is ignored; type changes replace', () => {
    const out = smp(deployment(), { metadata: { labels: { nope: null, tier: null } }, spec: { paused: null, strategy: 'x' } });
    expect(out.metadata!.labels).toEqual({ app: 'web' });
    expect('paused' in out.spec!).toBe(false);
    expect(out.spec!.strategy).toBe('x');
  });

  test('fields the type graph does not know get merge-patch semantics', () => {
    const original = { ...deployment(), extra: { a: 1, l: [1, 2] } };
    expect(smp(original, { extra: { b: 2, l: [3] } }).extra).toEqual({ a: 1, b: 2, l: [3] });
  });

  test('does not modify its arguments', () => {
    const original = deployment();
    const patch = { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'delete' }] } } } };
    applyStrategicMergePatch(original, patch, DEPLOYMENT);
    expect(original).toEqual(deployment());
    expect(patch.spec.template.spec.containers[0]).toEqual({ name: 'nginx', $patch: 'delete' });
  });
});

describe('errors, as upstream answers them', () => {
  test.each([
    ['a list item without its merge key', { spec: { template: { spec: { volumes: [{ hostPath: { path: '/var/lib/kubelet/pods' } }] } } } },
      'map: map[hostPath:map[path:/var/lib/kubelet/pods]] does not contain declared merge key: name'],
    ['$patch: delete without the merge key', { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } },
      'map: map[$patch:delete] does not contain declared merge key: name'],
    ['an unknown $patch in a list', { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'bogus' }] } } } },
      'unknown patch type: bogus in map: map[$patch:bogus name:nginx]'],
    ['$patch: merge in a map', { metadata: { labels: { $patch: 'merge', x: 'y' } } }, 'unknown patch type: merge in map: map[$patch:merge x:y]'],
    ['$patch: merge in a list', { spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }, 'merging lists cannot yet be specified in the patch'],
    ['a patch list out of $setElementOrder', { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ name: 'sidecar', image: 'y' }] } } } },
      'The order in patch list:\n[map[image:y name:sidecar]]\n doesn\'t match $setElementOrder list:\n[map[name:nginx]]\n'],
    ['$setElementOrder that is not a list', { metadata: { '$setElementOrder/finalizers': 'x' } }, 'expected a []interface {}, but received a string'],
    ['list elements of two types', { metadata: { finalizers: [1] } }, 'list element types are not identical: [[x/a x/b] [1]]'],
  ])('%s: 400 BadRequest with the upstream message', (_name, patch, message) => {
    const e = failure(() => smp(deployment(), patch));
    expect([e.code, e.reason, e.message]).toEqual([400, 'BadRequest', message]);
  });

  test('the live object lacking a merge key fails the same way (imagePullSecrets: [{}])', () => {
    const d = deployment();
    podSpec(d).imagePullSecrets = [{}];
    const e = failure(() => smp(d, { spec: { template: { spec: { '$setElementOrder/imagePullSecrets': [{ name: 'a' }], imagePullSecrets: [{ name: 'a' }] } } } }));
    expect(e.message).toBe('map: map[] does not contain declared merge key: name');
  });

  test.each([
    ['$retainKeys not naming a patched field', { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } }, 'invalid patch format of retainKeys'],
    ['$retainKeys not a list', { spec: { strategy: { $retainKeys: 'type' } } }, 'invalid patch format of retainKeys'],
    ['a $deleteFromPrimitiveList key without a slash', { metadata: { $deleteFromPrimitiveListfinalizers: ['x/a'] } }, 'invalid patch format of primitive list'],
    ['a malformed $setElementOrder key', { metadata: { '$setElementOrderX/finalizers': ['x/a'] } }, 'invalid patch format of setElementOrder list'],
  ])('%s: 400 BadRequest', (_name, patch, message) => {
    const e = failure(() => smp(deployment(), patch));
    expect([e.code, e.reason, e.message]).toEqual([400, 'BadRequest', message]);
  });

  test('lists of lists: 422 Invalid', () => {
    const d = deployment();
    d.metadata!.finalizers = [];
    const e = failure(() => smp(d, { metadata: { finalizers: [['a']] } }));
    expect([e.code, e.reason, e.message]).toEqual([422, 'Invalid', 'the server rejected our request due to an error in our request']);
    expect(e.details?.causes).toEqual([{ reason: 'UnexpectedServerResponse', message: 'lists of lists are not supported' }]);
  });

  test('bodies that are not a JSON object: 400 with encoding/json wording', () => {
    const send = (body: string) => failure(() => applyPatch(STRATEGIC_MERGE_PATCH, deployment(), body, DEPLOYMENT));
    expect(send('{"spec":').message).toBe('unexpected end of JSON input');
    expect(send('{"spec":{"replicas":3,}}').message).toBe('invalid character \'}\' looking for beginning of object key string');
    expect(send('[{"op":"add"}]').message).toBe('json: cannot unmarshal array into Go value of type map[string]interface {}');
    expect(send('[]').code).toBe(400);
    expect(applyPatch(STRATEGIC_MERGE_PATCH, deployment(), 'null', DEPLOYMENT)).toEqual(deployment());
  });
});
