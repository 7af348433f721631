// Protobuf request bodies: real kubectl 1.33 bodies (test/fixtures/protobuf/*.pb, recorded with
// scripts/capture-kubectl-bodies.mjs) must decode to what kubectl 1.31 sends as JSON for the same
// command (*.json), plus synthetic bodies for the special types and a little fuzzing.
import { existsSync, readFileSync } from 'node:fs';
import protobuf from 'protobufjs/minimal.js';
import {
  decodeKubernetesProtobuf,
  formatDuration,
  jsonFieldNames,
  messageNameFor,
  ProtobufDecodeError,
} from '../../server/protobuf/decode.js';

const fixtures = new URL('../fixtures/protobuf/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, fixtures));
const cases = JSON.parse(read('cases.json').toString('utf8')) as Record<string, { args: string[] }>;

// Fields where kubectl's JSON carries a Go zero value that protobuf cannot tell from "unset": Go
// value fields whose JSON tag lacks omitempty. gogo-protobuf writes them as 0/""/false, exactly
// as it writes every other unset value field, and decoding drops those. Go decodes either form
// to the same struct, and all of these sit in `status`, which create and the review APIs ignore.
const ZERO_VALUE_FIELDS: Record<string, string[]> = {
  'create-token': ['status.token'],
  'create-pdb': ['status.disruptionsAllowed', 'status.currentHealthy', 'status.desiredHealthy', 'status.expectedPods'],
  'auth-can-i-create-pods': ['status.allowed'],
  'auth-can-i-subresource': ['status.allowed'],
  'auth-can-i-nonresource': ['status.allowed'],
  'auth-can-i-list': ['status.incomplete'],
};

// JSON null means unset to the server (Go marshals a zero metav1.Time and nil slices without
// omitempty as null: "creationTimestamp": null, "resourceRules": null); protobuf has no null.
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

function dropZeroField(obj: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.reduce<Record<string, unknown> | undefined>((o, k) => o?.[k] as Record<string, unknown> | undefined, obj);
  expect(parent).toBeDefined();
  expect([0, '', false]).toContain(parent![last]); // only ever a zero value may be excused
  delete parent![last];
}

describe('real kubectl bodies', () => {
  test('every recorded command has a protobuf and a JSON body', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(25);
    for (const name of Object.keys(cases)) {
      expect(existsSync(new URL(`${name}.pb`, fixtures))).toBe(true);
      expect(existsSync(new URL(`${name}.json`, fixtures))).toBe(true);
    }
  });

  test.each(Object.keys(cases))('%s decodes to the JSON kubectl 1.31 sends', (name) => {
    const pb = read(`${name}.pb`);
    expect(pb.subarray(0, 4)).toEqual(Buffer.from('k8s\0', 'latin1'));
    const decoded = decodeKubernetesProtobuf(pb);
    const json = withoutNulls(JSON.parse(read(`${name}.json`).toString('utf8'))) as Record<string, unknown>;
    for (const path of ZERO_VALUE_FIELDS[name] ?? []) dropZeroField(json, path);
    expect(decoded.apiVersion).toBe(json.apiVersion);
    expect(decoded.kind).toBe(json.kind);
    expect(decoded.object).toStrictEqual(json);
  });

  test('auth can-i create pods is a SelfSubjectAccessReview for create pods in default', () => {
    const { apiVersion, kind, object } = decodeKubernetesProtobuf(read('auth-can-i-create-pods.pb'));
    expect([apiVersion, kind]).toEqual(['authorization.k8s.io/v1', 'SelfSubjectAccessReview']);
    expect((object.spec as Record<string, unknown>).resourceAttributes).toStrictEqual({
      namespace: 'default',
      verb: 'create',
      resource: 'pods',
    });
  });

  test('explicit zero pointers survive, bytes become base64, renamed fields get their JSON name', () => {
    const zero = decodeKubernetesProtobuf(read('create-deployment-zero.pb')).object as { spec: { replicas?: number } };
    expect(zero.spec.replicas).toBe(0);
    const cm = decodeKubernetesProtobuf(read('create-configmap.pb')).object;
    expect(cm.binaryData).toEqual({ bin: Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0xfe, 0x01]).toString('base64') });
    expect(cm.data).toEqual({ a: '1', empty: '' });
    const token = decodeKubernetesProtobuf(read('create-token.pb')).object as { spec: { boundObjectRef: Record<string, unknown> } };
    expect(token.spec.boundObjectRef.uid).toBe('0b8e5b2a-2c4f-4f55-9f3d-6d3d1c2f0a11'); // proto name "uID"
  });
});

