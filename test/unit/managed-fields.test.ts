// Managed fields for non-apply writes, and field sets in upstream's FieldsV1 form. The expected
// FieldsV1 documents are what kube-apiserver stores for the same writes.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { FieldSet, fieldSetOf, pathString, recordUpdate } from '../../server/apply/index.js';
import type { KubeObject } from '../../server/registry/types.js';

const APPS = { group: 'apps', version: 'v1', kind: 'Deployment' };
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const T1 = '2024-05-01T10:00:00Z', T2 = '2024-05-01T10:05:00Z', T3 = '2024-05-01T10:09:00Z';
const upd = (time: string, apiVersion = 'apps/v1', subresource?: string) => ({ time, apiVersion, subresource });

/** What `kubectl create deployment nginx --image=nginx` stores once defaulted. */
function createdDeployment(): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' }, uid: 'u1', creationTimestamp: T1, generation: 1 },
    spec: {
      progressDeadlineSeconds: 600, replicas: 1, revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'nginx' } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ image: 'nginx', imagePullPolicy: 'Always', name: 'nginx', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: {},
  };
}

const KUBECTL_CREATE_FIELDS = {
  'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
  'f:spec': {
    'f:progressDeadlineSeconds': {}, 'f:replicas': {}, 'f:revisionHistoryLimit': {}, 'f:selector': {},
    'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
    'f:template': {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': {
            '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {},
            'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {},
          },
        },
        'f:dnsPolicy': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {},
      },
    },
  },
};

const entries = (obj: KubeObject): ManagedFieldsEntry[] => (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const clone = <T>(v: T): T => structuredClone(v);

function created(): KubeObject {
  const obj = createdDeployment();
  recordUpdate(undefined, obj, 'kubectl-create', APPS, upd(T1));
  return obj;
}

describe('FieldsV1', () => {
  it('round-trips upstream documents byte for byte, "." first and elements in upstream order', () => {
    const doc = {
      'f:metadata': { 'f:finalizers': { '.': {}, 'v:"a.io/x"': {}, 'v:"b.io/y"': {} } },
      'f:spec': {
        'f:ports': {
          '.': {},
          'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} },
          'k:{"port":443,"protocol":"TCP"}': { '.': {}, 'f:port': {} },
        },
      },
    };
    const set = FieldSet.fromFieldsV1(doc);
    expect(JSON.stringify(set.toFieldsV1())).toBe(JSON.stringify(doc));
    expect(set.size()).toBe(9);
  });

  it('prints in upstream order whatever order it was given, and canonicalizes keys', () => {
    const set = FieldSet.fromFieldsV1({ 'f:b': {}, 'k:{"protocol":"TCP", "port":443}': {}, 'f:a': { 'f:y': {}, '.': {}, 'f:x': {} }, 'k:{"port":80,"protocol":"TCP"}': {} });
    expect(JSON.stringify(set.toFieldsV1())).toBe(
      '{"f:a":{".":{},"f:x":{},"f:y":{}},"f:b":{},"k:{\\"port\\":80,\\"protocol\\":\\"TCP\\"}":{},"k:{\\"port\\":443,\\"protocol\\":\\"TCP\\"}":{}}',
    );
  });

  it('rejects what is not FieldsV1', () => {
    expect(() => FieldSet.fromFieldsV1({ 'x:y': {} })).toThrow();
    expect(() => FieldSet.fromFieldsV1({ 'f:a': 1 })).toThrow();
    expect(() => FieldSet.fromFieldsV1([])).toThrow();
  });

  it('prints paths as upstream conflict messages do', () => {
    expect(pathString(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image'])).toBe('.spec.template.spec.containers[name="nginx"].image');
    expect(pathString(['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'])).toBe('.spec.ports[port=80,protocol="TCP"]');
    expect(pathString(['f:metadata', 'f:finalizers', 'v:"x"'])).toBe('.metadata.finalizers[="x"]');
    expect(pathString(['f:data', 'f:a.b'])).toBe('.data.a.b');
  });
});

describe('field set operations', () => {
  const a = FieldSet.of([['f:a'], ['f:b', 'f:c'], ['f:b', 'f:d'], ['f:e']]);
  const b = FieldSet.of([['f:b'], ['f:b', 'f:c'], ['f:e'], ['f:f']]);

  it('union, intersection and difference', () => {
    expect(a.union(b).paths().map(pathString)).toEqual(['.a', '.b', '.e', '.f', '.b.c', '.b.d']);
    expect(a.intersection(b).paths().map(pathString)).toEqual(['.e', '.b.c']);
    expect(a.difference(b).paths().map(pathString)).toEqual(['.a', '.b.d']);
  });

  it('recursive difference drops everything below a member', () => {
    expect(a.recursiveDifference(FieldSet.of([['f:b']])).paths().map(pathString)).toEqual(['.a', '.e']);
    expect(a.difference(FieldSet.of([['f:b']]))).toBe(a);
  });

  it('leaves its inputs alone', () => {
    const before = JSON.stringify(a.toFieldsV1());
    a.union(b), a.difference(b), a.intersection(b), a.recursiveDifference(b);
    expect(JSON.stringify(a.toFieldsV1())).toBe(before);
    expect(a.has(['f:b', 'f:c'])).toBe(true);
    expect(a.has(['f:b'])).toBe(false);
  });
});

describe('fieldSetOf', () => {
  it('owns what an apply configuration sets: leaves, list items by key, no "." for maps', () => {
    const config = {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2, selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] } },
      },
    };
    expect(fieldSetOf(config, APPS).toFieldsV1()).toEqual({
      'f:apiVersion': {}, 'f:kind': {},
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} },
      'f:spec': {
        'f:replicas': {}, 'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
        },
      },
    });
  });

  it('treats unknown kinds as upstream deduces them: granular maps, atomic lists', () => {
    const cr = { apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: 'a' }, spec: { size: 3, tags: ['a'], nested: { on: true } } };
    expect(fieldSetOf(cr, { group: 'x.io', version: 'v1', kind: 'Thing' }).toFieldsV1()).toEqual({
      'f:apiVersion': {}, 'f:kind': {}, 'f:metadata': { 'f:name': {} },
      'f:spec': { '.': {}, 'f:size': {}, 'f:tags': {}, 'f:nested': { '.': {}, 'f:on': {} } },
    });
  });
});

