#!/usr/bin/env node
// Development script: records the request bodies real kubectl binaries send, as fixtures for
// test/unit/protobuf-decode.test.ts. Each case runs once with kubectl 1.33 (protobuf bodies) and
// once with kubectl 1.31 (JSON bodies) against a throwaway plain-HTTP fake API server that knows
// just enough discovery to let the commands through.
//
//   node scripts/capture-kubectl-bodies.mjs [--out test/fixtures/protobuf]
//
// Writes <case>.pb (the raw body, `k8s\0` magic included), <case>.json and cases.json (what ran).
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';

const BIN = '/usr/lib/google-cloud-sdk/bin';
const outIdx = process.argv.indexOf('--out');
const outDir = outIdx > 0 ? process.argv[outIdx + 1] : new URL('../test/fixtures/protobuf', import.meta.url).pathname;

const CASES = {
  'create-deployment': ['create', 'deployment', 'web', '--image=nginx:1.25', '--port=80', '--replicas=3'],
  'create-deployment-zero': ['create', 'deployment', 'zero', '--image=busybox', '--replicas=0', '--', 'sleep', '3600'],
  'create-job': ['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi'],
  'create-job-from-cronjob': ['create', 'job', 'j2', '--from=cronjob/cj'],
  'create-cronjob': ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'],
  'create-configmap': ['create', 'configmap', 'cm', '--from-literal=a=1', '--from-literal=empty=', '--from-file=bin=@BINFILE@'],
  'create-secret-generic': ['create', 'secret', 'generic', 's1', '--from-literal=user=admin', '--from-literal=pass=p@ss', '--type=Opaque'],
  'create-secret-docker-registry': ['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p'],
  'create-service-clusterip': ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080', '--tcp=443:https'],
  'create-service-headless': ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
  'create-service-nodeport': ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'],
  'create-service-externalname': ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
  'create-namespace': ['create', 'namespace', 'ns1'],
  'create-serviceaccount': ['create', 'serviceaccount', 'sa1'],
  'create-role': ['create', 'role', 'r1', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=a'],
  'create-rolebinding': ['create', 'rolebinding', 'rb1', '--role=r1', '--user=alice', '--group=devs', '--serviceaccount=default:sa1'],
  'create-clusterrole': ['create', 'clusterrole', 'cr1', '--verb=get', '--resource=nodes', '--non-resource-url=/logs/*'],
  'create-clusterrole-aggregated': ['create', 'clusterrole', 'cr2', '--aggregation-rule=rbac.example.com/aggregate=true'],
  'create-clusterrolebinding': ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--group=ops'],
  'create-token': ['create', 'token', 'sa1', '--duration=1h', '--audience=api', '--bound-object-kind=Pod', '--bound-object-name=p1', '--bound-object-uid=0b8e5b2a-2c4f-4f55-9f3d-6d3d1c2f0a11'],
  'create-quota': ['create', 'quota', 'q1', '--hard=cpu=2,memory=1Gi,pods=10', '--scopes=BestEffort'],
  'create-pdb': ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=web', '--min-available=50%'],
  'create-ingress': ['create', 'ingress', 'ing1', '--class=nginx', '--rule=foo.example/bar*=svc:8080', '--rule=tls.example/=svc:http,tls=cert'],
  'create-priorityclass': ['create', 'priorityclass', 'pc1', '--value=1000', '--description=high', '--preemption-policy=Never'],
  'auth-can-i-create-pods': ['auth', 'can-i', 'create', 'pods'],
  'auth-can-i-subresource': ['auth', 'can-i', 'get', 'pods', '-n', 'kube-system', '--subresource=log'],
  'auth-can-i-nonresource': ['auth', 'can-i', 'get', '/healthz'],
  'auth-can-i-list': ['auth', 'can-i', '--list', '-n', 'default'],
  'auth-whoami': ['auth', 'whoami'],
};

const GROUPS = {
  apps: { v: 'v1', res: [['deployments', 'Deployment', true]] },
  batch: { v: 'v1', res: [['jobs', 'Job', true], ['cronjobs', 'CronJob', true]] },
  'rbac.authorization.k8s.io': {
    v: 'v1',
    res: [['roles', 'Role', true], ['rolebindings', 'RoleBinding', true], ['clusterroles', 'ClusterRole', false], ['clusterrolebindings', 'ClusterRoleBinding', false]],
  },
  'authorization.k8s.io': { v: 'v1', res: [['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false], ['selfsubjectrulesreviews', 'SelfSubjectRulesReview', false]] },
  'authentication.k8s.io': { v: 'v1', res: [['selfsubjectreviews', 'SelfSubjectReview', false], ['tokenreviews', 'TokenReview', false]] },
  policy: { v: 'v1', res: [['poddisruptionbudgets', 'PodDisruptionBudget', true]] },
  'networking.k8s.io': { v: 'v1', res: [['ingresses', 'Ingress', true]] },
  'scheduling.k8s.io': { v: 'v1', res: [['priorityclasses', 'PriorityClass', false]] },
};
const CORE = [
  ['namespaces', 'Namespace', false], ['configmaps', 'ConfigMap', true], ['secrets', 'Secret', true],
  ['services', 'Service', true], ['serviceaccounts', 'ServiceAccount', true], ['serviceaccounts/token', 'TokenRequest', true],
  ['pods', 'Pod', true], ['resourcequotas', 'ResourceQuota', true], ['nodes', 'Node', false],
];
const resourceList = (gv, res) => ({
  kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv,
  resources: res.map(([name, kind, namespaced]) => ({ name, singularName: '', namespaced, kind, verbs: ['create', 'get', 'list'] })),
});

const CRONJOB = {
  apiVersion: 'batch/v1', kind: 'CronJob',
  metadata: { name: 'cj', namespace: 'default', uid: '6a1f0c7e-3f0e-4a53-9d55-0f3c3f1f7e01', resourceVersion: '7', creationTimestamp: '2024-01-02T03:04:05Z' },
  spec: {
    schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false,
    jobTemplate: {
      metadata: { labels: { tier: 'batch' }, annotations: { note: 'from-template' } },
      spec: {
        backoffLimit: 2, ttlSecondsAfterFinished: 0,
        template: {
          metadata: { labels: { tier: 'batch' } },
          spec: {
            restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 30,
            containers: [{
              name: 'c', image: 'busybox', command: ['date'], imagePullPolicy: 'IfNotPresent',
              resources: { limits: { cpu: '100m', memory: '64Mi' } },
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [{ name: 'A', value: '' }, { name: 'B', valueFrom: { secretKeyRef: { name: 's1', key: 'pass', optional: true } } }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
            }],
            volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } }],
          },
        },
      },
    },
  },
};

// Answers a POST well enough for kubectl to finish; the reply content does not matter for capture.
function replyFor(kind, apiVersion, json) {
  const base = json ?? { apiVersion, kind, metadata: { name: 'x', namespace: 'default' } };
  if (kind === 'SelfSubjectAccessReview') return { ...base, status: { allowed: true } };
  if (kind === 'SelfSubjectRulesReview') return { ...base, status: { resourceRules: [], nonResourceRules: [], incomplete: false } };
  if (kind === 'SelfSubjectReview') return { ...base, status: { userInfo: { username: 'admin', groups: ['system:masters'] } } };
  if (kind === 'TokenRequest') return { ...base, status: { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' } };
  return base;
}

// Just enough of the runtime.Unknown envelope to name the kind in the reply.
function envelopeTypeMeta(buf) {
  let pos = 4;
  const varint = () => { let v = 0, s = 0, b; do { b = buf[pos++]; v += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return v; };
  const fields = (end) => { const out = {}; while (pos < end) { const tag = varint(); const len = varint(); out[tag >> 3] = buf.subarray(pos, pos + len); pos += len; } return out; };
  const top = fields(buf.length);
  pos = 0;
  const tmBuf = top[1] ?? Buffer.alloc(0);
  const saved = buf; buf = tmBuf; const tm = fields(tmBuf.length); buf = saved;
  return { apiVersion: tm[1]?.toString() ?? '', kind: tm[2]?.toString() ?? '' };
}

function startServer(record) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://x');
      const send = (code, obj) => { res.writeHead(code, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
      const p = url.pathname;
      if (p === '/version') return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
      if (p === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      if (p === '/apis') {
        return send(200, {
          kind: 'APIGroupList', apiVersion: 'v1',
          groups: Object.entries(GROUPS).map(([name, g]) => {
            const gv = { groupVersion: `${name}/${g.v}`, version: g.v };
            return { name, versions: [gv], preferredVersion: gv };
          }),
        });
      }
      if (p === '/api/v1') return send(200, resourceList('v1', CORE));
      for (const [name, g] of Object.entries(GROUPS)) if (p === `/apis/${name}/${g.v}`) return send(200, resourceList(`${name}/${g.v}`, g.res));
      if (req.method === 'GET' && p === '/apis/batch/v1/namespaces/default/cronjobs/cj') return send(200, CRONJOB);
      if (req.method === 'POST') {
        const contentType = req.headers['content-type'] ?? '';
        record({ path: p, query: url.search, contentType, body });
        if (contentType.includes('protobuf')) {
          const { apiVersion, kind } = envelopeTypeMeta(body);
          return send(201, replyFor(kind, apiVersion));
        }
        const json = JSON.parse(body.toString('utf8'));
        return send(201, replyFor(json.kind, json.apiVersion, json));
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${p} not found` });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function run(kubectl, args, home) {
  return new Promise((resolve) => {
    execFile(kubectl, [`--cache-dir=${join(home, 'cache')}`, '--request-timeout=10s', ...args],
      { env: { HOME: home, KUBECONFIG: join(home, 'config'), PATH: process.env.PATH }, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

const work = mkdtempSync(join(tmpdir(), 'capture-kubectl-'));
const binFile = join(work, 'blob.bin');
writeFileSync(binFile, Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f, 0xfe, 0x01]));
let current = [];
const server = await startServer((r) => current.push(r));
const { port } = server.address();
writeFileSync(join(work, 'config'), [
  'apiVersion: v1', 'kind: Config', 'current-context: fake',
  'clusters:', `- name: fake`, `  cluster: { server: "http://127.0.0.1:${port}" }`,
  'users:', '- name: anon', '  user: {}',
  'contexts:', '- name: fake', '  context: { cluster: fake, user: anon, namespace: default }', '',
].join('\n'));
mkdirSync(outDir, { recursive: true });

const index = {};
for (const [name, rawArgs] of Object.entries(CASES)) {
  const args = rawArgs.map((a) => a.replace('@BINFILE@', binFile));
  const entry = { args: rawArgs };
  for (const [minor, ext] of [['1.33', 'pb'], ['1.31', 'json']]) {
    current = [];
    const r = await run(`${BIN}/kubectl.${minor}`, args, work);
    const post = current[0];
    if (!post) {
      console.log(`${name} ${minor}: no POST (exit ${r.code}) ${r.stderr.trim()}`);
      continue;
    }
    const isProto = post.contentType.includes('protobuf');
    const file = `${name}.${isProto ? 'pb' : 'json'}`;
    if ((ext === 'pb') !== isProto) console.log(`${name} ${minor}: expected ${ext}, got ${post.contentType}`);
    writeFileSync(join(outDir, file), isProto ? post.body : `${JSON.stringify(JSON.parse(post.body.toString('utf8')), null, 2)}\n`);
    entry[minor] = { method: 'POST', path: post.path, query: post.query, contentType: post.contentType, file };
    console.log(`${name} ${minor}: ${post.contentType} ${post.path} (${post.body.length} bytes)`);
  }
  index[name] = entry;
}
writeFileSync(join(outDir, 'cases.json'), `${JSON.stringify(index, null, 2)}\n`);
server.close();
rmSync(work, { recursive: true, force: true });
