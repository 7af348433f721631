// pods/proxy and services/proxy (upstream's ProxyREST): the request, with the path after
// `proxy`, is passed through over plain HTTP to the pod's IP (or one ready endpoint of the
// Service) and the backend's answer streamed back. The API server host reaches pod IPs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { badRequest, serviceUnavailable } from '../../apimachinery/errors.js';
import type { Registry } from '../generic/registry.js';

/** Headers that belong to this hop or carry the client's credentials to the API server. */
const HOP_HEADERS = new Set(['authorization', 'host', 'proxy-authorization', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

interface Target { host: string; port: number }

/** `name`, `name:port` or `scheme:name:port`, as upstream's net.SplitSchemeNamePort. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } {
  const parts = id.split(':');
  if (parts.length === 1) return { scheme: '', name: parts[0], port: '' };
  if (parts.length === 2) return { scheme: '', name: parts[0], port: parts[1] };
  if (parts.length === 3) return { scheme: parts[0], name: parts[1], port: parts[2] };
  throw badRequest(`invalid request ${id}`);
}

async function podTarget(registry: Registry, namespace: string, id: string): Promise<Target> {
  const { scheme, name, port } = splitSchemeNamePort(id);
  if (scheme === 'https') throw badRequest('https is not supported by pods/proxy here');
  const pod = (await registry.store('', 'pods').get(namespace, name)) as Pod;
  const ip = pod.status?.podIP;
  // Upstream's pod ResourceLocation: a pod without a (global unicast) IP is the client's mistake.
  if (!ip) throw badRequest('address not allowed');
  let n = port ? Number(port) : 80;
  if (port && !/^\d+$/.test(port)) {
    const named = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
    if (!named) throw badRequest(`pod ${name} has no port named ${port}`);
    n = named.containerPort;
  }
  return { host: ip, port: n };
}

async function serviceTarget(registry: Registry, namespace: string, id: string): Promise<Target> {
  const { scheme, name, port } = splitSchemeNamePort(id);
  if (scheme === 'https') throw badRequest('https is not supported by services/proxy here');
  const svc = (await registry.store('', 'services').get(namespace, name)) as Service;
  const ports = svc.spec?.ports ?? [];
  const svcPort = port ? ports.find((p) => p.name === port || String(p.port) === port) : ports[0];
  if (!svcPort && port) throw serviceUnavailable(`no service port ${JSON.stringify(port)} found for service ${JSON.stringify(name)}`);
  const eps = (await registry.store('', 'endpoints').get(namespace, name).catch(() => undefined)) as Endpoints | undefined;
  for (const subset of eps?.subsets ?? []) {
    const epPort = (subset.ports ?? []).find((p) => (svcPort?.name ?? '') === (p.name ?? '')) ?? (subset.ports?.length === 1 ? subset.ports[0] : undefined);
    const address = subset.addresses?.[Math.floor(Math.random() * subset.addresses.length)];
    if (epPort && address) return { host: address.ip, port: epPort.port };
  }
  throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(name)}`);
}

/** Serves one proxied request; `id` is the object name of the path (with its optional scheme and port). */
export async function serveProxy(registry: Registry, req: IncomingMessage, res: ServerResponse, resource: 'pods' | 'services', namespace: string, id: string, path: string, query: URLSearchParams): Promise<void> {
  const t = resource === 'pods' ? await podTarget(registry, namespace, id) : await serviceTarget(registry, namespace, id);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && !k.startsWith('impersonate-')) headers[k] = v;
  headers.host = `${t.host}:${t.port}`;
  const qs = query.toString();
  let answered = false;
  await new Promise<void>((resolve, reject) => {
    const out = httpRequest({ host: t.host, port: t.port, method: req.method, path: `/${path}${qs ? `?${qs}` : ''}`, headers, agent: false, timeout: 30_000 }, (backend) => {
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(backend.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) back[k] = v;
      res.writeHead(backend.statusCode ?? 502, back);
      answered = true;
      if (req.method === 'HEAD') {
        // Some servers (busybox httpd) send a body anyway; the client's parser then fails on it.
        res.end();
        backend.resume();
        out.destroy();
        return resolve();
      }
      backend.pipe(res);
      backend.on('end', resolve);
      backend.on('error', reject);
    });
    out.on('timeout', () => out.destroy(new Error('timed out')));
    out.on('error', (err) => {
      if (answered || res.headersSent) {
        if (!res.writableEnded) res.destroy();
        resolve();
      } else reject(serviceUnavailable(`error trying to reach ${resource === 'pods' ? 'pod' : 'service'}: ${err.message}`));
    });
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
}
