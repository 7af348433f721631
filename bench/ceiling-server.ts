// The API benchmark's ceiling: the same paths and payloads as the API server, served by plain
// node:http from an in-memory Map, with no storage, validation, admission or framework. It
// runs as its own process (started by bench/api.ts), so it gets a core of its own as the API
// server does and faces the same client. It reports its port over IPC and exits when the
// bench goes away.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown> & { metadata?: Record<string, unknown> };

/** Stored objects are kept serialized: the best a server can do is write out bytes it already has. */
const configMaps = new Map<string, Map<string, string>>();
const namespaces = new Map<string, string>();
const watchers = new Map<string, Set<http.ServerResponse>>();
let revision = 1;

function send(res: http.ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  send(res, code, JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The fields the real server stamps on create, so stored objects have the same size. */
function stamp(obj: Json, namespace: string | undefined): string {
  const meta = (obj.metadata ??= {});
  if (namespace) meta.namespace = namespace;
  meta.uid = randomUUID();
  meta.resourceVersion = String(++revision);
  meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify(obj);
}

function itemsOf(ns: string): Map<string, string> {
  let m = configMaps.get(ns);
  if (!m) configMaps.set(ns, (m = new Map()));
  return m;
}

async function createConfigMap(req: http.IncomingMessage, res: http.ServerResponse, ns: string): Promise<void> {
  const obj = JSON.parse(await readBody(req)) as Json;
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || !name) return status(res, 422, 'Invalid', 'metadata.name: Required value');
  const items = itemsOf(ns);
  if (items.has(name)) return status(res, 409, 'AlreadyExists', `configmaps "${name}" already exists`);
  const json = stamp(obj, ns);
  items.set(name, json);
  send(res, 201, json);
  if (watchers.get(ns)?.size) notify(ns, `{"type":"ADDED","object":${json}}\n`);
}

const pending = new Map<string, string[]>();
let flushScheduled = false;

/**
 * Acknowledge first, then notify, as a store does: events go out in the check phase, after
 * this turn's responses (notifying from the same tick let about 90 % of events reach the
 * client before their acknowledgement, in a trial). The events of one loop turn leave as one
 * write per watcher rather than a syscall per event and watcher: the cheapest plain fan-out,
 * which is what a ceiling should show. (In a trial, 1000 events reached one watcher in about
 * 150 chunks from here and in 1000 from the API server, which writes each event alone.)
 */
function notify(ns: string, line: string): void {
  let lines = pending.get(ns);
  if (!lines) pending.set(ns, (lines = []));
  lines.push(line);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    for (const [namespace, batch] of pending) {
      const bytes = Buffer.from(batch.join(''));
      for (const w of watchers.get(namespace) ?? []) w.write(bytes);
    }
    pending.clear();
  });
}

function list(res: http.ServerResponse, ns: string): void {
  const items = [...itemsOf(ns).values()].join(',');
  send(res, 200, `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"${revision}"},"items":[${items}]}`);
}

/**
 * Streams later creates only: the bench opens its watches before creating anything in the
 * namespace, so there is never a backlog to replay from the resourceVersion.
 */
function watch(_req: http.IncomingMessage, res: http.ServerResponse, ns: string): void {
  let set = watchers.get(ns);
  if (!set) watchers.set(ns, (set = new Set()));
  set.add(res);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const own = set;
  res.on('close', () => own.delete(res));
}

async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (url.pathname === '/readyz' || url.pathname === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    return void res.end('ok');
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'namespaces') return status(res, 404, 'NotFound', 'the server could not find the requested resource');
  if (parts.length === 3 && req.method === 'POST') {
    const obj = JSON.parse(await readBody(req)) as Json;
    const name = obj.metadata?.name;
    if (typeof name !== 'string' || !name) return status(res, 422, 'Invalid', 'metadata.name: Required value');
    if (namespaces.has(name)) return status(res, 409, 'AlreadyExists', `namespaces "${name}" already exists`);
    const json = stamp(obj, undefined);
    namespaces.set(name, json);
    return send(res, 201, json);
  }
  const ns = parts[3];
  if (!ns || parts[4] !== 'configmaps' || parts.length > 6) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
  if (parts.length === 5) {
    if (req.method === 'POST') return createConfigMap(req, res, ns);
    if (req.method === 'GET') {
      const w = url.searchParams.get('watch');
      return w === '1' || w === 'true' ? watch(req, res, ns) : list(res, ns);
    }
  } else if (req.method === 'GET') {
    const json = itemsOf(ns).get(parts[5]!);
    return json ? send(res, 200, json) : status(res, 404, 'NotFound', `configmaps "${parts[5]}" not found`);
  }
  return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
}

const server = http.createServer((req, res) => {
  route(req, res).catch((err: Error) => (res.headersSent ? res.destroy() : status(res, 500, 'InternalError', err.message)));
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  if (process.send) process.send({ port });
  else process.stdout.write(`ceiling listening on http://127.0.0.1:${port}\n`);
});
// Started over IPC by the bench: when the bench goes away, so does the ceiling.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