// --- synthetic bodies, written with protobufjs's Writer -------------------------------------
const { Writer } = protobuf;
type Part = Uint8Array;
const str = (n: number, s: string): Part => Writer.create().uint32((n << 3) | 2).string(s).finish();
const int = (n: number, v: number): Part => Writer.create().uint32(n << 3).int64(v).finish();
const bool = (n: number, v: boolean): Part => Writer.create().uint32(n << 3).bool(v).finish();
const bytes = (n: number, b: Uint8Array): Part => Writer.create().uint32((n << 3) | 2).bytes(b).finish();
const sub = (n: number, ...parts: Part[]): Part => bytes(n, Buffer.concat(parts));
const entry = (n: number, key: string, ...value: Part[]): Part => sub(n, str(1, key), ...value);
const envelope = (apiVersion: string, kind: string, ...raw: Part[]): Buffer =>
  Buffer.concat([Buffer.from('k8s\0', 'latin1'), sub(1, str(1, apiVersion), str(2, kind)), sub(2, ...raw), str(3, ''), str(4, '')]);
const decode = (apiVersion: string, kind: string, ...raw: Part[]) => decodeKubernetesProtobuf(envelope(apiVersion, kind, ...raw)).object;

const T = 1704164645; // 2024-01-02T03:04:05Z

describe('special types', () => {
  test('Time has second precision, an empty Time is omitted, the epoch is not', () => {
    const pod = decode('v1', 'Pod',
      sub(1, str(1, 'p'), sub(8, int(1, T), int(2, 999999999)), sub(9), int(7, 2 ** 40)),
      sub(2), sub(3));
    expect(pod).toStrictEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', creationTimestamp: '2024-01-02T03:04:05Z', generation: 2 ** 40 }, spec: {}, status: {} });
    const epoch = decode('v1', 'Pod', sub(1, sub(8, int(1, 0), int(2, 0))));
    expect(epoch.metadata).toEqual({ creationTimestamp: '1970-01-01T00:00:00Z' });
  });

  test('MicroTime has 6 fractional digits; pointer zeros and empty strings are kept', () => {
    const lease = decode('coordination.k8s.io/v1', 'Lease',
      sub(1, str(1, 'l'), str(3, 'kube-system')),
      sub(2, str(1, ''), int(2, 15), sub(3, int(1, T), int(2, 123456789)), sub(4), int(5, 0)));
    expect(lease.spec).toStrictEqual({ holderIdentity: '', leaseDurationSeconds: 15, acquireTime: '2024-01-02T03:04:05.123456Z', leaseTransitions: 0 });
  });

  test('inline embedded structs, IntOrString, Quantity maps and empty pointer messages', () => {
    const probe = sub(10, sub(1, sub(2, str(1, '/healthz'), sub(2, int(1, 0), int(2, 8080)))), int(4, 5));
    const tcp = sub(11, sub(1, sub(3, sub(1, int(1, 1), str(3, 'http')))));
    const limits = sub(8, entry(1, 'cpu', sub(2, str(1, '250m'))), entry(1, 'memory', sub(2, str(1, '64Mi'))));
    const env = sub(7, str(1, 'K'), sub(3, sub(4, sub(1, str(1, 'sec')), str(2, 'key'))));
    const pod = decode('v1', 'Pod', sub(1, str(1, 'p')), sub(2,
      sub(1, str(1, 'scratch'), sub(2, sub(2))),
      sub(1, str(1, 'cm'), sub(2, sub(19, sub(1, str(1, 'cfg')), int(3, 420)))),
      sub(2, str(1, 'c'), str(2, 'busybox'), env, limits, probe, tcp)));
    expect((pod.spec as Record<string, unknown>)).toStrictEqual({
      volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cm', configMap: { name: 'cfg', defaultMode: 420 } }],
      containers: [{
        name: 'c', image: 'busybox',
        env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'sec', key: 'key' } } }],
        resources: { limits: { cpu: '250m', memory: '64Mi' } },
        livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 5 },
        readinessProbe: { tcpSocket: { port: 'http' } },
      }],
    });
  });

  test('RawExtension becomes the embedded JSON; ExtraValue maps become arrays', () => {
    const rev = decode('apps/v1', 'ControllerRevision', sub(1, str(1, 'r')), sub(2, bytes(1, Buffer.from('{"spec":{"x":1}}'))), int(3, 3));
    expect(rev).toStrictEqual({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, data: { spec: { x: 1 } }, revision: 3 });
    const sar = decode('authorization.k8s.io/v1', 'SubjectAccessReview', sub(1),
      sub(2, str(3, 'alice'), str(4, 'devs'), str(4, 'ops'), entry(5, 'scopes', sub(2, str(1, 'a'), str(1, 'b'))), str(6, '')), sub(3, bool(1, false)));
    expect(sar.spec).toStrictEqual({ user: 'alice', groups: ['devs', 'ops'], extra: { scopes: ['a', 'b'] } });
    expect(sar.status).toStrictEqual({});
  });

  test('meta/v1 option kinds resolve from any group; unknown fields are skipped', () => {
    const opts = [int(1, 0), str(4, 'Foreground'), str(5, 'All'), bool(3, false)];
    for (const gv of ['v1', 'meta.k8s.io/v1', 'apps/v1']) {
      expect(decode(gv, 'DeleteOptions', ...opts)).toStrictEqual({ apiVersion: gv, kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'], orphanDependents: false });
    }
    expect(decode('v1', 'Namespace', sub(1, str(1, 'n')), int(99, 7), str(100, 'future'))).toStrictEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    expect(messageNameFor('authentication.k8s.io/v1beta1', 'SelfSubjectReview')).toBe('k8s.io.api.authentication.v1beta1.SelfSubjectReview');
    expect(messageNameFor('autoscaling/v2', 'HorizontalPodAutoscaler')).toBe('k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler');
  });

  test('Duration formats like Go time.Duration', () => {
    expect([0, 1, 1500, 2_000_000, 1_500_000_000, 3600e9, 90e9, -61e9].map(formatDuration))
      .toEqual(['0s', '1ns', '1.5µs', '2ms', '1.5s', '1h0m0s', '1m30s', '-1m1s']);
  });
});

