// CertificateSigningRequests against a real API server (Node,RBAC) on real Redis: the requester
// is recorded from authentication, approval needs `approve` on the signer, and the csrsigning
// controller (run in-process as the controller manager's identity) issues a client certificate.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';
import { generateRequest } from '../support/csr.js';
import { ensurePki, pkiFiles } from '../../server/pki.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { runControllers } from '../../controllers/framework/run.js';
import { CSRSigningController } from '../../controllers/csr-signing.js';
import { logger } from '../../apimachinery/log.js';

const TOKENS = { admin: 'admin-token', alice: 'alice-token', bob: 'bob-token', controllerManager: 'cm-token' };
const TOKEN_FILE = [
  `${TOKENS.admin},kubernetes-admin,uid-admin,"system:masters"`,
  `${TOKENS.alice},alice,uid-alice,"dev"`,
  `${TOKENS.bob},bob,uid-bob`,
  `${TOKENS.controllerManager},system:kube-controller-manager,uid-cm`,
].join('\n');
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const SIGNER = 'kubernetes.io/kube-apiserver-client';

let redis: RedisProcess;
let api: ApiServerProcess;
let dir: string;
let caPem: string;
const stop = new AbortController();

const as = (who: keyof typeof TOKENS) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(api.url, method, path, body, 'application/json', { Authorization: `Bearer ${TOKENS[who]}`, ...headers });
const admin = as('admin');
const alice = as('alice');
const bob = as('bob');

async function newCSR(name: string, user: string, groups: string[] = [], extra: object = {}) {
  const { request } = await generateRequest(user, groups);
  return { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request, signerName: SIGNER, usages: ['client auth'], ...extra } };
}
const approve = (csr: Record<string, unknown>) => ({
  ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' }] },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'podium-csr-'));
  writeFileSync(join(dir, 'tokens.csv'), TOKEN_FILE);
  caPem = (await ensurePki(join(dir, 'pki'))).caCertPem;
  redis = await startRedis();
  api = await startApiServer(redis.url, ['--authorization-mode', 'Node,RBAC', '--token-auth-file', join(dir, 'tokens.csv')]);
  // alice and bob may request certificates and write approvals; neither may approve for any signer.
  expect((await admin('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
    metadata: { name: 'csr-requester' },
    rules: [
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list'] },
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
    ],
  })).status).toBe(201);
  expect((await admin('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'csr-requester' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-requester' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }, { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
  })).status).toBe(201);
  // The signer acts as the controller manager, under its bootstrap role.
  const files = pkiFiles(join(dir, 'pki'));
  const client = new ApiClient(api.url, { token: TOKENS.controllerManager });
  void runControllers(client, [new CSRSigningController({ certFile: files.caCert, keyFile: files.caKey })], 1, stop.signal, logger('test'));
}, 60_000);

