// Server-side apply: merging, ownership, conflicts and pruning, checked against what
// kube-apiserver answers and stores for the same sequence of applies.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { decodeApplyBody, recordUpdate, serverSideApply } from '../../server/apply/index.js';
import type { StatusError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../server/registry/types.js';

const APPS = { group: 'apps', version: 'v1', kind: 'Deployment' };
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const T1 = '2024-05-01T10:00:00Z', T2 = '2024-05-01T10:05:00Z', T3 = '2024-05-01T10:09:00Z';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const cmOpts = (time: string, force = false) => ({ force, time, apiVersion: 'v1' });
const deployOpts = (time: string, force = false) => ({ force, time, apiVersion: 'apps/v1' });
const cm = (data: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data, ...extra });
const entries = (obj: KubeObject): ManagedFieldsEntry[] => (obj.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const entry = (obj: KubeObject, manager: string) => entries(obj).find((e) => e.manager === manager);

function thrown(f: () => unknown): StatusError {
  try {
    f();
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('expected an error');
}

function deployment(containers: unknown[], replicas?: number): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers } },
    },
  };
}

describe('serverSideApply', () => {
  it('creates from the configuration and records the Apply entry as upstream does', () => {
    const obj = serverSideApply(undefined, deployment([{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], 2), 'kubectl', APPS, deployOpts(T1));
    expect(obj.spec).toEqual(deployment([{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], 2).spec);
    expect(entries(obj)).toEqual([{
      manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1', time: T1, fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:spec': {
          'f:replicas': {}, 'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
          },
        },
      },
    }]);
  });

  it('does not modify its inputs or share parts with them', () => {
    const live = serverSideApply(undefined, cm({ a: '1' }), 'one', CM, cmOpts(T1));
    const liveCopy = structuredClone(live);
    const applied = cm({ b: '2' });
    const out = serverSideApply(live, applied, 'two', CM, cmOpts(T2));
    expect(live).toEqual(liveCopy);
    expect(applied).toEqual(cm({ b: '2' }));
    (out.data as Record<string, string>).c = '3';
    expect(live.data).toEqual({ a: '1' });
  });

  it('shares ownership of equal values between appliers without conflict', () => {
    const one = serverSideApply(undefined, cm({ shared: 'x', a: '1' }), 'one', CM, cmOpts(T1));
    const two = serverSideApply(one, cm({ shared: 'x', b: '2' }), 'two', CM, cmOpts(T2));
    expect(two.data).toEqual({ shared: 'x', a: '1', b: '2' });
    expect(entry(two, 'one')!.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:shared': {} } });
    expect(entry(two, 'two')!.fieldsV1).toEqual({ 'f:data': { 'f:b': {}, 'f:shared': {} } });
    // "one" stops applying the shared key: it stays, owned by "two" alone.
    const three = serverSideApply(two, cm({ a: '1' }), 'one', CM, cmOpts(T3));
    expect(three.data).toEqual({ shared: 'x', a: '1', b: '2' });
    expect(entry(three, 'one')!.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
  });

  it('answers 409 with upstream message and causes on a conflict', () => {
    const one = serverSideApply(undefined, cm({ shared: 'x' }), 'other', CM, cmOpts(T1));
    const err = thrown(() => serverSideApply(one, cm({ shared: 'y' }), 'me', CM, cmOpts(T2)));
    expect(err.toStatus()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 409, reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "other": .data.shared',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "other"', field: '.data.shared' }] },
    });
  });

  it('names Update managers with their version, and groups several conflicts by manager', () => {
    const live = cm({ a: '1', b: '1', c: '1' });
    recordUpdate(undefined, live, 'other', CM, { time: T1, apiVersion: 'v1' });
    const next = structuredClone(live);
    (next.data as Record<string, string>).c = '2';
    recordUpdate(live, next, 'kubectl-edit', CM, { time: T2, apiVersion: 'v1' });
    const err = thrown(() => serverSideApply(next, cm({ a: '9', b: '9', c: '9' }), 'me', CM, cmOpts(T3)));
    expect(err.code).toBe(409);
    expect(err.message).toBe('Apply failed with 3 conflicts: conflicts with "kubectl-edit" using v1:\n- .data.c\nconflicts with "other" using v1:\n- .data.a\n- .data.b');
    expect(err.details!.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-edit" using v1', field: '.data.c' },
      { reason: 'FieldManagerConflict', message: 'conflict with "other" using v1', field: '.data.a' },
      { reason: 'FieldManagerConflict', message: 'conflict with "other" using v1', field: '.data.b' },
    ]);
  });

  it('takes ownership with force, and the previous owner loses the field', () => {
    const one = serverSideApply(undefined, cm({ shared: 'x', mine: '1' }), 'other', CM, cmOpts(T1));
    const two = serverSideApply(one, cm({ shared: 'y' }), 'me', CM, cmOpts(T2, true));
    expect(two.data).toEqual({ shared: 'y', mine: '1' });
    expect(entry(two, 'other')!.fieldsV1).toEqual({ 'f:data': { 'f:mine': {} } });
    expect(entry(two, 'me')).toMatchObject({ time: T2, fieldsV1: { 'f:data': { 'f:shared': {} } } });
  });

  it('removes what an applier stops applying, unless someone else owns it', () => {
    const one = serverSideApply(undefined, cm({ a: '1', b: '2', c: '3' }, { metadata: { name: 'c', namespace: 'default', labels: { x: '1', y: '2' } } }), 'me', CM, cmOpts(T1));
    // Someone else changes c: they own it now, so it survives when "me" drops it.
    const edited = structuredClone(one);
    (edited.data as Record<string, string>).c = '33';
    recordUpdate(one, edited, 'kubectl-edit', CM, { time: T2, apiVersion: 'v1' });
    const two = serverSideApply(edited, cm({ a: '1' }, { metadata: { name: 'c', namespace: 'default', labels: { x: '1' } } }), 'me', CM, cmOpts(T3));
    expect(two.data).toEqual({ a: '1', c: '33' });
    expect(two.metadata!.labels).toEqual({ x: '1' });
    expect(entry(two, 'me')!.fieldsV1).toEqual({ 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } });
    expect(entry(two, 'kubectl-edit')!.fieldsV1).toEqual({ 'f:data': { 'f:c': {} } });
  });

  it('merges containers by name and ports by containerPort and protocol', () => {
    const a = serverSideApply(undefined, deployment([{ name: 'app', image: 'app:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }]), 'team-a', APPS, deployOpts(T1));
    const b = serverSideApply(a, deployment([{ name: 'sidecar', image: 'proxy:1' }, { name: 'app', ports: [{ containerPort: 53, protocol: 'TCP' }] }]), 'team-b', APPS, deployOpts(T2));
    const containers = (b.spec as { template: { spec: { containers: { name: string; ports?: unknown[] }[] } } }).template.spec.containers;
    expect(containers.map((c) => c.name)).toEqual(['sidecar', 'app']);
    expect(containers[1]).toEqual({ name: 'app', image: 'app:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 53, protocol: 'TCP' }] });
    expect(JSON.stringify(entry(b, 'team-b')!.fieldsV1)).toContain('"k:{\\"containerPort\\":53,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}');
    // team-a drops the app container: team-b applies it too, so it stays with only team-b's fields.
    const c = serverSideApply(b, deployment([{ name: 'other', image: 'o:1' }]), 'team-a', APPS, deployOpts(T3));
    const after = (c.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers;
    expect(after).toEqual([{ name: 'sidecar', image: 'proxy:1' }, { name: 'app', ports: [{ containerPort: 53, protocol: 'TCP' }] }, { name: 'other', image: 'o:1' }]);
    // Once team-b drops it too, nobody applies it and it goes.
    const d = serverSideApply(c, deployment([{ name: 'sidecar', image: 'proxy:1' }]), 'team-b', APPS, deployOpts(T3));
    expect((d.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map((x) => x.name)).toEqual(['sidecar', 'other']);
  });

  it('orders merged lists as upstream: live-only items stay in place, shared ones follow the applied order', () => {
    const live = serverSideApply(undefined, deployment(['a', 'b', 'c', 'd'].map((name) => ({ name, image: 'i' }))), 'x', APPS, deployOpts(T1));
    const out = serverSideApply(live, deployment([{ name: 'c', image: 'i' }, { name: 'new', image: 'i' }, { name: 'a', image: 'i' }]), 'y', APPS, deployOpts(T2));
    expect((out.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map((x) => x.name)).toEqual(['b', 'c', 'd', 'new', 'a']);
  });

  it('conflicts with the Update manager that created the object', () => {
    const live = deployment([{ name: 'web', image: 'nginx' }], 1);
    recordUpdate(undefined, live, 'kubectl-create', APPS, { time: T1, apiVersion: 'apps/v1' });
    const err = thrown(() => serverSideApply(live, deployment([{ name: 'web', image: 'nginx:2' }], 1), 'ci', APPS, deployOpts(T2)));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.template.spec.containers[name="web"].image');
    const same = serverSideApply(live, deployment([{ name: 'web', image: 'nginx' }], 1), 'ci', APPS, deployOpts(T2));
    expect(entry(same, 'kubectl-create')).toBeDefined();
    // Nothing changed: the new entry gets no time, as upstream.
    expect(entry(same, 'ci')!.time).toBeUndefined();
  });

  it('moves from client-side apply: same content shares, kubectl may take what it last applied', () => {
    const config = cm({ a: '1', b: '2' });
    const created = { ...structuredClone(config), metadata: { ...config.metadata, annotations: { [LAST_APPLIED]: JSON.stringify(config) } } };
    recordUpdate(undefined, created, 'kubectl-client-side-apply', CM, { time: T1, apiVersion: 'v1' });
    const same = serverSideApply(created, config, 'kubectl', CM, cmOpts(T2));
    expect(same.data).toEqual({ a: '1', b: '2' });
    expect(entry(same, 'kubectl-client-side-apply')).toBeDefined();
    expect(entry(same, 'kubectl')!.fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });
    expect(same.metadata!.annotations![LAST_APPLIED]).toBe('{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}\n');
    // Changing a value kubectl last applied client-side is no conflict for kubectl, but is for others.
    const changed = serverSideApply(created, cm({ a: '1', b: '3' }), 'kubectl', CM, cmOpts(T2));
    expect(changed.data).toEqual({ a: '1', b: '3' });
    expect(entry(changed, 'kubectl-client-side-apply')!.fieldsV1).not.toHaveProperty(['f:data', 'f:b']);
    expect(thrown(() => serverSideApply(created, cm({ b: '3' }), 'helm', CM, cmOpts(T2))).code).toBe(409);
  });

  it('prunes what kubectl no longer applies once its client-side entry was upgraded', () => {
    const config = cm({ a: '1', b: '2' });
    const created = structuredClone(config);
    recordUpdate(undefined, created, 'kubectl-client-side-apply', CM, { time: T1, apiVersion: 'v1' });
    const upgraded = structuredClone(created);
    upgraded.metadata!.managedFields = entries(created).map((e) => ({ ...e, manager: 'kubectl', operation: 'Apply' }));
    recordUpdate(created, upgraded, 'kubectl', CM, { time: T2, apiVersion: 'v1' });
    const applied = serverSideApply(upgraded, cm({ a: '1' }), 'kubectl', CM, cmOpts(T3));
    expect(applied.data).toEqual({ a: '1' });
    expect(entries(applied)).toEqual([{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: T3, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }]);
  });

  it('gives fields of objects nobody tracked yet to before-first-apply', () => {
    const err = thrown(() => serverSideApply(cm({ a: '1' }), cm({ a: '2' }), 'me', CM, cmOpts(T1)));
    expect(err.message).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a');
  });

  it('treats a null as a change to unset', () => {
    const live = serverSideApply(undefined, deployment([{ name: 'web', image: 'x' }], 3), 'one', APPS, deployOpts(T1));
    expect(thrown(() => serverSideApply(live, { ...deployment([{ name: 'web', image: 'x' }]), spec: { replicas: null } }, 'two', APPS, deployOpts(T2))).code).toBe(409);
    const out = serverSideApply(live, { ...deployment([{ name: 'web', image: 'x' }]), spec: { replicas: null } }, 'one', APPS, deployOpts(T2));
    expect(out.spec).not.toHaveProperty('replicas');
  });

  it('tracks status applies under the status subresource only', () => {
    const live = serverSideApply(undefined, deployment([{ name: 'web', image: 'x' }], 1), 'one', APPS, deployOpts(T1));
    const out = serverSideApply(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { replicas: 1 }, spec: { replicas: 5 } }, 'ctl', APPS, { ...deployOpts(T2), subresource: 'status' });
    expect(entry(out, 'ctl')).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:replicas': {} } } });
  });

  it('rejects configurations upstream rejects', () => {
    const noKind = thrown(() => serverSideApply(undefined, { apiVersion: 'v1', metadata: { name: 'c' } }, 'me', CM, cmOpts(T1)));
    expect([noKind.code, noKind.reason, noKind.message]).toEqual([400, 'BadRequest', 'invalid object type: /v1, Kind=']);
    expect(thrown(() => serverSideApply(undefined, { ...deployment([]), apiVersion: 'apps/v1beta1' }, 'me', APPS, deployOpts(T1))).message).toBe('invalid object type: apps/v1beta1, Kind=Deployment');
    expect(thrown(() => serverSideApply(undefined, { ...cm({}), metadata: { name: 'c', managedFields: [] } }, 'me', CM, cmOpts(T1))).message).toBe('metadata.managedFields must be nil');
    const dup = thrown(() => serverSideApply(undefined, deployment([{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }]), 'me', APPS, deployOpts(T1)));
    expect([dup.code, dup.message]).toEqual([400, 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]']);
    expect(thrown(() => serverSideApply(undefined, deployment([{ image: 'x' }]), 'me', APPS, deployOpts(T1))).message)
      .toBe('failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)');
  });
});

describe('decodeApplyBody', () => {
  it('reads JSON (what kubectl sends) and YAML', () => {
    expect(decodeApplyBody(Buffer.from('{"apiVersion":"v1","kind":"ConfigMap"}'))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap' });
    // YAML 1.1 as upstream's go-yaml: yes/on/n are booleans, keys included.
    expect(decodeApplyBody(Buffer.from('apiVersion: v1\nkind: ConfigMap\ndata:\n  a: yes\n  on: "1"\n---\nkind: Ignored\n'))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: true, true: '1' } });
    expect(decodeApplyBody(Buffer.from(''))).toEqual({});
  });

  it('answers 400 as upstream for malformed bodies', () => {
    const bad = thrown(() => decodeApplyBody(Buffer.from('a: [1, 2')));
    expect([bad.code, bad.reason]).toEqual([400, 'BadRequest']);
    expect(bad.message).toMatch(/^error decoding YAML: error converting YAML to JSON: yaml: line 1: /);
    expect(thrown(() => decodeApplyBody(Buffer.from('- 1'))).message).toBe('error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}');
  });
});
