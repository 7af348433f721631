// Authentication, authorization and encryption at rest against a real API server and Redis:
// each component identity is refused what it should not do, service-account tokens live and
// die with their account, RBAC escalation is refused, and Redis never holds a secret in clear.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';
import { defaultConfigYaml } from '../../server/storage/encryption.js';

const TOKENS: Record<string, string> = {
  admin: 'admin-token',
  alice: 'alice-token',
  node1: 'node1-token',
  node2: 'node2-token',
  controllerManager: 'cm-token',
  scheduler: 'scheduler-token',
};
const TOKEN_FILE = [
  `${TOKENS.admin},kubernetes-admin,uid-admin,"system:masters"`,
  `${TOKENS.alice},alice,uid-alice`,
  `${TOKENS.node1},system:node:n1,uid-n1,"system:nodes"`,
  `${TOKENS.node2},system:node:n2,uid-n2,"system:nodes"`,
  `${TOKENS.controllerManager},system:kube-controller-manager,uid-cm`,
  `${TOKENS.scheduler},system:kube-scheduler,uid-sched`,
].join('\n');

const SECRET_VALUE = 'correct-horse-battery-staple-1f6c';
const PLAIN_VALUE = 'a-configmap-value-that-is-not-secret-9d2e';

let redis: RedisProcess;
let api: ApiServerProcess;
let dir: string;
let base: string;

const as = (who: keyof typeof TOKENS) => (method: string, path: string, body?: unknown, contentType?: string) =>
  call(base, method, path, body, contentType, { Authorization: `Bearer ${TOKENS[who]}` });
const asToken = (token: string) => (method: string, path: string, body?: unknown) => call(base, method, path, body, undefined, { Authorization: `Bearer ${token}` });
const admin = as('admin');