describe('recordUpdate', () => {
  it('gives a create every field it sets, as kube-apiserver records `kubectl create deployment`', () => {
    const obj = created();
    expect(entries(obj)).toHaveLength(1);
    const [e] = entries(obj);
    expect(Object.keys(e)).toEqual(['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
    expect(e).toMatchObject({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1' });
    expect(JSON.stringify(e.fieldsV1)).toBe(JSON.stringify(KUBECTL_CREATE_FIELDS));
  });

  it('gives a create of a ConfigMap its data map with "."', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    recordUpdate(undefined, cm, 'kubectl-create', CM, upd(T1, 'v1'));
    expect(entries(cm)[0].fieldsV1).toEqual({ 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } });
  });

  it('moves a changed field to the writer that changed it', () => {
    const old = created();
    const next = clone(old);
    (next.spec as { replicas: number }).replicas = 3;
    recordUpdate(old, next, 'kubectl-edit', APPS, upd(T2));
    const [create, edit] = entries(next);
    expect(edit).toMatchObject({ manager: 'kubectl-edit', operation: 'Update', time: T2, fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(create.manager).toBe('kubectl-create');
    expect((create.fieldsV1 as { 'f:spec': Record<string, unknown> })['f:spec']['f:replicas']).toBeUndefined();
    expect(create.time).toBe(T1);
  });

  it('keeps one entry per manager and version, merging what it took before', () => {
    const v1 = created();
    const v2 = clone(v1);
    (v2.spec as { replicas: number }).replicas = 3;
    recordUpdate(v1, v2, 'ctl', APPS, upd(T2));
    const v3 = clone(v2);
    v3.metadata!.labels!.tier = 'web';
    recordUpdate(v2, v3, 'ctl', APPS, upd(T3));
    const mine = entries(v3).filter((e) => e.manager === 'ctl');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ time: T3, fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } }, 'f:spec': { 'f:replicas': {} } } });
    const v4 = clone(v3);
    v4.metadata!.labels!.zone = 'a';
    recordUpdate(v3, v4, 'ctl', APPS, upd(T3, 'apps/v1beta2'));
    expect(entries(v4).filter((e) => e.manager === 'ctl').map((e) => e.apiVersion)).toEqual(['apps/v1', 'apps/v1beta2']);
  });

  it('leaves managed fields alone when nothing changed', () => {
    const v1 = created();
    const v2 = clone(v1);
    recordUpdate(v1, v2, 'other', APPS, upd(T3));
    expect(entries(v2)).toEqual(entries(v1));
  });

  it('takes removed fields away from their owners', () => {
    const v1 = created();
    const v2 = clone(v1);
    delete (v2.spec as Record<string, unknown>).revisionHistoryLimit;
    recordUpdate(v1, v2, 'pruner', APPS, upd(T2));
    expect(entries(v2)).toHaveLength(1);
    expect(JSON.stringify(entries(v2)[0].fieldsV1)).not.toContain('revisionHistoryLimit');
  });

  it('tracks status writes under the status subresource, and not on the main resource', () => {
    const v1 = created();
    const v2 = clone(v1);
    v2.status = { replicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
    recordUpdate(v1, v2, 'kube-controller-manager', APPS, upd(T2, 'apps/v1', 'status'));
    const status = entries(v2).find((e) => e.manager === 'kube-controller-manager')!;
    expect(Object.keys(status).at(-1)).toBe('subresource');
    expect(status).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:replicas': {} } },
    });
    const v3 = clone(v2);
    (v3.status as { replicas: number }).replicas = 7;
    recordUpdate(v2, v3, 'someone', APPS, upd(T3));
    // The main resource resets status: neither the writer takes it nor the status writer loses it.
    expect(entries(v3).find((e) => e.manager === 'someone')).toBeUndefined();
    expect(entries(v3)).toEqual(entries(v2));
  });

  it('keeps managed fields a client sends, and resets them on [{}]', () => {
    const v1 = created();
    const edited = clone(v1);
    edited.metadata!.managedFields = [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
    recordUpdate(v1, edited, 'kubectl', APPS, upd(T2));
    expect(entries(edited)).toEqual([{ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);

    const reset = clone(v1);
    reset.metadata!.managedFields = [{}];
    recordUpdate(v1, reset, 'kubectl-patch', APPS, upd(T2));
    expect(reset.metadata!.managedFields).toBeUndefined();

    for (const sent of [[], [{ manager: 'x', operation: 'Sideways', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }], [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsV1: {} }]]) {
      const ignored = clone(v1);
      ignored.metadata!.managedFields = sent as never;
      recordUpdate(v1, ignored, 'kubectl-patch', APPS, upd(T2));
      expect(entries(ignored)).toEqual(entries(v1));
    }
  });

  it('lets kubectl upgrade client-side apply entries to its Apply entry (csaupgrade)', () => {
    const last = '{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"default"}}\n';
    const v1: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': last } }, data: { a: '1' } };
    recordUpdate(undefined, v1, 'kubectl-client-side-apply', CM, upd(T1, 'v1'));
    const csa = entries(v1)[0];
    expect(csa.fieldsV1).toEqual({ 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} } } });
    // kubectl's JSON patch replaces the list with the same fields under its Apply manager.
    const v2 = clone(v1);
    v2.metadata!.managedFields = [{ ...csa, manager: 'kubectl', operation: 'Apply' }];
    recordUpdate(v1, v2, 'kubectl', CM, upd(T2, 'v1'));
    expect(entries(v2)).toEqual([{ ...csa, manager: 'kubectl', operation: 'Apply' }]);
  });

  it('folds the oldest of more than ten Update entries into ancient-changes', () => {
    let obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: {} };
    recordUpdate(undefined, obj, 'creator', CM, upd('2024-01-01T00:00:00Z', 'v1'));
    for (let i = 0; i < 12; i++) {
      const next = clone(obj);
      (next.data as Record<string, string>)[`k${i}`] = 'v';
      recordUpdate(obj, next, `m${String(i).padStart(2, '0')}`, CM, upd(`2024-01-01T00:${String(i + 1).padStart(2, '0')}:00Z`, 'v1'));
      obj = next;
    }
    const managers = entries(obj).map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers[0]).toBe('ancient-changes');
    expect(entries(obj)[0].fieldsV1).toEqual({ 'f:data': { '.': {}, 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
    expect(entries(obj)[0].time).toBe('2024-01-01T00:03:00Z');
    expect(managers.slice(1)).toEqual(['m03', 'm04', 'm05', 'm06', 'm07', 'm08', 'm09', 'm10', 'm11']);
  });

  it('stores times to the second', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
    recordUpdate(undefined, cm, 'x', CM, upd('2024-05-01T10:00:00.123456Z', 'v1'));
    expect(entries(cm)[0].time).toBe('2024-05-01T10:00:00Z');
  });
});
