// Operability metrics and request IDs against real processes: a Redis, an API server with
// RBAC, a controller manager and a simulated node agent, read with real kubectl binaries.
// The API server's /metrics is protected like upstream's (system:monitoring, admins), its
// counters move with the requests made here, every response carries an Audit-Id that the
// request log repeats, the controller manager reports its work queues, and the node agent
// reports the kubelet series, through nodes/NODE/proxy/metrics where it serves HTTPS.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { freePort, ROOT, startApiServer, startRedis, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';
import { ensurePki, issueClientCertificate, issueServingCertificate } from '../../server/pki.js';
import { AgentServer } from '../../node-agent/server.js';

const run = promisify(execFile);
const KUBECTLS = ['1.27', '1.33'].map((v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`);
const NS = 'metrics-test';
const NODE = 'mx-0';

const TOKENS = { admin: 'admin-token', alice: 'alice-token', monitor: 'monitor-token', cm: 'cm-token', node: 'node-token' };
const TOKEN_FILE = [
  `${TOKENS.admin},kubernetes-admin,uid-admin,"system:masters"`,
  `${TOKENS.alice},alice,uid-alice`,
  `${TOKENS.monitor},prometheus,uid-prom,"system:monitoring"`,
  `${TOKENS.cm},system:kube-controller-manager,uid-cm`,
  `${TOKENS.node},system:node:${NODE},uid-node,"system:nodes"`,
].join('\n');

let dir: string;
let redis: RedisProcess;
/** The API server over HTTPS (kubectl sends no bearer token over plain HTTP). */
let api: { url: string; output(): string };
let ca: Buffer;
const children: ChildProcess[] = [];
let cmMetrics: string;
let agentMetrics: string;
let agentServer: AgentServer | undefined;

function kubeconfig(name: string, token: string): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'clusters:', `- name: c`, `  cluster: { server: "${api.url}", certificate-authority: "${join(dir, 'pki', 'ca.crt')}" }`,
    'users:', `- name: u`, `  user: { token: "${token}" }`,
    'contexts:', '- name: c', '  context: { cluster: c, user: u }',
  ].join('\n'));
  return path;
}

async function kubectl(bin: string, who: keyof typeof TOKENS, ...args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const r = await run(bin, args, { env: { ...process.env, KUBECONFIG: join(dir, `${who}.kubeconfig`) }, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

interface Reply { status: number; body: any; headers: Headers }

/** One request to an API server (HTTPS trusting the cluster CA, or plain HTTP); JSON bodies parsed. */
function call(base: string, method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = (url.protocol === 'https:' ? request : httpRequest)({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, ca, agent: false,
      headers: { ...(payload ? { 'Content-Type': contentType } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* plain text */ }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: h });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const as = (who: keyof typeof TOKENS) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(api.url, method, path, body, 'application/json', { Authorization: `Bearer ${TOKENS[who]}`, ...headers });
const admin = as('admin');

/** The sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum = (sum ?? 0) + Number(m[2]);
  }
  return sum;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

const apiMetrics = async (): Promise<string> => {
  const r = await admin('GET', '/metrics');
  expect(r.status).toBe(200);
  return r.body as unknown as string;
};

function startPodium(args: string[]): ChildProcess {
  const p = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => { err = (err + d).slice(-4000); });
  p.on('exit', (code) => { if (code) process.stderr.write(`podium ${args[0]} exited ${code}: ${err}\n`); });
  children.push(p);
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'podium-metrics-'));
  writeFileSync(join(dir, 'tokens.csv'), TOKEN_FILE);
  // The API server's client identity towards node agents, and the CA both trust.
  const pkiDir = join(dir, 'pki');
  const pki = await ensurePki(pkiDir);
  const kubeletClient = await issueClientCertificate(pkiDir, 'kube-apiserver-kubelet-client', ['system:masters']);
  writeFileSync(join(dir, 'kubelet-client.crt'), kubeletClient.certPem);
  writeFileSync(join(dir, 'kubelet-client.key'), kubeletClient.keyPem);
  ca = readFileSync(pki.files.caCert);
  redis = await startRedis();
  const apiPort = await freePort();
  let output = '';
  const apiProcess = startPodium(['apiserver', '--redis-url', redis.url, '--port', String(apiPort), '--bind-address', '127.0.0.1',
    '--tls-cert-file', pki.files.servingCert, '--tls-private-key-file', pki.files.servingKey,
    '--authorization-mode', 'Node,RBAC', '--anonymous-auth', 'true', '--token-auth-file', join(dir, 'tokens.csv'), '--v', '3',
    '--kubelet-client-certificate', join(dir, 'kubelet-client.crt'), '--kubelet-client-key', join(dir, 'kubelet-client.key'),
    '--kubelet-certificate-authority', pki.files.caCert,
  ]);
  apiProcess.stderr!.on('data', (d) => (output += d));
  api = { url: `https://127.0.0.1:${apiPort}`, output: () => output };
  await until('the API server', async () => (await call(api.url, 'GET', '/readyz').catch(() => ({ status: 0 }))).status === 200, 30_000);
  for (const who of Object.keys(TOKENS) as (keyof typeof TOKENS)[]) kubeconfig(who, TOKENS[who]);

  const [cmPort, agentPort] = [await freePort(), await freePort()];
  cmMetrics = `http://127.0.0.1:${cmPort}/metrics`;
  agentMetrics = `http://127.0.0.1:${agentPort}/metrics`;
  startPodium(['controller-manager', '--kubeconfig', join(dir, 'cm.kubeconfig'), '--leader-elect', 'false', '--controllers', 'replicaset,deployment,namespace,serviceaccount',
    '--metrics-bind-address', `127.0.0.1:${cmPort}`]);
  startPodium(['agent', '--kubeconfig', join(dir, 'node.kubeconfig'), '--runtime', 'simulated', '--nodes', '1', '--node-name-prefix', 'mx-',
    '--metrics-bind-address', `127.0.0.1:${agentPort}`]);
  expect((await admin('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);

  // A stand-in for a Docker node's HTTPS endpoint: the agent's own server code, on loopback.
  const serving = await issueServingCertificate(pkiDir, 'agent', ['127.0.0.1']);
  agentServer = new AgentServer({
    cert: Buffer.from(serving.certPem), key: Buffer.from(serving.keyPem), clientCa: readFileSync(pki.files.caCert),
    bindAddress: '127.0.0.1', port: 0, pod: () => undefined, runtimeFor: () => undefined,
  });
  const port = await agentServer.start();
  expect((await admin('POST', '/api/v1/nodes', { metadata: { name: 'https-node' } })).status).toBe(201);
  const node = (await admin('GET', '/api/v1/nodes/https-node')).body;
  node.status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } };
  expect((await admin('PUT', '/api/v1/nodes/https-node/status', node)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await agentServer?.close();
  for (const c of [...children].reverse()) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const stuck = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(stuck);
    }
  }
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('API server /metrics', () => {
  test.each(KUBECTLS)('%s get --raw /metrics shows the request counts growing with requests', async (bin) => {
    const posts = { verb: 'POST', resource: 'configmaps', code: '201', scope: 'resource', component: 'apiserver' };
    const missing = { verb: 'GET', resource: 'configmaps', code: '404', scope: 'resource' };
    const before = await kubectl(bin, 'admin', 'get', '--raw', '/metrics');
    expect(before).toMatchObject({ ok: true });
    expect(before.out).toMatch(/^# HELP apiserver_request_total /m);
    const tag = bin.slice(-4).replace('.', '');
    for (let i = 0; i < 3; i++) expect((await admin('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: `cm-${tag}-${i}` } })).status).toBe(201);
    expect((await admin('GET', `/api/v1/namespaces/${NS}/configmaps/absent`)).status).toBe(404);
    const after = await kubectl(bin, 'admin', 'get', '--raw', '/metrics');
    expect(after.ok).toBe(true);
    expect(value(after.out, 'apiserver_request_total', posts)).toBe((value(before.out, 'apiserver_request_total', posts) ?? 0) + 3);
    expect(value(after.out, 'apiserver_request_total', missing)).toBe((value(before.out, 'apiserver_request_total', missing) ?? 0) + 1);
    // The scrape before this one is counted too, as a non-resource GET.
    expect(value(after.out, 'apiserver_request_total', { verb: 'GET', resource: '', code: '200' })).toBeGreaterThanOrEqual(1);
    expect(value(after.out, 'apiserver_request_duration_seconds_count', { verb: 'POST', resource: 'configmaps' })).toBeGreaterThanOrEqual(3);
    expect(value(after.out, 'etcd_request_duration_seconds_count', { operation: 'create', type: 'configmaps' })).toBeGreaterThanOrEqual(3);
    expect(value(after.out, 'apiserver_storage_objects', { resource: 'configmaps' })).toBeGreaterThanOrEqual(3);
    expect(value(after.out, 'apiserver_watch_cache_capacity', { resource: 'pods' })).toBeGreaterThan(0);
    expect(value(after.out, 'apiserver_current_inflight_requests', { request_kind: 'readOnly' })).toBeGreaterThanOrEqual(1);
    expect(value(after.out, 'apiserver_current_inflight_requests', { request_kind: 'mutating' })).toBeDefined();
    expect(value(after.out, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  }, 30_000);

  test('an unknown path is counted with code 404 and adds no resource series', async () => {
    const notFound = { verb: 'GET', resource: '', code: '404' };
    const before = value(await apiMetrics(), 'apiserver_request_total', notFound) ?? 0;
    expect((await admin('GET', '/api/v1/nosuchresources')).status).toBe(404);
    const text = await apiMetrics();
    expect(value(text, 'apiserver_request_total', notFound)).toBe(before + 1);
    expect(text).not.toContain('resource="nosuchresources"');
  });

  test('RBAC: admins and system:monitoring may read it; ordinary and anonymous users get a 403 Status', async () => {
    for (const bin of KUBECTLS) {
      const alice = await kubectl(bin, 'alice', 'get', '--raw', '/metrics');
      expect(alice.ok).toBe(false);
      expect(alice.err).toMatch(/forbidden/i);
      expect((await kubectl(bin, 'monitor', 'get', '--raw', '/metrics')).out).toContain('apiserver_request_total');
    }
    const alice = await as('alice')('GET', '/metrics');
    expect(alice.status).toBe(403);
    expect(alice.body).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
    const anonymous = await call(api.url, 'GET', '/metrics');
    expect(anonymous.status).toBe(403);
    expect(anonymous.body).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
    expect(anonymous.body.message).toContain('system:anonymous');
    // The monitoring role reaches the metrics and health checks, nothing else.
    expect((await as('monitor')('GET', '/readyz/etcd')).status).toBe(200);
    const readyBefore = value((await as('monitor')('GET', '/metrics/slis')).body, 'kubernetes_healthchecks_total', { name: 'etcd', type: 'readyz', status: 'success' }) ?? 0;
    expect((await as('monitor')('GET', '/readyz')).status).toBe(200);
    const slis = await as('monitor')('GET', '/metrics/slis');
    expect(slis.status).toBe(200);
    expect(value(slis.body, 'kubernetes_healthcheck', { name: 'etcd', type: 'readyz' })).toBe(1);
    expect(value(slis.body, 'kubernetes_healthchecks_total', { name: 'etcd', type: 'readyz', status: 'success' })).toBe(readyBefore + 1);
    expect((await as('alice')('GET', '/metrics/slis')).status).toBe(403);
    expect((await as('monitor')('GET', `/api/v1/namespaces/${NS}/configmaps`)).status).toBe(403);
    const role = (await admin('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:monitoring')).body;
    expect(role.rules).toEqual([{ verbs: ['get'], nonResourceURLs: ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'] }]);
  }, 30_000);

  test('an open watch counts as a long-running request and a registered watcher until it ends', async () => {
    const watchLabels = { verb: 'WATCH', resource: 'configmaps', scope: 'namespace' };
    const read = async () => {
      const t = await apiMetrics();
      return { longRunning: value(t, 'apiserver_longrunning_requests', watchLabels) ?? 0, watchers: value(t, 'apiserver_registered_watchers', { resource: 'configmaps' }) ?? 0 };
    };
    const before = await read();
    const w = spawn(KUBECTLS[1], ['get', 'configmaps', '-n', NS, '--watch', '-o', 'name'], { env: { ...process.env, KUBECONFIG: join(dir, 'admin.kubeconfig') }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(w);
    let out = '';
    w.stdout!.on('data', (d) => (out += d));
    try {
      const during = await until('the watch to be counted', async () => {
        const m = await read();
        return m.longRunning > before.longRunning && m;
      }, 15_000);
      expect(during.longRunning).toBe(before.longRunning + 1);
      expect(during.watchers).toBe(before.watchers + 1);
      expect((await admin('POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name: 'watched' } })).status).toBe(201);
      await until('the watch to see the new config map', async () => out.includes('configmap/watched'), 10_000);
    } finally {
      w.kill('SIGTERM');
    }
    const after = await until('the watch to end', async () => {
      const m = await read();
      return m.longRunning === before.longRunning && m;
    }, 15_000);
    expect(after.watchers).toBe(before.watchers);
    const done = value(await apiMetrics(), 'apiserver_request_total', { verb: 'WATCH', resource: 'configmaps', code: '200' });
    expect(done).toBeGreaterThanOrEqual(1);
  }, 45_000);
});

describe('request IDs', () => {
  test('every response carries a unique Audit-Id, a client-sent Audit-ID is kept, and the request log names it', async () => {
    const ids = await Promise.all([
      admin('GET', `/api/v1/namespaces/${NS}`),
      admin('GET', '/version'),
      admin('GET', `/api/v1/namespaces/${NS}/configmaps/absent`),
      call(api.url, 'GET', '/metrics'),
    ].map(async (p) => (await p).headers.get('audit-id')));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);

    const mine = `test-audit-${Date.now()}`;
    const r = await admin('GET', `/api/v1/namespaces/${NS}/configmaps`, undefined, { 'Audit-ID': mine });
    expect(r.headers.get('audit-id')).toBe(mine);
    const line = await until('the request line', async () => api.output().split('\n').find((l) => l.includes(`"auditID":"${mine}"`)), 5_000);
    expect(JSON.parse(line)).toMatchObject({ msg: 'request', v: 3, verb: 'LIST', code: 200, url: `/api/v1/namespaces/${NS}/configmaps` });
    // kubectl's own requests get one too.
    const verbose = await kubectl(KUBECTLS[1], 'admin', 'get', 'ns', NS, '-v', '8');
    expect(verbose.err).toMatch(/Audit-Id: [0-9a-f-]{36}/);
  }, 20_000);
});

describe('request logs', () => {
  test('by default no line per request, but a 5xx is logged at level 0 with its audit ID', async () => {
    const ownRedis = await startRedis();
    const quiet = await startApiServer(ownRedis.url);
    try {
      for (let i = 0; i < 5; i++) expect((await call(quiet.url, 'GET', '/api/v1/namespaces/default')).status).toBe(200);
      await ownRedis.kill();
      const failed = await call(quiet.url, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'x' } });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(failed.body).toMatchObject({ kind: 'Status', code: failed.status });
      const id = failed.headers.get('audit-id');
      const line = await until('the failure line', async () => quiet.output().split('\n').find((l) => l.includes(`"auditID":"${id}"`)), 5_000);
      expect(JSON.parse(line)).toMatchObject({ msg: 'request failed', level: 50, code: failed.status, verb: 'POST' });
      expect(quiet.output()).not.toContain('"msg":"request"');
    } finally {
      await quiet.kill();
      await ownRedis.stop();
    }
  }, 30_000);
});

describe('controller manager --metrics-bind-address', () => {
  test('serves the workqueue series of its controllers, and they move with work', async () => {
    const labels = { name: 'replicaset' };
    const before = value(await until('the controller manager metrics', () => fetch(cmMetrics).then(async (r) => (r.ok ? r.text() : undefined), () => undefined), 20_000), 'workqueue_adds_total', labels) ?? 0;
    const rs = {
      metadata: { name: 'rs1' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'rs1' } }, template: { metadata: { labels: { app: 'rs1' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    expect((await admin('POST', `/apis/apps/v1/namespaces/${NS}/replicasets`, rs)).status).toBe(201);
    await until('the replica set to make its pod', async () => ((await admin('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Drs1`)).body.items ?? []).length === 1, 20_000);
    // The pod is made inside the sync; the sync's work is observed when it returns.
    const text = await until('the sync to be observed', async () => {
      const t = await scrape(cmMetrics);
      return (value(t, 'workqueue_work_duration_seconds_count', labels) ?? 0) >= 1 && t;
    }, 10_000);
    expect(value(text, 'workqueue_adds_total', labels)).toBeGreaterThan(before);
    for (const name of ['replicaset', 'deployment', 'namespace']) {
      expect(value(text, 'workqueue_depth', { name })).toBeGreaterThanOrEqual(0);
      expect(value(text, 'workqueue_retries_total', { name })).toBeGreaterThanOrEqual(0);
      expect(value(text, 'workqueue_unfinished_work_seconds', { name })).toBeGreaterThanOrEqual(0);
      expect(value(text, 'workqueue_longest_running_processor_seconds', { name })).toBeGreaterThanOrEqual(0);
    }
    expect(value(text, 'workqueue_queue_duration_seconds_count', labels)).toBeGreaterThanOrEqual(1);
    expect(value(text, 'workqueue_work_duration_seconds_count', labels)).toBeGreaterThanOrEqual(1);
    expect(value(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  }, 45_000);
});

describe('node agent', () => {
  test('a simulated agent serves the kubelet series on --metrics-bind-address', async () => {
    await until('the node', async () => (await admin('GET', `/api/v1/nodes/${NODE}`)).status === 200, 20_000);
    const before = value(await scrape(agentMetrics), 'kubelet_pod_start_duration_seconds_count') ?? 0;
    const pod = { metadata: { name: 'bound' }, spec: { nodeName: NODE, containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] } };
    expect((await admin('POST', `/api/v1/namespaces/${NS}/pods`, pod)).status).toBe(201);
    await until('the pod to run', async () => (await admin('GET', `/api/v1/namespaces/${NS}/pods/bound`)).body.status?.phase === 'Running', 20_000);
    const text = await until('the start to be observed', async () => {
      const t = await scrape(agentMetrics);
      return (value(t, 'kubelet_pod_start_duration_seconds_count') ?? 0) > before && t;
    }, 10_000);
    expect(value(text, 'kubelet_pod_start_duration_seconds_count')).toBe(before + 1);
    expect(value(text, 'kubelet_running_pods')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'kubelet_running_containers', { container_state: 'running' })).toBeGreaterThanOrEqual(2);
    expect(text).toContain('# TYPE prober_probe_total counter');
    // Simulated nodes serve no HTTPS endpoint, so nodes/proxy answers with a Status saying so.
    const proxied = await admin('GET', `/api/v1/nodes/${NODE}/proxy/metrics`);
    expect(proxied.status).toBe(503);
    expect(proxied.body).toMatchObject({ kind: 'Status', code: 503 });
  }, 45_000);

  test('nodes/NODE/proxy/metrics reaches an agent HTTPS endpoint, for those allowed nodes/proxy', async () => {
    for (const bin of KUBECTLS) {
      const r = await kubectl(bin, 'admin', 'get', '--raw', '/api/v1/nodes/https-node/proxy/metrics');
      expect(r).toMatchObject({ ok: true });
      expect(r.out).toMatch(/^# TYPE kubelet_running_pods gauge$/m);
      expect(r.out).toMatch(/^# TYPE kubelet_pod_start_duration_seconds histogram$/m);
      const alice = await kubectl(bin, 'alice', 'get', '--raw', '/api/v1/nodes/https-node/proxy/metrics');
      expect(alice.ok).toBe(false);
      expect(alice.err).toMatch(/forbidden.*nodes\/proxy/is);
    }
    // Through the proxy the agent's answer arrives as it was sent, with the API server's Audit-Id.
    const direct = await admin('GET', '/api/v1/nodes/https-node/proxy/healthz');
    expect(direct.status).toBe(200);
    expect(direct.body).toBe('ok');
    expect(direct.headers.get('audit-id')).toBeTruthy();
    expect((await admin('GET', '/api/v1/nodes/no-such-node/proxy/metrics')).status).toBe(404);
  }, 30_000);
});
