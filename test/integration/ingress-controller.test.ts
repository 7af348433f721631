// The Ingress controller against a real API server, real informers and real backend HTTP
// servers on loopback: class bootstrap, routing by host and path, error codes, forwarded
// headers, status publishing, live rule changes, Upgrade passthrough and SNI certificates.
// EndpointSlice validation refuses loopback addresses, so the backends listen on the host's
// address on a Docker bridge network this test creates (and removes) for the purpose.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { Informer } from '../../controllers/framework/informer.js';
import { IngressController } from '../../node-agent/ingress/ingress-controller.js';
import { freePort, startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { until } from '../support/wait.js';

const NET = '/apis/networking.k8s.io/v1';
const ING = `${NET}/namespaces/default/ingresses`;
const STATUS_IP = '10.244.0.1';

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Backend {
  server: http.Server;
  port: number;
  last?: Seen;
}

async function startBackend(name: string, address: string): Promise<Backend> {
  const b: Backend = { server: http.createServer(), port: 0 };
  b.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      b.last = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': name, connection: 'x-drop-me', 'x-drop-me': 'hop' });
      res.end(`${name} ${req.method} ${req.url} ${b.last.body}`);
    });
  });
  // A minimal Upgrade handler: switch protocols, then echo everything back upper-cased.
  b.server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\nX-Backend: ${name}\r\n\r\n`);
    if (head.length) socket.write(head.toString().toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString().toUpperCase()));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => b.server.listen(0, address, r));
  b.port = (b.server.address() as net.AddressInfo).port;
  return b;
}

let redis: RedisProcess;
let api: ApiServerProcess;
let client: ApiClient;
let controller: IngressController;
let port: number;
let httpsPort: number;
let a: Backend;
let b: Backend;
let closedPort: number;
let certDir: string;
let backendIP: string;
const docker = new Docker();
const networkName = `podium-ingtest-${randomBytes(4).toString('hex')}`;
let network: Docker.Network | undefined;
const abort = new AbortController();

function get(host: string, path = '/', headers: Record<string, string> = {}, body?: string, method = body ? 'POST' : 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function service(name: string, targetPort: number | undefined, opts: { ready?: boolean; portName?: string } = {}): Promise<void> {
  const portName = opts.portName ?? 'http';
  const svc: Service = { metadata: { name }, spec: { ports: [{ name: portName, port: 80, protocol: 'TCP' }] } };
  await client.create('/api/v1/namespaces/default/services', svc);
  if (targetPort === undefined) return;
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abc`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [backendIP], conditions: { ready: opts.ready ?? true } }],
    ports: [{ name: portName, port: targetPort, protocol: 'TCP' }],
  };
  await client.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice);
}

const hostRule = (host: string, svc: string, port: { number?: number; name?: string }, path = '/') => ({
  host,
  http: { paths: [{ path, pathType: 'Prefix' as const, backend: { service: { name: svc, port } } }] },
});

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
  client = new ApiClient(api.url);
  network = await docker.createNetwork({ Name: networkName, Driver: 'bridge', CheckDuplicate: true });
  const info = (await network.inspect()) as { IPAM?: { Config?: { Gateway?: string }[] } };
  backendIP = info.IPAM?.Config?.[0]?.Gateway ?? '';
  expect(backendIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  [a, b] = await Promise.all([startBackend('backend-a', backendIP), startBackend('backend-b', backendIP)]);
  // Nothing listens on this port at the backend address: connections are refused.
  closedPort = await freePort();

  await service('svc-a', a.port);
  await service('svc-b', b.port, { portName: 'web' });
  await service('svc-unready', a.port, { ready: false });
  await service('svc-noslice', undefined);
  await service('svc-dead', closedPort);

  const state = {
    ingresses: new Informer<Ingress>(client, `${NET}/ingresses`),
    ingressClasses: new Informer<IngressClass>(client, `${NET}/ingressclasses`),
    services: new Informer<Service>(client, '/api/v1/services'),
    endpointSlices: new Informer<EndpointSlice>(client, '/apis/discovery.k8s.io/v1/endpointslices'),
    secrets: new Informer<Secret>(client, '/api/v1/secrets'),
  };
  await Promise.all(Object.values(state).map((i) => i.start(abort.signal)));
  controller = new IngressController(client, state, { port: 0, bindAddress: '127.0.0.1', httpsPort: 0, statusAddress: STATUS_IP });
  ({ port, httpsPort } = (await controller.start()) as { port: number; httpsPort: number });
});

