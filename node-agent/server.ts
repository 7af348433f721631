// The agent's own HTTPS endpoint (upstream's kubelet server on :10250): the API server proxies
// pods/log, exec, attach and portforward here. Only the API server may call it: a client
// certificate from the cluster CA for kube-apiserver-kubelet-client (or a system:masters member).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import type { ContainerRef, LogOptions, Runtime } from './runtime/types.js';
import { Duplex as DuplexStream, PassThrough } from 'node:stream';
import { serveRemoteCommand } from './streaming/remotecommand.js';
import { servePortForward } from './streaming/portforward.js';
import type { ResourceSummary } from './metrics-collector.js';
import { kubeletRegistry } from './kubelet-metrics.js';
import { writeMetrics } from '../apimachinery/prometheus.js';

const log = logger('agent-server');

export const API_SERVER_CLIENT = 'kube-apiserver-kubelet-client';

/** Two connected in-memory ends: what one writes, the other reads. */
function duplexPair(): [DuplexStream, DuplexStream] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return [DuplexStream.from({ readable: bToA, writable: aToB }), DuplexStream.from({ readable: aToB, writable: bToA })];
}

export interface AgentServerOptions {
  cert: Buffer;
  key: Buffer;
  /** The cluster CA, which signed the API server's client certificate. */
  clientCa: Buffer;
  bindAddress: string;
  port: number;
  /** The pod this agent runs under that name, if any. */
  pod(namespace: string, name: string): Pod | undefined;
  /** The runtime that runs it (each simulated node may have its own). */
  runtimeFor(pod: Pod): Runtime | undefined;
  /** The last resource usage sample, for /metrics/resource. */
  metrics?(): Promise<ResourceSummary | undefined>;
}

/** Whether the peer is the API server (or an administrator): anything else is refused. */
function callerAllowed(socket: TLSSocket): boolean {
  if (!socket.authorized) return false;
  const subject = socket.getPeerCertificate().subject;
  const groups = ([] as string[]).concat(subject?.O ?? []);
  return subject?.CN === API_SERVER_CLIENT || groups.includes('system:masters');
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, code: number, body: string): void {
  socket.end(`HTTP/1.1 ${code} ${code === 403 ? 'Forbidden' : code === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export class AgentServer {
  private server?: Server;

  constructor(private readonly o: AgentServerOptions) {}

  async start(): Promise<number> {
    const server = createServer({ cert: this.o.cert, key: this.o.key, ca: this.o.clientCa, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.request(req, res).catch((err: Error) => {
        log.v(1, 'request failed', { url: req.url, error: err.message });
        if (!res.headersSent) text(res, 500, err.message);
        else res.destroy();
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: Error) => {
        log.v(1, 'upgrade failed', { url: req.url, error: err.message });
        socket.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.bindAddress, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The pod, its runtime and the container a kubelet path names (/kind/ns/pod[/container]). */
  private resolve(parts: string[]): { pod: Pod; runtime: Runtime; ref: ContainerRef } | string {
    const [, namespace = '', name = '', container = ''] = parts;
    const pod = this.o.pod(decodeURIComponent(namespace), decodeURIComponent(name));
    const runtime = pod && this.o.runtimeFor(pod);
    if (!pod || !runtime) return `pod ${namespace}/${name} is not running on this node`;
    return { pod, runtime, ref: { podUid: pod.metadata?.uid ?? '', namespace: decodeURIComponent(namespace), podName: decodeURIComponent(name), container: decodeURIComponent(container) } };
  }

  private async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!callerAllowed(req.socket as TLSSocket)) return text(res, 403, 'Forbidden: only the API server may use this endpoint');
    const url = new URL(req.url ?? '/', 'https://agent');
    const parts = url.pathname.split('/').filter(Boolean);
    if (url.pathname === '/healthz') return text(res, 200, 'ok');
    // The kubelet's /metrics; reached through the API server's nodes/NODE/proxy/metrics.
    if (url.pathname === '/metrics' && req.method === 'GET') return writeMetrics(kubeletRegistry, res);
    if (url.pathname === '/metrics/resource' && req.method === 'GET') {
      const summary = await this.o.metrics?.();
      if (!summary) return text(res, 503, 'no resource usage sampled yet');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(JSON.stringify(summary));
    }
    if (req.method !== 'GET' || parts[0] !== 'containerLogs' || parts.length !== 4) return text(res, 404, 'not found');
    const target = this.resolve(parts);
    if (typeof target === 'string') return text(res, 404, target);
    if (!target.runtime.logs) return text(res, 400, `the ${target.runtime.name} runtime keeps no logs`);
    const q = url.searchParams;
    const int = (k: string): number | undefined => (q.has(k) ? Number(q.get(k)) : undefined);
    const opts: LogOptions = {
      follow: q.get('follow') === 'true',
      previous: q.get('previous') === 'true',
      timestamps: q.get('timestamps') === 'true',
      tailLines: int('tailLines'),
      sinceSeconds: int('sinceSeconds'),
    };
    const stream = await target.runtime.logs(target.ref, opts).catch((err: Error) => err);
    if (stream instanceof Error) return text(res, 400, stream.message);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    let remaining = int('limitBytes');
    stream.on('data', (chunk: Buffer) => {
      if (remaining === undefined) return void res.write(chunk);
      if (remaining <= 0) return;
      res.write(chunk.subarray(0, remaining));
      remaining -= chunk.length;
      if (remaining <= 0) stream.destroy();
    });
    stream.on('end', () => res.end());
    stream.on('close', () => res.end());
    stream.on('error', () => res.end());
    res.on('close', () => stream.destroy());
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!callerAllowed(socket as TLSSocket)) return refuseUpgrade(socket, 403, 'Forbidden: only the API server may use this endpoint');
    const url = new URL(req.url ?? '/', 'https://agent');
    const parts = url.pathname.split('/').filter(Boolean);
    const kind = parts[0];
    if (kind === 'portForward' && parts.length === 3) {
      const target = this.resolve(parts);
      if (typeof target === 'string') return refuseUpgrade(socket, 404, target);
      const { runtime, pod } = target;
      if (!runtime.portForward) return refuseUpgrade(socket, 400, `the ${runtime.name} runtime cannot forward ports`);
      return servePortForward(req, socket, head, async (port) => {
        const [ours, theirs] = duplexPair();
        runtime.portForward!(pod, port, theirs).catch((err: Error) => ours.destroy(err));
        return ours;
      });
    }
    if ((kind === 'exec' || kind === 'attach') && parts.length === 4) {
      const target = this.resolve(parts);
      if (typeof target === 'string') return refuseUpgrade(socket, 404, target);
      const { runtime, ref } = target;
      return serveRemoteCommand(req, socket, head, async (session, params) => {
        const io = { stdin: session.stdin, stdout: session.stdout, stderr: session.stderr, tty: session.tty };
        const run = kind === 'exec' ? runtime.exec?.(ref, params.command, io) : runtime.attach?.(ref, io);
        if (!run) return session.finish({ error: `the ${runtime.name} runtime cannot ${kind}` });
        try {
          session.finish({ exitCode: await run });
        } catch (err) {
          session.finish({ error: (err as Error).message });
        }
      });
    }
    return refuseUpgrade(socket, 404, 'not found');
  }
}