describe('bad input', () => {
  const bad = (body: Uint8Array, message: RegExp) => expect(() => decodeKubernetesProtobuf(body)).toThrow(message);

  test('missing magic, unknown kinds, malformed bytes', () => {
    bad(Buffer.from('{"kind":"Pod"}'), /magic/);
    bad(Buffer.alloc(0), /magic/);
    bad(envelope('v1', 'NoSuchKind'), /no kind "NoSuchKind"/);
    bad(envelope('core/v1', 'Pod'), /no kind/);
    bad(envelope('v1', 'ObjectMeta'), /no kind/); // a message, but not a kind
    bad(envelope('v1', ''), /no kind/);
    bad(Buffer.concat([Buffer.from('k8s\0', 'latin1'), sub(1, str(1, 'v1'), str(2, 'Pod')), str(3, 'gzip')]), /contentEncoding/);
    bad(envelope('v1', 'Pod', Buffer.from([0x0a, 0x20, 0x01])), /malformed/); // length beyond the end
    bad(envelope('v1', 'Pod', int(1, 5)), /wire type/); // metadata as a varint
    bad(envelope('apps/v1', 'ControllerRevision', sub(2, bytes(1, Buffer.from('not json')))), /not JSON/);
    bad(envelope('v1', 'Pod', sub(1, sub(8, int(1, 1e15)))), /RFC 3339/);
  });

  test('fuzzed bodies either decode or throw ProtobufDecodeError', () => {
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const bodies = Object.keys(cases).map((n) => read(`${n}.pb`));
    let threw = 0;
    for (let i = 0; i < 3000; i++) {
      const base = Buffer.from(bodies[i % bodies.length]);
      let body: Buffer;
      if (i % 3 === 0) body = base.subarray(0, 4 + Math.floor(rand() * (base.length - 4))); // truncated
      else if (i % 3 === 1) {
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) base[4 + Math.floor(rand() * (base.length - 4))] = Math.floor(rand() * 256);
        body = base; // flipped bytes
      } else body = Buffer.concat([base.subarray(0, 4), Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)))]);
      try {
        decodeKubernetesProtobuf(body);
      } catch (err) {
        threw++;
        expect(err).toBeInstanceOf(ProtobufDecodeError);
      }
    }
    expect(threw).toBeGreaterThan(100);
  });
});

