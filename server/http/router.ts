// The top-level request router: health, version, discovery, then resource paths. Every
// failure leaves as a meta/v1 Status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from '../generic/registry.js';
import type { RedisStorage } from '../storage/redis-storage.js';
import type { Cacher } from '../storage/cacher.js';
import { badRequest, isStatusError, StatusError } from '../../apimachinery/errors.js';
import { parseResourcePath, type ResourceRequest } from './request-info.js';
import { ResourceHandler } from './resource-handler.js';
import { sendError, sendErrorOnSocket, sendJson } from './respond.js';
import { NODE_SUBRESOURCES, type NodeProxy } from './node-proxy.js';
import type { Duplex } from 'node:stream';
import { aggregatedContentType, aggregatedDiscovery, aggregatedVersion, apiGroup, apiGroupList, apiResourceList, apiVersions } from '../discovery.js';
import { versionInfo } from '../version.js';
import { logger } from '../../apimachinery/log.js';
import { createOpenApiHandler } from './openapi-handler.js';
import { admitRequest, type RequestSecurity } from './request-security.js';
import type { UserInfo } from '../auth/types.js';
import { ApiServerMetrics, isLongRunning, requestLabels } from '../metrics/apiserver.js';
import { writeMetrics } from '../../apimachinery/prometheus.js';
import { auditIdOf } from './audit-id.js';

const log = logger('http');

export interface RouterContext {
  registry: Registry;
  redis: RedisStorage;
  cacher: Cacher;
  security: RequestSecurity;
  nodes: NodeProxy;
  serverAddress(): string;
}

const notFoundPath = () => new StatusError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }] });

