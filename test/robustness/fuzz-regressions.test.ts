// The failures the fuzzer found, replayed as plain requests: each test is named after its bug and
// asserts the Kubernetes answer (a 4xx meta/v1 Status) where the server used to give a 500 or worse.
import { Agent, request } from 'node:http';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';

let redis: RedisProcess;
let api: ApiServerProcess;
const NS = 'fuzzreg';

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await call(api.url, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  expect((await call(api.url, 'POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fx' }, data: { a: 'b' } })).status).toBe(201);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

/** A raw request (no client-side encoding of the path), answered as status + parsed JSON body. */
function raw(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: api.port, method, path, headers: body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expectStatus(reply: { status: number; body: Record<string, unknown> }, code: number, reason: string): void {
  expect(reply.status).toBe(code);
  expect(reply.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
}

const deep = (depth: number) => `${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('deeply nested bodies exhausted the stack (500 "Maximum call stack size exceeded")', () => {
  test.each([
    ['create', 'POST', `/api/v1/namespaces/${NS}/configmaps`, 'application/json', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"spec":${deep(5000)}}`],
    ['update', 'PUT', `/api/v1/namespaces/${NS}/configmaps/fx`, 'application/json', deep(20_000)],
    ['merge patch', 'PATCH', `/api/v1/namespaces/${NS}/configmaps/fx`, 'application/merge-patch+json', `{"spec":${deep(3000)}}`],
    ['strategic merge patch', 'PATCH', `/api/v1/namespaces/${NS}/configmaps/fx`, 'application/strategic-merge-patch+json', `{"spec":${deep(3000)}}`],
    ['json patch', 'PATCH', `/api/v1/namespaces/${NS}/configmaps/fx`, 'application/json-patch+json', `[{"op":"add","path":"/metadata/labels","value":${deep(3000)}}]`],
    ['apply patch', 'PATCH', `/api/v1/namespaces/${NS}/configmaps/fx?fieldManager=m`, 'application/apply-patch+yaml', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fx"},"spec":${deep(3000)}}`],
    ['delete options', 'DELETE', `/api/v1/namespaces/${NS}/configmaps/nope`, 'application/json', `[${'['.repeat(9000)}${']'.repeat(9000)}]`],
    ['flow YAML', 'POST', `/api/v1/namespaces/${NS}/configmaps`, 'application/yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`],
  ])('%s: 400 exceeded max depth', async (_what, method, path, contentType, body) => {
    const reply = await raw(method, path, body, contentType);
    expectStatus(reply, 400, 'BadRequest');
    expect(reply.body.message).toContain('exceeded max depth');
  });

  test('nesting just under the limit still decodes', async () => {
    const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx`, `{"metadata":{"annotations":{"n":"x"}},"spec":${deep(900)}}`, 'application/merge-patch+json');
    expect(reply.status).toBe(200);
  });

  test('block-style YAML in an apply patch: 400, not 500', async () => {
    const levels = 1500;
    const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fx\nspec:\n${Array.from({ length: levels }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')} 1\n`;
    const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx?fieldManager=m`, yaml, 'application/apply-patch+yaml');
    expectStatus(reply, 400, 'BadRequest');
  });
});

describe('a path segment with invalid percent-encoding threw URIError (500)', () => {
  test.each([
    ['GET', `/api/v1/namespaces/${NS}/configmaps/%ff`, 404, 'NotFound'],
    ['GET', `/api/v1/namespaces/${NS}/events/%bc/eviction`, 404, 'NotFound'],
    ['DELETE', `/apis/batch/v1/namespaces/${NS}/cronjobs/%c3%28`, 404, 'NotFound'],
    ['GET', '/api/v1/namespaces/%9f/configmaps', 200, ''],
    ['GET', `/api/v1/namespaces/${NS}/configmaps/a%zz`, 404, 'NotFound'],
  ])('%s %s', async (method, path, code, reason) => {
    const reply = await raw(method, path);
    if (code === 200) expect(reply.status).toBe(200);
    else expectStatus(reply, code, reason);
  });

  test('PUT of an object whose name is invalid UTF-8 is a 4xx', async () => {
    const reply = await raw('PUT', `/api/v1/namespaces/${NS}/secrets/%30%d5%e3`, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }));
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(reply.body.kind).toBe('Status');
  });
});

describe('a body field named like an Object.prototype member crashed the type check (500)', () => {
  test.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('top-level and metadata field %s', async (field) => {
    const body = `{"${field}":{"prototype":{"x":1}},"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"proto-${field.toLowerCase().replace(/_/g, '')}","${field}":1}}`;
    const reply = await raw('POST', `/api/v1/namespaces/${NS}/configmaps`, body);
    expect(reply.status).toBe(201);
  });

  test.each([
    ['application/strategic-merge-patch+json', '{"metadata":{"constructor":{"a":1}},"data":{"constructor":"y"}}'],
    ['application/apply-patch+yaml', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fx","constructor":{"a":1}},"toString":1}'],
  ])('%s with a constructor key', async (contentType, body) => {
    const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx?fieldManager=m`, body, contentType);
    expect(reply.status).toBe(200);
  });
});

describe('server-side apply YAML that cannot become JSON threw from toJS (500)', () => {
  test('an alias bomb', async () => {
    let yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fx}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 9; i++) yaml += `x${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]\n`;
    const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx?fieldManager=m`, yaml, 'application/apply-patch+yaml');
    expectStatus(reply, 400, 'BadRequest');
  });

  test('an alias to an anchor that does not exist', async () => {
    const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx?fieldManager=m`, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fx}\ndata: *nope\n', 'application/apply-patch+yaml');
    expectStatus(reply, 400, 'BadRequest');
  });
});

test('JSON patch copies that double the document exhausted memory (upstream caps copy growth at 3 MiB: 422)', async () => {
  const ops = Array.from({ length: 200 }, (_, i) => ({ op: 'copy', from: '/metadata', path: `/metadata/annotations/c${i}` }));
  const started = Date.now();
  const reply = await raw('PATCH', `/api/v1/namespaces/${NS}/configmaps/fx`, JSON.stringify(ops), 'application/json-patch+json');
  expectStatus(reply, 422, 'Invalid');
  expect(JSON.stringify(reply.body.details)).toContain('Unable to complete the copy, the accumulated size increase of copy is');
  expect(Date.now() - started).toBeLessThan(10_000);
});

test('pods/proxy of a pod without an IP answered 503; upstream says 400 "address not allowed"', async () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'noip' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
  expect((await call(api.url, 'POST', `/api/v1/namespaces/${NS}/pods`, pod)).status).toBe(201);
  const reply = await raw('GET', `/api/v1/namespaces/${NS}/pods/noip/proxy`);
  expectStatus(reply, 400, 'BadRequest');
  expect(reply.body.message).toBe('address not allowed');
});

test('a HEAD watch streamed forever, so the next request on its kept-alive connection never got an answer', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string) => new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: api.port, method, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
  try {
    expect(await send('HEAD', `/api/v1/watch/namespaces/${NS}/pods/x`)).toBe(200);
    expect(await send('HEAD', `/api/v1/namespaces/${NS}/configmaps?watch=true`)).toBe(200);
    // One socket only: this reuses the connection the HEAD watches were answered on.
    expect(await send('GET', `/api/v1/namespaces/${NS}/configmaps/fx`)).toBe(200);
  } finally {
    agent.destroy();
  }
});

test('a resourceVersion beyond 64 bits waited and answered 504; upstream cannot parse it: 400', async () => {
  const huge = '99999999999999999999';
  expectStatus(await raw('GET', `/api/v1/namespaces/${NS}/configmaps?resourceVersion=${huge}`), 400, 'BadRequest');
  expectStatus(await raw('GET', `/api/v1/namespaces/${NS}/configmaps?watch=true&resourceVersion=${huge}`), 400, 'BadRequest');
  // The largest 64-bit value is still a resourceVersion (one this server has not reached).
  expect((await raw('GET', `/api/v1/namespaces/${NS}/configmaps?resourceVersion=18446744073709551615&resourceVersionMatch=Exact`)).status).not.toBe(400);
});