afterAll(async () => {
  stop.abort();
  await api?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('discovery lists the approval subresource', async () => {
  const list = await admin('GET', '/apis/certificates.k8s.io/v1');
  expect(list.status).toBe(200);
  const names = (list.body.resources as { name: string; verbs: string[]; shortNames?: string[] }[]);
  expect(names.find((r) => r.name === 'certificatesigningrequests')?.shortNames).toEqual(['csr']);
  expect(names.find((r) => r.name === 'certificatesigningrequests/approval')?.verbs).toEqual(['get', 'patch', 'update']);
  expect(names.find((r) => r.name === 'certificatesigningrequests/status')?.verbs).toEqual(['get', 'patch', 'update']);
});

test('the requester is who authenticated, whatever the body says', async () => {
  const body = await newCSR('alice-1', 'alice', ['dev'], { username: 'mallory', groups: ['system:masters'], uid: 'forged' });
  const created = await alice('POST', CSRS, body);
  expect(created.status).toBe(201);
  expect(created.body.spec.username).toBe('alice');
  expect(created.body.spec.uid).toBe('uid-alice');
  expect(created.body.spec.groups).toEqual(['dev', 'system:authenticated']);
  expect(created.body.status).toEqual({});
});

test('an invalid request is refused with upstream\'s message', async () => {
  const body = await newCSR('bad', 'alice', [], { usages: [], expirationSeconds: 60 });
  const res = await alice('POST', CSRS, body);
  expect(res.status).toBe(422);
  expect(res.body.message).toBe('CertificateSigningRequest.certificates.k8s.io "bad" is invalid: [spec.usages: Required value, spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)]');
});

test('a client certificate for system:masters cannot even be requested', async () => {
  const res = await admin('POST', CSRS, await newCSR('masters', 'eve', ['system:masters']));
  expect(res.status).toBe(403);
  expect(res.body.message).toBe(`certificatesigningrequests.certificates.k8s.io "masters" is forbidden: use of ${SIGNER} signer with system:masters group is not allowed`);
});

test('approval needs approve on the signer; the admin approves and the signer issues', async () => {
  const current = (await alice('GET', `${CSRS}/alice-1`)).body;
  const refused = await bob('PUT', `${CSRS}/alice-1/approval`, approve(current));
  expect(refused.status).toBe(403);
  expect(refused.body.message).toBe(`certificatesigningrequests.certificates.k8s.io "alice-1" is forbidden: user not permitted to approve requests with signerName "${SIGNER}"`);
  // The main resource ignores status; the status subresource may not approve.
  expect((await admin('PUT', `${CSRS}/alice-1`, approve(current))).body.status).toEqual({});
  const viaStatus = await admin('PUT', `${CSRS}/alice-1/status`, approve(current));
  expect(viaStatus.status).toBe(422);
  expect(viaStatus.body.message).toContain('updates may not add a condition of type "Approved"');

  const approved = await admin('PUT', `${CSRS}/alice-1/approval`, approve(current));
  expect(approved.status).toBe(200);
  expect(approved.body.status.conditions).toEqual([expect.objectContaining({ type: 'Approved', status: 'True', reason: 'KubectlApprove', lastUpdateTime: expect.any(String) })]);
  // Once approved, it stays approved.
  const undo = await admin('PUT', `${CSRS}/alice-1/approval`, { ...approved.body, status: { conditions: [] } });
  expect(undo.status).toBe(422);
  expect(undo.body.message).toContain('updates may not remove a condition of type "Approved"');

  const issued = await until('certificate issued', async () => {
    const got = (await alice('GET', `${CSRS}/alice-1`)).body;
    return got.status?.certificate ? got : undefined;
  });
  const cert = new X509Certificate(Buffer.from(issued.status.certificate, 'base64'));
  expect(cert.subject).toBe('CN=alice\nO=dev');
  expect(cert.checkIssued(new X509Certificate(caPem))).toBe(true);
  expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);

  const table = await alice('GET', CSRS, undefined, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  expect(table.body.columnDefinitions.map((c: { name: string }) => c.name)).toEqual(['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']);
  const row = table.body.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'alice-1');
  expect(row.cells.slice(2)).toEqual([SIGNER, 'alice', '<none>', 'Approved,Issued']);
}, 40_000);

test('denied requests are not signed; bad usages fail with the signer\'s reason', async () => {
  const denied = await alice('POST', CSRS, await newCSR('denied-1', 'alice'));
  expect(denied.status).toBe(201);
  const d = await admin('PUT', `${CSRS}/denied-1/approval`, { ...denied.body, status: { conditions: [{ type: 'Denied', status: 'True', reason: 'KubectlDeny' }] } });
  expect(d.status).toBe(200);

  const server = await alice('POST', CSRS, await newCSR('server-1', 'alice', [], { usages: ['client auth', 'server auth'] }));
  expect(server.status).toBe(201);
  expect((await admin('PUT', `${CSRS}/server-1/approval`, approve(server.body))).status).toBe(200);
  const failed = await until('Failed condition', async () => {
    const got = (await admin('GET', `${CSRS}/server-1`)).body;
    return got.status?.conditions?.some((c: { type: string }) => c.type === 'Failed') ? got : undefined;
  });
  expect(failed.status.conditions[1]).toMatchObject({ type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: 'invalid usage for client certificate: server auth' });
  expect(failed.status.certificate).toBeUndefined();
  expect((await admin('GET', `${CSRS}/denied-1`)).body.status.certificate).toBeUndefined();
}, 40_000);
