// What authentication and RBAC cost a request: the same gets and lists against two API servers
// over the same Redis and data, one admitting everyone (--authorization-mode AlwaysAllow,
// anonymous) and one enforcing Node,RBAC for a bearer-token user who holds a RoleBinding among
// a hundred others in the namespace and a hundred ClusterRoleBindings (so the authorizer has
// bindings to look through, as in a lived-in cluster).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, freePort, waitUntil } from './processes.js';
import { HttpTarget, timedPool, summarize, type Summary } from './http-client.js';
import { configMap, objectName } from './workload.js';

export interface AuthzCostOptions {
  podiumJs: string;
  redisUrl: string;
  /** The running AlwaysAllow API server on the same Redis. */
  openPort: number;
  tmp: string;
  concurrency: number;
  rounds: number;
  objects: number;
  gets: number;
  lists: number;
  say(line: string): void;
  readyz(port: number): Promise<boolean>;
}

export interface AuthzCost {
  off: { get: Summary; list: Summary };
  on: { get: Summary; list: Summary };
  getRatio: number;
  listRatio: number;
}

const ADMIN_TOKEN = 'bench-admin-token';
const USER_TOKEN = 'bench-user-token';
const NAMESPACE = 'authz-bench';
const FILLER_BINDINGS = 100;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function measureAuthorizationCost(o: AuthzCostOptions): Promise<AuthzCost> {
  const tokenFile = join(o.tmp, 'tokens.csv');
  await writeFile(tokenFile, `${ADMIN_TOKEN},bench-admin,uid-admin,"system:masters"\n${USER_TOKEN},bench-user,uid-user\n`);
  const port = await freePort();
  const rbacServer = new Child('apiserver-rbac', process.execPath, [o.podiumJs, 'apiserver', '--redis-url', o.redisUrl, '--port', String(port), '--bind-address', '127.0.0.1',
    '--authorization-mode', 'Node,RBAC', '--token-auth-file', tokenFile], { env: { PODIUM_SUPERVISED: '1' } });
  try {
    await waitUntil('the RBAC API server to answer /readyz', () => o.readyz(port), 60_000, rbacServer, 20);
    const admin = new HttpTarget('rbac-admin', port, o.concurrency, '127.0.0.1', { authorization: `Bearer ${ADMIN_TOKEN}` });
    await seed(admin, o.objects);
    admin.close();

    const off = new HttpTarget('authorization off', o.openPort, o.concurrency);
    const on = new HttpTarget('authorization on', port, o.concurrency, '127.0.0.1', { authorization: `Bearer ${USER_TOKEN}` });
    // The grant reaches the RBAC server's caches through its watch: wait until the user may read.
    await waitUntil('the RoleBinding to take effect', async () => (await on.request('GET', `/api/v1/namespaces/${NAMESPACE}/configmaps/${objectName(0)}`)).status === 200, 10_000);
    const results = { off: [] as { get: Summary; list: Summary }[], on: [] as { get: Summary; list: Summary }[] };
    await readRound(off, o);
    await readRound(on, o);
    for (let round = 1; round <= o.rounds; round++) {
      const order = round % 2 === 1 ? [off, on] : [on, off];
      for (const t of order) {
        const r = await readRound(t, o);
        (t === off ? results.off : results.on).push(r);
        o.say(`authorization round ${round}: ${t.name}: get ${r.get.opsPerSec.toFixed(0)}/s, list ${r.list.opsPerSec.toFixed(1)}/s`);
      }
    }
    off.close();
    on.close();
    const pick = (rs: { get: Summary; list: Summary }[], k: 'get' | 'list'): Summary => ({ ...rs[0]![k], opsPerSec: median(rs.map((r) => r[k].opsPerSec)), p50Ms: median(rs.map((r) => r[k].p50Ms)), p99Ms: median(rs.map((r) => r[k].p99Ms)), maxMs: median(rs.map((r) => r[k].maxMs)) });
    const offM = { get: pick(results.off, 'get'), list: pick(results.off, 'list') };
    const onM = { get: pick(results.on, 'get'), list: pick(results.on, 'list') };
    return { off: offM, on: onM, getRatio: onM.get.opsPerSec / offM.get.opsPerSec, listRatio: onM.list.opsPerSec / offM.list.opsPerSec };
  } finally {
    await rbacServer.stop();
  }
}

async function seed(admin: HttpTarget, objects: number): Promise<void> {
  const rbac = '/apis/rbac.authorization.k8s.io/v1';
  await admin.expect(201, 'POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: NAMESPACE } }));
  await timedPool(objects, 16, new Float64Array(objects), async (i) => {
    await admin.expect(201, 'POST', `/api/v1/namespaces/${NAMESPACE}/configmaps`, JSON.stringify(configMap(NAMESPACE, objectName(i), i)));
  });
  await admin.expect(201, 'POST', `${rbac}/namespaces/${NAMESPACE}/roles`, JSON.stringify({ metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] }));
  const binding = (name: string, user: string, roleRef: object) => JSON.stringify({ metadata: { name }, roleRef, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }] });
  const role = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' };
  const view = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' };
  await timedPool(FILLER_BINDINGS, 16, new Float64Array(FILLER_BINDINGS), async (i) => {
    await admin.expect(201, 'POST', `${rbac}/namespaces/${NAMESPACE}/rolebindings`, binding(`filler-${i}`, `someone-${i}`, role));
    await admin.expect(201, 'POST', `${rbac}/clusterrolebindings`, binding(`authz-bench-filler-${i}`, `someone-${i}`, view));
  });
  await admin.expect(201, 'POST', `${rbac}/namespaces/${NAMESPACE}/rolebindings`, binding('bench-user-reads', 'bench-user', role));
}

async function readRound(t: HttpTarget, o: AuthzCostOptions): Promise<{ get: Summary; list: Summary }> {
  const base = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
  const getLat = new Float64Array(o.gets);
  const getSecs = await timedPool(o.gets, o.concurrency, getLat, async (k) => {
    const r = await t.request('GET', `${base}/${objectName(k % o.objects)}`);
    if (r.status !== 200) throw new Error(`${t.name}: get: HTTP ${r.status}`);
  });
  const listLat = new Float64Array(o.lists);
  const listSecs = await timedPool(o.lists, o.concurrency, listLat, async () => {
    const r = await t.request('GET', base);
    if (r.status !== 200) throw new Error(`${t.name}: list: HTTP ${r.status}`);
  });
  return { get: summarize(getLat, getSecs), list: summarize(listLat, listSecs) };
}
