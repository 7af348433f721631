// The data plane of the Ingress controller: an HTTP (and optionally HTTPS) reverse proxy that
// matches each request against the route table and forwards it straight to a ready endpoint
// of the backend Service (as ingress-nginx does, bypassing the ClusterIP).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Secret, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { logger } from '../../apimachinery/log.js';
import type { ObjectStore } from '../network/types.js';
import { matchRoute, tlsSecretFor, type RouteTable, type ServiceBackendTarget } from './routing.js';

const log = logger('ingress-proxy');

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

// RFC 7230 6.1 hop-by-hop headers; they describe one connection and must not be forwarded.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface ProxyStores {
  services: ObjectStore<Service>;
  endpointSlices: ObjectStore<EndpointSlice>;
  secrets: ObjectStore<Secret>;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export type Resolution = { ok: true; endpoints: Endpoint[] } | { ok: false; reason: string };

/**
 * The ready endpoints behind a Service backend. The service port is found by number or name;
 * the slice port carrying the same name (upstream pairs them by name) gives the target port.
 */
export function resolveBackend(stores: Pick<ProxyStores, 'services' | 'endpointSlices'>, target: ServiceBackendTarget): Resolution {
  const svc = stores.services.get(`${target.namespace}/${target.service.name}`);
  if (!svc) return { ok: false, reason: `service ${target.namespace}/${target.service.name} not found` };
  if (svc.spec?.type === 'ExternalName') return { ok: false, reason: 'ExternalName services are not supported as ingress backends' };
  const want = target.service.port;
  const sp: ServicePort | undefined = (svc.spec?.ports ?? []).find((p) => (want.name ? p.name === want.name : p.port === want.number));
  if (!sp) return { ok: false, reason: `service ${target.namespace}/${target.service.name} has no port ${want.name ?? want.number}` };
  const portName = sp.name ?? '';
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const slice of stores.endpointSlices.list(target.namespace)) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== target.service.name) continue;
    if (slice.addressType === 'FQDN') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined || port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      // Upstream reads an unset ready condition as ready.
      if (ep.conditions?.ready === false) continue;
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const key = `${ip}:${port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      endpoints.push({ ip, port });
    }
  }
  if (endpoints.length === 0) return { ok: false, reason: `service ${target.namespace}/${target.service.name} has no ready endpoints` };
  return { ok: true, endpoints };
}

/** Headers listed in Connection are hop-by-hop too. */
function connectionTokens(headers: http.IncomingHttpHeaders): Set<string> {
  const c = headers.connection;
  const tokens = new Set<string>();
  for (const t of (Array.isArray(c) ? c.join(',') : (c ?? '')).split(',')) if (t.trim()) tokens.add(t.trim().toLowerCase());
  return tokens;
}

function forwardable(headers: http.IncomingHttpHeaders, keep: Set<string> = new Set()): http.OutgoingHttpHeaders {
  const drop = connectionTokens(headers);
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (!keep.has(k) && (HOP_BY_HOP.has(k) || drop.has(k))) continue;
    out[k] = v;
  }
  return out;
}

function clientIP(req: http.IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function addForwardedHeaders(out: http.OutgoingHttpHeaders, req: http.IncomingMessage, proto: 'http' | 'https'): void {
  const ip = clientIP(req);
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${ip}` : ip;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-forwarded-proto'] = proto;
  out['x-forwarded-port'] = String(req.socket.localPort ?? '');
  out['x-real-ip'] = ip;
}