function pod(name: string, nodeName: string, secret: string, configMap: string): object {
  return {
    metadata: { name },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: configMap } }] }],
      volumes: [{ name: 's', secret: { secretName: secret } }],
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'podium-security-'));
  writeFileSync(join(dir, 'tokens.csv'), TOKEN_FILE);
  writeFileSync(join(dir, 'encryption.yaml'), defaultConfigYaml());
  redis = await startRedis();
  api = await startApiServer(redis.url, [
    '--authorization-mode', 'Node,RBAC',
    '--token-auth-file', join(dir, 'tokens.csv'),
    '--encryption-provider-config', join(dir, 'encryption.yaml'),
    '--audit-log-path', join(dir, 'audit.log'),
  ]);
  base = api.url;
  expect((await admin('POST', '/api/v1/namespaces', { metadata: { name: 'sec' } })).status).toBe(201);
  expect((await admin('POST', '/api/v1/namespaces/sec/serviceaccounts', { metadata: { name: 'default' } })).status).toBe(201);
  for (const n of ['1', '2']) {
    expect((await admin('POST', '/api/v1/namespaces/sec/secrets', { metadata: { name: `s${n}` }, stringData: { password: `${SECRET_VALUE}-${n}` } })).status).toBe(201);
    expect((await admin('POST', '/api/v1/namespaces/sec/configmaps', { metadata: { name: `cm${n}` }, data: { value: PLAIN_VALUE } })).status).toBe(201);
    expect((await admin('POST', '/api/v1/namespaces/sec/pods', pod(`p${n}`, `n${n}`, `s${n}`, `cm${n}`))).status).toBe(201);
    expect((await admin('POST', '/api/v1/nodes', { metadata: { name: `n${n}` } })).status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('authentication', () => {
  it('refuses anonymous requests with 401 but serves health and version', async () => {
    const r = await call(base, 'GET', '/api/v1/namespaces/sec/pods');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    expect((await call(base, 'GET', '/healthz')).status).toBe(200);
    expect((await call(base, 'GET', '/version')).status).toBe(200);
  });

  it('refuses an unknown token with 401, even on /healthz', async () => {
    expect((await asToken('nope')('GET', '/api')).status).toBe(401);
    expect((await asToken('nope')('GET', '/healthz')).status).toBe(401);
  });

  it('SelfSubjectReview names the static-token user and her groups', async () => {
    const r = await as('alice')('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(r.status).toBe(201);
    expect(r.body.status.userInfo).toMatchObject({ username: 'alice', uid: 'uid-alice', groups: ['system:authenticated'] });
  });

  it('forbids alice, who holds no role, with upstream wording', async () => {
    const r = await as('alice')('GET', '/api/v1/namespaces/sec/pods');
    expect(r.status).toBe(403);
    expect(r.body.message).toBe('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "sec"');
  });
});

describe('node identities', () => {
  const node1 = as('node1');
  it('read the secrets and configmaps of pods bound to them', async () => {
    expect((await node1('GET', '/api/v1/namespaces/sec/secrets/s1')).status).toBe(200);
    expect((await node1('GET', '/api/v1/namespaces/sec/configmaps/cm1')).status).toBe(200);
  });

  it('are refused another node\'s pod secret and configmap', async () => {
    const r = await node1('GET', '/api/v1/namespaces/sec/secrets/s2');
    expect(r.status).toBe(403);
    expect(r.body.message).toContain("no relationship found between node 'n1' and this object");
    expect((await node1('GET', '/api/v1/namespaces/sec/configmaps/cm2')).status).toBe(403);
    expect((await node1('GET', '/api/v1/namespaces/sec/secrets')).status).toBe(403);
  });

  it('update only their own Node and the status of their own pods', async () => {
    const own = await node1('PATCH', '/api/v1/nodes/n1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/merge-patch+json');
    expect(own.status).toBe(200);
    const other = await node1('PATCH', '/api/v1/nodes/n2', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    expect(other.status).toBe(403);
    expect((await node1('PATCH', '/api/v1/namespaces/sec/pods/p1/status', { status: { message: 'mine' } }, 'application/merge-patch+json')).status).toBe(200);
    expect((await node1('PATCH', '/api/v1/namespaces/sec/pods/p2/status', { status: { message: 'not mine' } }, 'application/merge-patch+json')).status).toBe(403);
  });

  it('may not create ordinary pods or delete namespaces', async () => {
    expect((await node1('POST', '/api/v1/namespaces/sec/pods', pod('p3', 'n1', 's1', 'cm1'))).status).toBe(403);
    expect((await node1('DELETE', '/api/v1/namespaces/sec')).status).toBe(403);
  });
});

describe('the controller manager identity', () => {
  const cm = as('controllerManager');
  it('lists and watches everything it reconciles and deletes pods', async () => {
    expect((await cm('GET', '/apis/apps/v1/deployments')).status).toBe(200);
    expect((await cm('GET', '/api/v1/pods')).status).toBe(200);
    expect((await admin('POST', '/api/v1/namespaces/sec/pods', pod('doomed', '', 's1', 'cm1'))).status).toBe(201);
    expect((await cm('DELETE', '/api/v1/namespaces/sec/pods/doomed')).status).toBe(200);
  });

  it('is refused secrets, role bindings and impersonation', async () => {
    expect((await cm('POST', '/api/v1/namespaces/sec/secrets', { metadata: { name: 'x' } })).status).toBe(403);
    const crb = await cm('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      metadata: { name: 'cm-grabs-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'system:kube-controller-manager' }],
    });
    expect(crb.status).toBe(403);
    const r = await call(base, 'GET', '/api/v1/namespaces', undefined, undefined, { Authorization: `Bearer ${TOKENS.controllerManager}`, 'Impersonate-User': 'kubernetes-admin' });
    expect(r.status).toBe(403);
  });
});

describe('the scheduler identity', () => {
  const scheduler = as('scheduler');
  it('binds pods but reads no secrets and deletes no namespaces', async () => {
    expect((await admin('POST', '/api/v1/namespaces/sec/pods', pod('unbound', '', 's1', 'cm1'))).status).toBe(201);
    const bind = await scheduler('POST', '/api/v1/namespaces/sec/pods/unbound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'n1' } });
    expect(bind.status).toBe(201);
    expect((await scheduler('GET', '/api/v1/namespaces/sec/secrets/s1')).status).toBe(403);
    expect((await scheduler('DELETE', '/api/v1/namespaces/sec')).status).toBe(403);
  });
});

describe('service-account tokens and RBAC', () => {
  let token = '';
  const sa = (method: string, path: string, body?: unknown) => asToken(token)(method, path, body);

  it('TokenRequest issues a JWT that authenticates as the account', async () => {
    expect((await admin('POST', '/api/v1/namespaces/sec/serviceaccounts', { metadata: { name: 'bob' } })).status).toBe(201);
    const tr = await admin('POST', '/api/v1/namespaces/sec/serviceaccounts/bob/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } });
    expect(tr.status).toBe(201);
    token = tr.body.status.token;
    expect(token).toMatch(/^eyJ/);
    const who = await sa('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    expect(who.body.status.userInfo.username).toBe('system:serviceaccount:sec:bob');
    expect(who.body.status.userInfo.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', 'system:serviceaccounts:sec', 'system:authenticated']));
  });

  it('a too-short TokenRequest is invalid', async () => {
    const tr = await admin('POST', '/api/v1/namespaces/sec/serviceaccounts/bob/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 60 } });
    expect(tr.status).toBe(422);
  });

  it('a RoleBinding grants exactly its role, in its namespace', async () => {
    expect((await sa('GET', '/api/v1/namespaces/sec/pods')).status).toBe(403);
    await admin('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/roles', { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] });
    await admin('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/rolebindings', {
      metadata: { name: 'bob-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'bob', namespace: 'sec' }],
    });
    await until('the binding to take effect', async () => (await sa('GET', '/api/v1/namespaces/sec/pods')).status === 200);
    expect((await sa('GET', '/api/v1/namespaces/default/pods')).status).toBe(403);
    expect((await sa('DELETE', '/api/v1/namespaces/sec/pods/p1')).status).toBe(403);
  });

  it('escalation is refused: bob may not grant what he does not hold', async () => {
    await admin('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/roles', { metadata: { name: 'role-admin' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'get', 'list'] }] });
    await admin('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/rolebindings', {
      metadata: { name: 'bob-roles' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'bob', namespace: 'sec' }],
    });
    const within = { metadata: { name: 'mine' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] };
    await until('bob creating a role he holds', async () => (await sa('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/roles', within)).status === 201);
    const grab = await sa('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/sec/roles', { metadata: { name: 'grab' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] });
    expect(grab.status).toBe(403);
    expect(grab.body.message).toContain('is attempting to grant RBAC permissions not currently held');
  });

  it('the token stops working once the account is deleted', async () => {
    expect((await admin('DELETE', '/api/v1/namespaces/sec/serviceaccounts/bob')).status).toBe(200);
    await until('the token to be refused', async () => (await sa('GET', '/api/v1/namespaces/sec/pods')).status === 401);
  });
});

describe('secrets at rest', () => {
  it('Redis holds no secret value in clear, while a ConfigMap value is readable there', async () => {
    const client = new Redis(redis.url);
    const dump: string[] = [];
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const type = await client.type(key);
          if (type === 'hash') dump.push(JSON.stringify(await client.hgetall(key)));
          else if (type === 'stream') dump.push(JSON.stringify(await client.xrange(key, '-', '+')));
          else if (type === 'string') dump.push((await client.get(key)) ?? '');
          else if (type === 'zset') dump.push(JSON.stringify(await client.zrange(key, 0, -1)));
          else if (type === 'set') dump.push(JSON.stringify(await client.smembers(key)));
        }
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
    const all = dump.join('\n');
    // The positive control: the same scan does see values stored in clear.
    expect(all).toContain(PLAIN_VALUE);
    expect(all).toContain('k8s:enc:aesgcm:v1:key1:');
    for (const n of ['1', '2']) {
      const value = `${SECRET_VALUE}-${n}`;
      expect(all).not.toContain(value);
      expect(all).not.toContain(Buffer.from(value).toString('base64'));
    }
    // …and the API still serves it decrypted.
    const s = await admin('GET', '/api/v1/namespaces/sec/secrets/s1');
    expect(Buffer.from(s.body.data.password, 'base64').toString()).toBe(`${SECRET_VALUE}-1`);
  });
});

describe('the audit log', () => {
  it('has one JSON line per request with user, verb, resource and code', async () => {
    await as('alice')('GET', '/api/v1/namespaces/sec/configmaps/cm1');
    // The line is written when the response has closed, a moment after the client has its answer.
    // A line still being written does not parse yet; it is read again on the next poll.
    const readLines = () => readFileSync(join(dir, 'audit.log'), 'utf8').split('\n').flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    });
    const isDenial = (l: Record<string, any>) => l.user?.username === 'alice' && l.objectRef?.resource === 'configmaps' && l.objectRef?.name === 'cm1';
    await until('the audit line', async () => readLines().some(isDenial));
    const lines = readLines();
    const denied = lines.find(isDenial);
    expect(denied).toMatchObject({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', verb: 'get', objectRef: { namespace: 'sec' }, responseStatus: { code: 403 } });
    expect(denied!.annotations['authorization.k8s.io/decision']).toBe('forbid');
    expect(JSON.stringify(lines)).not.toContain(SECRET_VALUE);
  });
});