export function createRouter(ctx: RouterContext) {
  const resources = new ResourceHandler(ctx.registry, ctx.redis, ctx.security.services, ctx.nodes);
  const openapi = createOpenApiHandler(ctx.registry.definitions.filter((d) => !d.external));
  const metrics = new ApiServerMetrics(ctx.cacher);
  metrics.instrumentStorage(ctx.redis);

  function text(res: ServerResponse, code: number, body: string): void {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
    res.end(body);
  }

  async function health(res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const checks: [string, boolean][] = [['ping', true], ['log', true]];
    if (path !== '/livez') checks.push(['etcd', ctx.cacher.redisHealthy && (await ctx.redis.ping())]);
    for (const [name, good] of checks) metrics.recordHealthCheck(path.slice(1), name, good);
    const ok = checks.every(([, good]) => good);
    if (query.has('verbose')) {
      const lines = checks.map(([name, good]) => `[${good ? '+' : '-'}]${name} ${good ? 'ok' : 'failed: reason withheld'}`);
      return text(res, ok ? 200 : 500, `${lines.join('\n')}\n${path.slice(1)} check ${ok ? 'passed' : 'failed'}\n`);
    }
    return text(res, ok ? 200 : 500, ok ? 'ok' : `${path.slice(1)} check failed`);
  }

  interface Parsed { path: string; query: URLSearchParams; info: ResourceRequest | undefined }

  function parse(req: IncomingMessage): Parsed {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    return { path, query: url.searchParams, info: parseResourcePath(req.method ?? 'GET', path, url.searchParams) };
  }

  /** What the metrics call the request: a resource only when the server serves it, so odd paths add no series. */
  function labelsOf(req: IncomingMessage, p: Parsed) {
    const known = p.info && ctx.registry.find(p.info.group, p.info.version, p.info.resource) ? p.info : undefined;
    return { labels: requestLabels(req, known, p.query), longRunning: isLongRunning(known) };
  }

  async function route(req: IncomingMessage, res: ServerResponse, p: Parsed): Promise<void> {
    const user = await admitRequest(ctx.security, req, res, p.path, p.info);
    return serve(req, res, p.path, p.query, p.info, user);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, info: ReturnType<typeof parseResourcePath>, user: UserInfo): Promise<void> {
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return health(res, path, query);
    if (path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return text(res, 200, 'ok');
    if (path === '/version') return sendJson(res, 200, versionInfo());
    if ((path === '/metrics' || path === '/metrics/slis') && (req.method === 'GET' || req.method === 'HEAD')) return writeMetrics(path === '/metrics' ? metrics.registry : metrics.slis, res);
    if (path.startsWith('/openapi/') && openapi(req, res, path, query)) return;
    if (req.method === 'GET' && (path === '/api' || path === '/apis')) {
      const agg = aggregatedVersion(req.headers.accept);
      if (agg) return sendJson(res, 200, aggregatedDiscovery(ctx.registry, path === '/api', agg), aggregatedContentType(agg));
      return sendJson(res, 200, path === '/api' ? apiVersions(ctx.serverAddress()) : apiGroupList(ctx.registry));
    }
    const parts = path.split('/').filter(Boolean);
    if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
      const group = apiGroup(ctx.registry, parts[1]);
      if (!group) throw notFoundPath();
      return sendJson(res, 200, group);
    }
    if (req.method === 'GET' && ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3))) {
      const group = parts[0] === 'api' ? '' : parts[1];
      const version = parts[0] === 'api' ? parts[1] : parts[2];
      if (!ctx.registry.groupVersions().some((g) => g.group === group && g.versions.includes(version))) throw notFoundPath();
      return sendJson(res, 200, apiResourceList(ctx.registry, group, version));
    }
    if (!info) throw notFoundPath();
    if (!ctx.registry.find(info.group, info.version, info.resource)) throw notFoundPath();
    if (info.group === '' && info.resource === 'nodes' && info.subresource === 'proxy') return ctx.nodes.proxyToNode(req, res, info.name, info.proxyPath ?? '', query);
    return resources.handle(req, res, info, query, user);
  }

  /** exec, attach and portforward arrive as upgrades (WebSocket or SPDY); they go to the pod's node agent. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const p = parse(req);
    const { path, info, query } = p;
    req.headers['audit-id'] = auditIdOf(req);
    const audited = { statusCode: 101, once: (event: 'close', listener: () => void) => socket.once(event, listener) };
    const { labels } = labelsOf(req, p);
    const end = metrics.begin(labels, true);
    const started = Date.now();
    socket.once('close', () => {
      end(audited.statusCode);
      const fields = { auditID: req.headers['audit-id'], verb: labels.verb, method: req.method, url: req.url, code: audited.statusCode, ms: Date.now() - started };
      if (audited.statusCode >= 500) log.error('request failed', fields);
      else log.v(3, 'request', fields);
    });
    try {
      await admitRequest(ctx.security, req, audited, path, info);
      const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
      if (!info || info.group !== '' || info.resource !== 'pods' || !info.name || !NODE_SUBRESOURCES.has(info.subresource) || (info.subresource === 'log' && !websocket)) {
        throw badRequest(`${req.url} cannot be upgraded: only pods/exec, pods/attach and pods/portforward can (and pods/log over a WebSocket)`);
      }
      if (info.subresource === 'log') return await ctx.nodes.logWebSocket(req, socket, head, info.namespace, info.name, query);
      await ctx.nodes.upgrade(req, socket, head, info.namespace, info.name, info.subresource, query);
    } catch (err) {
      audited.statusCode = isStatusError(err) ? err.code : 500;
      sendErrorOnSocket(socket, err, req.headers['audit-id'] as string);
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    // upstream's WithAuditInit: the client's Audit-ID if it sent one, else a new one; the audit
    // log reads it from the request, the client gets it back as Audit-Id.
    const auditID = auditIdOf(req);
    req.headers['audit-id'] = auditID;
    res.setHeader('Audit-Id', auditID);
    const p = parse(req);
    const { labels, longRunning } = labelsOf(req, p);
    const end = metrics.begin(labels, longRunning);
    // 'close' also fires for a client that went away before the answer, or a watch that ended.
    res.once('close', () => {
      end(res.statusCode);
      const fields = { auditID, verb: labels.verb, method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started };
      if (res.statusCode >= 500) log.error('request failed', fields);
      else log.v(3, 'request', fields);
    });
    route(req, res, p).catch((err) => sendError(res, err));
  };
  return Object.assign(handler, { upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head) });
}