afterAll(async () => {
  await controller?.stop();
  abort.abort();
  await Promise.all([a, b].map((x) => x && new Promise((r) => { x.server.close(r); x.server.closeAllConnections(); })));
  await api?.stop();
  await redis?.stop();
  await network?.remove().catch(() => undefined);
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

test('the IngressClass is created as the default class of our controller', async () => {
  const ic = await client.get<IngressClass>(`${NET}/ingressclasses/podium`);
  expect(ic.spec?.controller).toBe('podium.io/ingress-controller');
  expect(ic.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class']).toBe('true');
});

test('an unclassed Ingress is routed by host; an unknown host gets 404', async () => {
  await client.create(ING, {
    metadata: { name: 'web' },
    spec: { rules: [hostRule('a.example.com', 'svc-a', { number: 80 }), hostRule('b.example.com', 'svc-b', { name: 'web' })] },
  });
  const ra = await until('a.example.com routed', async () => {
    const r = await get('a.example.com', '/hello?x=1');
    return r.status === 200 && r;
  });
  expect(ra.body).toBe('backend-a GET /hello?x=1 ');
  expect(ra.headers['x-backend']).toBe('backend-a');
  // Hop-by-hop headers named in the backend's Connection header stay on its side.
  expect(ra.headers['x-drop-me']).toBeUndefined();
  const rb = await get('b.example.com:8080', '/');
  expect(rb.status).toBe(200);
  expect(rb.body).toBe('backend-b GET / ');
  const miss = await get('c.example.com', '/');
  expect(miss.status).toBe(404);
  expect(miss.body).toContain('default backend - 404');
});

test('request bodies stream to the backend and X-Forwarded-* headers reach it', async () => {
  const r = await get('a.example.com', '/submit', { 'x-forwarded-for': '192.0.2.7', connection: 'keep-alive, x-secret', 'x-secret': 'hop' }, 'payload-123');
  expect(r.status).toBe(200);
  expect(r.body).toBe('backend-a POST /submit payload-123');
  const h = a.last!.headers;
  expect(h.host).toBe('a.example.com');
  expect(h['x-forwarded-for']).toBe('192.0.2.7, 127.0.0.1');
  expect(h['x-forwarded-host']).toBe('a.example.com');
  expect(h['x-forwarded-proto']).toBe('http');
  expect(h['x-forwarded-port']).toBe(String(port));
  expect(h['x-real-ip']).toBe('127.0.0.1');
  expect(h['x-secret']).toBeUndefined();
});

test('status.loadBalancer.ingress carries the node address', async () => {
  const ing = await until('status published', async () => {
    const i = await client.get<Ingress>(`${ING}/web`);
    return i.status?.loadBalancer?.ingress?.[0]?.ip === STATUS_IP && i;
  });
  expect(ing.status?.loadBalancer?.ingress).toEqual([{ ip: STATUS_IP }]);
});

test('503 without ready endpoints or service, 502 when the endpoint refuses', async () => {
  await client.create(ING, {
    metadata: { name: 'broken' },
    spec: {
      ingressClassName: 'podium',
      rules: [
        hostRule('unready.example.com', 'svc-unready', { number: 80 }),
        hostRule('noslice.example.com', 'svc-noslice', { number: 80 }),
        hostRule('missing.example.com', 'svc-missing', { number: 80 }),
        hostRule('wrongport.example.com', 'svc-a', { number: 81 }),
        hostRule('dead.example.com', 'svc-dead', { name: 'http' }),
      ],
    },
  });
  await until('broken ingress loaded', async () => (await get('unready.example.com')).status !== 404);
  expect((await get('unready.example.com')).status).toBe(503);
  expect((await get('noslice.example.com')).status).toBe(503);
  expect((await get('missing.example.com')).status).toBe(503);
  expect((await get('wrongport.example.com')).status).toBe(503);
  expect((await get('dead.example.com')).status).toBe(502);
});

test('rule changes take effect within a couple of seconds', async () => {
  const cur = await client.get<Ingress>(`${ING}/web`);
  cur.spec!.rules = [hostRule('a.example.com', 'svc-b', { name: 'web' }), hostRule('a.example.com', 'svc-a', { number: 80 }, '/legacy')];
  const t0 = Date.now();
  await client.update(`${ING}/web`, cur);
  await until('a.example.com moved to backend-b', async () => (await get('a.example.com', '/x')).body.startsWith('backend-b'), 2_000);
  expect(Date.now() - t0).toBeLessThan(2_000);
  expect((await get('a.example.com', '/legacy/page')).body).toBe('backend-a GET /legacy/page ');
  expect((await get('b.example.com')).status).toBe(404);
});

test('an Ingress moved to another class stops being served and loses its status', async () => {
  const cur = await client.get<Ingress>(`${ING}/web`);
  expect(cur.status?.loadBalancer?.ingress?.[0]?.ip).toBe(STATUS_IP);
  cur.spec!.ingressClassName = 'someone-else';
  await client.update(`${ING}/web`, cur);
  await until('a.example.com unrouted', async () => (await get('a.example.com')).status === 404, 2_000);
  await until('status cleared', async () => {
    const i = await client.get<Ingress>(`${ING}/web`);
    return (i.status?.loadBalancer?.ingress ?? []).length === 0;
  });
});

test('an Upgrade request is passed through and the connection spliced', async () => {
  await client.create(ING, { metadata: { name: 'ws' }, spec: { rules: [hostRule('ws.example.com', 'svc-a', { number: 80 })] } });
  await until('ws.example.com routed', async () => (await get('ws.example.com')).status === 200);
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  sock.write('GET /chat HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  await until('101 from backend', async () => got.includes('\r\n\r\n') && got);
  expect(got).toMatch(/^HTTP\/1\.1 101/);
  expect(got).toContain('X-Backend: backend-a');
  sock.write('ping');
  await until('echo through the tunnel', async () => got.endsWith('PING'), 5_000);
  const closed = new Promise((r) => sock.on('close', r));
  sock.end();
  // Ending our side ends the tunnel: the proxy closes the connection.
  await closed;
});

test('HTTPS picks the certificate from the Ingress TLS secret by SNI', async () => {
  certDir = mkdtempSync(join(tmpdir(), 'podium-ingress-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=secure.example.com', '-addext', 'subjectAltName=DNS:secure.example.com', '-keyout', join(certDir, 'tls.key'), '-out', join(certDir, 'tls.crt')], { stdio: 'ignore' });
  const crt = readFileSync(join(certDir, 'tls.crt'));
  const key = readFileSync(join(certDir, 'tls.key'));
  await client.create('/api/v1/namespaces/default/secrets', {
    metadata: { name: 'secure-tls' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': crt.toString('base64'), 'tls.key': key.toString('base64') },
  });
  await client.create(ING, {
    metadata: { name: 'secure' },
    spec: { tls: [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }], rules: [hostRule('secure.example.com', 'svc-a', { number: 80 })] },
  });
  const fetchTls = (servername: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: httpsPort, path: '/s', servername, ca: crt, headers: { host: servername }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const r = await until('TLS served', async () => fetchTls('secure.example.com'));
  expect(r.status).toBe(200);
  expect(r.body).toBe('backend-a GET /s ');
  expect(a.last!.headers['x-forwarded-proto']).toBe('https');
  // No certificate for a name we do not serve: the handshake fails.
  await expect(fetchTls('other.example.com')).rejects.toThrow();
});

test('a malformed request gets 400 and the connection is closed', async () => {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  const closed = new Promise((r) => sock.on('close', r));
  sock.write('NOT AN HTTP REQUEST\r\n\r\n');
  await closed;
  expect(got).toMatch(/^HTTP\/1\.1 400/);
});