// The JSON names the decoder produces must exist upstream. The OpenAPI document is a shared
// reference outside the repository, so this only runs where it is present. Properties only the
// document has are fine: it describes a newer Kubernetes than kubectl 1.33's descriptors.
const ORACLE = '/work/shared/reference/kubernetes-openapi-v2.json';
(existsSync(ORACLE) ? test : test.skip)('JSON field names match the upstream OpenAPI definitions', () => {
  const defs = (JSON.parse(readFileSync(ORACLE, 'utf8')) as { definitions: Record<string, { properties?: Record<string, unknown> }> }).definitions;
  const table = (JSON.parse(readFileSync(new URL('../../server/protobuf/k8s-messages.json', import.meta.url), 'utf8')) as { messages: Record<string, [number, string, string, string][]> }).messages;
  const kinds = [
    ['v1', 'Pod'], ['v1', 'Service'], ['v1', 'Endpoints'], ['v1', 'ConfigMap'], ['v1', 'Secret'], ['v1', 'Namespace'], ['v1', 'Node'],
    ['v1', 'Event'], ['v1', 'ServiceAccount'], ['v1', 'PersistentVolumeClaim'], ['v1', 'PersistentVolume'], ['v1', 'ResourceQuota'],
    ['v1', 'LimitRange'], ['v1', 'PodTemplate'], ['v1', 'Binding'], ['v1', 'DeleteOptions'],
    ['apps/v1', 'Deployment'], ['apps/v1', 'ReplicaSet'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['apps/v1', 'ControllerRevision'],
    ['autoscaling/v1', 'Scale'], ['autoscaling/v1', 'HorizontalPodAutoscaler'], ['autoscaling/v2', 'HorizontalPodAutoscaler'],
    ['batch/v1', 'Job'], ['batch/v1', 'CronJob'], ['networking.k8s.io/v1', 'Ingress'], ['networking.k8s.io/v1', 'IngressClass'],
    ['networking.k8s.io/v1', 'NetworkPolicy'], ['coordination.k8s.io/v1', 'Lease'], ['discovery.k8s.io/v1', 'EndpointSlice'],
    ['events.k8s.io/v1', 'Event'], ['policy/v1', 'PodDisruptionBudget'], ['policy/v1', 'Eviction'], ['storage.k8s.io/v1', 'StorageClass'],
    ['rbac.authorization.k8s.io/v1', 'Role'], ['rbac.authorization.k8s.io/v1', 'RoleBinding'], ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
    ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'], ['authorization.k8s.io/v1', 'SelfSubjectAccessReview'],
    ['authorization.k8s.io/v1', 'SubjectAccessReview'], ['authorization.k8s.io/v1', 'SelfSubjectRulesReview'],
    ['authorization.k8s.io/v1', 'LocalSubjectAccessReview'], ['authentication.k8s.io/v1', 'TokenRequest'],
    ['authentication.k8s.io/v1', 'TokenReview'], ['authentication.k8s.io/v1', 'SelfSubjectReview'],
    ['authentication.k8s.io/v1beta1', 'SelfSubjectReview'], ['certificates.k8s.io/v1', 'CertificateSigningRequest'],
  ];
  const seen = new Set<string>();
  const queue = kinds.map(([gv, k]) => {
    const name = messageNameFor(gv, k);
    expect([gv, k, name]).toEqual([gv, k, expect.any(String)]);
    return name!;
  });
  const wrong: string[] = [];
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name) || !table[name]) continue;
    seen.add(name);
    for (const [, , type] of table[name]) queue.push(type.replace(/^map<[^,]+,(.+)>$/, '$1'));
    const props = defs[`io.${name.replace(/^k8s\.io\./, 'k8s.')}`]?.properties;
    if (props) for (const f of jsonFieldNames(name)) if (!(f in props)) wrong.push(`${name}.${f}`);
  }
  expect(seen.size).toBeGreaterThan(200);
  expect(wrong).toEqual([]);
});