function plain(res: http.ServerResponse, code: number, body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function rawReply(socket: net.Socket, code: number, text: string): void {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

export interface IngressProxyOptions {
  port: number;
  bindAddress?: string;
  /** When set, an HTTPS listener picks its certificate by SNI from the Ingresses' spec.tls secrets. */
  httpsPort?: number;
}

export class IngressProxy {
  private table: RouteTable = { exact: new Map(), wildcard: new Map(), ingresses: [] };
  private http?: http.Server;
  private https?: https.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly contexts = new Map<string, { rv: string; ctx: tls.SecureContext }>();
  /** Upgraded connections: the HTTP servers no longer track them, so stop() ends them itself. */
  private readonly tunnels = new Set<net.Socket>();

  constructor(
    private readonly stores: ProxyStores,
    private readonly options: IngressProxyOptions,
  ) {}

  setRoutes(table: RouteTable): void {
    this.table = table;
  }

  async start(): Promise<{ port: number; httpsPort?: number }> {
    const host = this.options.bindAddress ?? '0.0.0.0';
    this.http = http.createServer((req, res) => this.handle(req, res, 'http'));
    this.http.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as net.Socket, head));
    this.http.on('clientError', (_e, socket: net.Socket) => {
      // A malformed request gets a 400 like any HTTP server would give, then the connection goes.
      if (socket.writable && !socket.writableEnded) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    const port = await listen(this.http, this.options.port, host);
    let httpsPort: number | undefined;
    if (this.options.httpsPort !== undefined) {
      // With no certificate for a name the handshake fails: there is no built-in fallback cert.
      this.https = https.createServer({ SNICallback: (name, cb) => cb(null, this.secureContext(name)) }, (req, res) => this.handle(req, res, 'https'));
      this.https.on('upgrade', (req, socket, head) => this.handleUpgrade(req, socket as net.Socket, head));
      this.https.on('tlsClientError', () => {});
      httpsPort = await listen(this.https, this.options.httpsPort, host);
    }
    log.v(1, 'ingress proxy listening', { address: host, port, httpsPort });
    return { port, httpsPort };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    for (const s of this.tunnels) s.destroy();
    await Promise.all(
      [this.http, this.https].map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s) return resolve();
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.http = undefined;
    this.https = undefined;
  }

  private secureContext(serverName: string): tls.SecureContext | undefined {
    const ref = tlsSecretFor(this.table, serverName);
    if (!ref) return undefined;
    const key = `${ref.namespace}/${ref.secretName}`;
    const secret = this.stores.secrets.get(key);
    if (!secret || secret.type !== 'kubernetes.io/tls' || !secret.data?.['tls.crt'] || !secret.data?.['tls.key']) return undefined;
    const rv = secret.metadata?.resourceVersion ?? '';
    const cached = this.contexts.get(key);
    if (cached && cached.rv === rv) return cached.ctx;
    try {
      const ctx = tls.createSecureContext({ cert: Buffer.from(secret.data['tls.crt'], 'base64'), key: Buffer.from(secret.data['tls.key'], 'base64') });
      this.contexts.set(key, { rv, ctx });
      return ctx;
    } catch (e) {
      log.warn('unusable TLS secret', { secret: key, error: (e as Error).message });
      return undefined;
    }
  }

  private route(req: http.IncomingMessage): { target?: ServiceBackendTarget; resolution?: Resolution } {
    const target = matchRoute(this.table, req.headers.host, req.url ?? '/');
    if (!target) return {};
    return { target, resolution: resolveBackend(this.stores, target) };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, proto: 'http' | 'https'): void {
    const { target, resolution } = this.route(req);
    if (!target || !resolution) return plain(res, 404, 'default backend - 404\n');
    if (!resolution.ok) {
      log.v(1, 'no backend', { host: req.headers.host, path: req.url, reason: resolution.reason });
      return plain(res, 503, 'service unavailable\n');
    }
    const ep = pick(resolution.endpoints);
    const headers = forwardable(req.headers);
    addForwardedHeaders(headers, req, proto);
    const upstream = http.request({ host: ep.ip, port: ep.port, method: req.method, path: req.url, headers, agent: this.agent });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, forwardable(up.headers));
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (e) => {
      log.v(1, 'upstream failed', { endpoint: `${ep.ip}:${ep.port}`, error: e.message });
      plain(res, 502, 'bad gateway\n');
    });
    // A client that goes away mid-request should not keep the upstream request open.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  /** Upgrade (e.g. WebSocket): forward the handshake as-is, then splice the two sockets. */
  private handleUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => {});
    this.tunnels.add(socket);
    socket.on('close', () => this.tunnels.delete(socket));
    const { target, resolution } = this.route(req);
    if (!target || !resolution) return rawReply(socket, 404, 'default backend - 404');
    if (!resolution.ok) return rawReply(socket, 503, 'service unavailable');
    const ep = pick(resolution.endpoints);
    const headers = forwardable(req.headers, new Set(['connection', 'upgrade']));
    addForwardedHeaders(headers, req, socket instanceof tls.TLSSocket ? 'https' : 'http');
    const up = net.connect(ep.port, ep.ip);
    up.on('error', () => {
      if (!socket.writableEnded && up.bytesRead === 0) rawReply(socket, 502, 'bad gateway');
      else socket.destroy();
    });
    up.on('connect', () => {
      let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(headers)) for (const one of Array.isArray(v) ? v : [v]) text += `${k}: ${one}\r\n`;
      up.write(text + '\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    // HTTP servers allow half-open sockets; a tunnel whose client has finished sending is done,
    // so it closes rather than waiting on a backend that may never hang up.
    socket.on('end', () => {
      up.end();
      socket.end();
    });
    socket.on('close', () => up.destroy());
    up.on('close', () => socket.destroy());
  }
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
