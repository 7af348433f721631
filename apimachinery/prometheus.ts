// Serving a prom-client registry in the Prometheus text format, and the plain-HTTP metrics
// listener of the components that have no API of their own (controller manager).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Writes the registry's current values; every scrape-time collect() runs now, not on a timer. */
export async function writeMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  const body = await registry.metrics();
  res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

/** "host:port" (host may be a bracketed IPv6 address); port 0 picks a free one. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) throw new Error(`want host:port, got "${value}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port out of range in "${value}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** A listener that answers GET /metrics (and /healthz) and 404 otherwise. */
export async function startMetricsServer(registry: Registry, bindAddress: string): Promise<{ server: Server; port: number }> {
  const { host, port } = parseHostPort(bindAddress);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'GET' && path === '/metrics') {
      writeMetrics(registry, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(err.message);
      });
      return;
    }
    const body = path === '/healthz' ? 'ok' : '404 page not found\n';
    res.writeHead(path === '/healthz' ? 200 : 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  return { server, port: (server.address() as AddressInfo).port };
}
