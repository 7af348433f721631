// Nothing a client sends crashes the server or gets a 500: malformed, mistyped, oversized and
// random bodies in every encoding, for every served resource, get a 4xx Status.
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';

let redis: RedisProcess;
let api: ApiServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomValue(r: () => number, depth = 0): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (pick) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 2 ** 40) - 2 ** 39;
    case 3: return r() * 1e6;
    case 4: return ['', 'x', 'ünïcode', '$patch', '9', 'a'.repeat(300)][Math.floor(r() * 6)];
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const keys = ['metadata', 'spec', 'status', 'name', 'labels', 'containers', 'ports', 'data', 'template', 'selector', 'replicas', 'finalizers', 'ownerReferences', '$patch', '$setElementOrder/containers', 'type', 'rules'];
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
      return o;
    }
  }
}

const RESOURCES = [
  '/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/services', '/api/v1/namespaces/default/configmaps',
  '/api/v1/namespaces/default/secrets', '/api/v1/namespaces', '/api/v1/nodes', '/api/v1/namespaces/default/events',
  '/apis/apps/v1/namespaces/default/deployments', '/apis/apps/v1/namespaces/default/statefulsets', '/apis/batch/v1/namespaces/default/jobs',
  '/apis/batch/v1/namespaces/default/cronjobs', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers',
  '/apis/events.k8s.io/v1/namespaces/default/events', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', '/apis/policy/v1/namespaces/default/poddisruptionbudgets',
];

const expectClientError = (status: number, what: string) => {
  if (status >= 500 || status < 200) throw new Error(`${what} -> ${status}`);
};

test('random and mistyped bodies get 4xx (or succeed), never 5xx', async () => {
  const r = rng(Number(process.env.FUZZ_SEED ?? 42));
  for (const base of RESOURCES) {
    for (let i = 0; i < Number(process.env.FUZZ_ROUNDS ?? 25); i++) {
      const body = randomValue(r);
      const res = await call(api.url, 'POST', base, JSON.stringify(body));
      expectClientError(res.status, `POST ${base} ${JSON.stringify(body).slice(0, 200)}`);
      if (res.status < 300) expect(res.body.kind).toBeDefined();
      else expect(res.body).toMatchObject({ kind: 'Status', status: 'Failure' });
    }
  }
});

