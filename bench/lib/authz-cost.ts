// What authentication and RBAC cost a request: the same gets and lists against two API servers
// over the same Redis and data, one admitting everyone (--authorization-mode AlwaysAllow,
// anonymous) and one enforcing Node,RBAC for a bearer-token user who holds a RoleBinding among
// a hundred others in the namespace and a hundred ClusterRoleBindings (so the authorizer has
// bindings to look through, as in a lived-in cluster).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Child, freePort, waitUntil } from './processes.js';
import { HttpTarget, timedPool } from './http-client.js';
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
  off: { getPerSec: number; listPerSec: number };
  on: { getPerSec: number; listPerSec: number };
  /** Medians of the per-round ratios (on / off throughput). */
  getRatio: number;
  listRatio: number;
  perRound: { get: number[]; list: number[] };
}

const SLICES = 10;

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
    await readSlice(off, o, o.gets, o.lists);
    await readSlice(on, o, o.gets, o.lists);
    // Rounds of interleaved slices: load from elsewhere on this 2-core machine (and V8's collections
    // in either server) drifts over seconds, so each target gets many short turns in alternating
    // order, and a round's ratio compares times gathered side by side.
    const getRatios: number[] = [];
    const listRatios: number[] = [];
    const totals = { off: { get: 0, list: 0 }, on: { get: 0, list: 0 } };
    const getsPerSlice = Math.max(1, Math.floor(o.gets / SLICES));
    const listsPerSlice = Math.max(1, Math.floor(o.lists / SLICES));
    for (let round = 1; round <= o.rounds; round++) {
      const secs = { off: { get: 0, list: 0 }, on: { get: 0, list: 0 } };
      for (let slice = 0; slice < SLICES; slice++) {
        const order = slice % 2 === 0 ? ['off', 'on'] as const : ['on', 'off'] as const;
        for (const which of order) {
          const r = await readSlice(which === 'off' ? off : on, o, getsPerSlice, listsPerSlice);
          secs[which].get += r.getSecs;
          secs[which].list += r.listSecs;
        }
      }
      getRatios.push(secs.off.get / secs.on.get);
      listRatios.push(secs.off.list / secs.on.list);
      for (const which of ['off', 'on'] as const) {
        totals[which].get += secs[which].get;
        totals[which].list += secs[which].list;
      }
      o.say(`authorization round ${round}: get ${(getsPerSlice * SLICES / secs.off.get).toFixed(0)}/s off, ${(getsPerSlice * SLICES / secs.on.get).toFixed(0)}/s on (${(100 * getRatios.at(-1)!).toFixed(1)}%); ` +
        `list ${(listsPerSlice * SLICES / secs.off.list).toFixed(1)}/s off, ${(listsPerSlice * SLICES / secs.on.list).toFixed(1)}/s on (${(100 * listRatios.at(-1)!).toFixed(1)}%)`);
    }
    off.close();
    on.close();
    const rate = (ops: number, secs: number): number => ops / secs;
    const gets = getsPerSlice * SLICES * o.rounds;
    const lists = listsPerSlice * SLICES * o.rounds;
    return {
      off: { getPerSec: rate(gets, totals.off.get), listPerSec: rate(lists, totals.off.list) },
      on: { getPerSec: rate(gets, totals.on.get), listPerSec: rate(lists, totals.on.list) },
      getRatio: median(getRatios),
      listRatio: median(listRatios),
      perRound: { get: getRatios, list: listRatios },
    };
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

async function readSlice(t: HttpTarget, o: AuthzCostOptions, gets: number, lists: number): Promise<{ getSecs: number; listSecs: number }> {
  const base = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
  const getSecs = await timedPool(gets, o.concurrency, new Float64Array(gets), async (k) => {
    const r = await t.request('GET', `${base}/${objectName(k % o.objects)}`);
    if (r.status !== 200) throw new Error(`${t.name}: get: HTTP ${r.status}`);
  });
  const listSecs = await timedPool(lists, o.concurrency, new Float64Array(lists), async () => {
    const r = await t.request('GET', base);
    if (r.status !== 200) throw new Error(`${t.name}: list: HTTP ${r.status}`);
  });
  return { getSecs, listSecs };
}