test('patches of every type with random documents never give 5xx', async () => {
  await call(api.url, 'POST', '/apis/apps/v1/namespaces/default/deployments', {
    metadata: { name: 'target' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  });
  const r = rng(Number(process.env.FUZZ_SEED ?? 7));
  const types = ['application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml', 'text/plain'];
  for (let i = 0; i < 200; i++) {
    const type = types[i % types.length];
    const body = type === 'application/json-patch+json' && r() < 0.7
      ? [{ op: ['add', 'remove', 'replace', 'test', 'move', 'copy', 'bogus'][Math.floor(r() * 7)], path: ['/spec/replicas', '/spec/template/spec/containers/0', '/metadata/labels/x', '', '/nope/deep', '/spec/selector'][Math.floor(r() * 6)], value: randomValue(r), from: '/spec' }]
      : randomValue(r);
    const res = await call(api.url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/target', JSON.stringify(body), type);
    expectClientError(res.status, `PATCH ${type} ${JSON.stringify(body).slice(0, 200)}`);
  }
  expect((await call(api.url, 'GET', '/apis/apps/v1/namespaces/default/deployments/target')).status).toBe(200);
});

test('malformed encodings: JSON, YAML, protobuf, content types, sizes', async () => {
  const cm = '/api/v1/namespaces/default/configmaps';
  const cases: [string, string | Buffer, number][] = [
    ['application/json', '{"metadata":', 400],
    ['application/json', '[1,2,3]', 400],
    ['application/json', '"just a string"', 400],
    ['application/json', '{"metadata":"nope"}', 400],
    ['application/json', '{"metadata":{"name":"x","labels":{"a":1}}}', 400],
    ['application/yaml', 'metadata: [unclosed', 400],
    ['application/yaml', 'metadata:\n  name: from-yaml\ndata:\n  a: "1"\n', 201],
    ['application/vnd.kubernetes.protobuf', Buffer.from('k8s\u0000garbage-bytes-here'), 400],
    ['application/vnd.kubernetes.protobuf', Buffer.from([1, 2, 3]), 400],
    ['application/xml', '<x/>', 415],
  ];
  for (const [type, body, code] of cases) {
    const res = await fetch(api.url + cm, { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
    const status = await res.json();
    expect([type, res.status]).toEqual([type, code]);
    if (code >= 400) expect(status).toMatchObject({ kind: 'Status', code });
  }
  const huge = JSON.stringify({ metadata: { name: 'huge' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } });
  const res = await fetch(api.url + cm, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: huge });
  expect(res.status).toBe(413);
  expect((await res.json()).reason).toBe('RequestEntityTooLarge');
});

test('bad query parameters and paths are 4xx Status errors', async () => {
  const paths = [
    '/api/v1/namespaces/default/configmaps?limit=abc',
    '/api/v1/namespaces/default/configmaps?labelSelector=%3D%3D%3D',
    '/api/v1/namespaces/default/configmaps?fieldSelector=spec.nope%3D1',
    '/api/v1/namespaces/default/configmaps?continue=not-a-token',
    '/api/v1/namespaces/default/configmaps?resourceVersion=abc',
    '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=xyz',
    '/api/v1/namespaces/default/nothings',
    '/apis/nope.example.com/v1/things',
    '/api/v1/namespaces/default/configmaps/a/b/c/d',
  ];
  for (const p of paths) {
    const res = await call(api.url, 'GET', p);
    expect([p, res.status >= 400 && res.status < 500]).toEqual([p, true]);
    expect(res.body.kind).toBe('Status');
  }
  expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
});

/** Valid objects, mutated one path at a time: a missing or emptied part must never crash a strategy. */
const VALID: [string, Record<string, unknown>][] = [
  ['/api/v1/namespaces/default/pods', { metadata: { name: 'm' }, spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }], resources: { limits: { cpu: '1' } } }], volumes: [{ name: 'v', emptyDir: {} }] } }],
  ['/api/v1/namespaces/default/services', { metadata: { name: 'm' }, spec: { type: 'NodePort', selector: { a: 'b' }, ports: [{ name: 'h', port: 80, targetPort: 'http' }] } }],
  ['/apis/apps/v1/namespaces/default/deployments', { metadata: { name: 'm' }, spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } }],
  ['/apis/apps/v1/namespaces/default/statefulsets', { metadata: { name: 'm' }, spec: { serviceName: 's', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } }],
  ['/apis/batch/v1/namespaces/default/cronjobs', { metadata: { name: 'm' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } } } }],
  ['/apis/networking.k8s.io/v1/namespaces/default/ingresses', { metadata: { name: 'm' }, spec: { rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } }],
  ['/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', { metadata: { name: 'm' }, spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80 }] }] } }],
  ['/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { metadata: { name: 'm' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' }, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } }],
  ['/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { metadata: { name: 'm' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ port: 80 }] }],
];

function paths(v: unknown, prefix: string[] = []): string[][] {
  if (!v || typeof v !== 'object') return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const [k, child] of Object.entries(v)) out.push(...paths(child, [...prefix, k]));
  return out;
}

test('valid objects with one part removed or emptied get 4xx, never 5xx', async () => {
  const replacements: unknown[] = [undefined, {}, [], '', 0, [{}]];
  for (const [base, valid] of VALID) {
    for (const path of paths(valid)) {
      if (path[0] === 'metadata' && path.length === 1) continue;
      for (const replacement of replacements) {
        const obj = structuredClone(valid);
        let parent = obj as Record<string, unknown>;
        for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
        if (replacement === undefined) delete parent[path.at(-1)!];
        else parent[path.at(-1)!] = replacement;
        (obj.metadata as { name?: string }).name = `m${Math.floor(Math.random() * 1e9)}`;
        const res = await call(api.url, 'POST', base, obj);
        expectClientError(res.status, `POST ${base} with ${path.join('.')}=${JSON.stringify(replacement)}`);
      }
    }
  }
});
