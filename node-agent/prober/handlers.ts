// The probe handlers (upstream pkg/probe/{exec,http,tcp,grpc}): each runs one check within the
// probe's timeout and says success or failure with the output upstream's Unhealthy events quote.
// An error (a named port the container does not declare) is a failure whose event reads
// "probe errored", as upstream's prober reports it.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';

export interface ProbeOutcome {
  result: 'success' | 'failure';
  output: string;
  /** The probe could not run at all (bad port, exec error): the event says "errored". */
  errored?: boolean;
}

export interface ProbeTarget {
  podIP: string;
  container: Container;
  /** Runs a command in the container; resolves with its exit code and combined output. */
  exec?(cmd: string[]): Promise<{ code: number; output: string }>;
}

/** Upstream's User-Agent for HTTP probes: kube-probe/<major>.<minor>. */
const USER_AGENT = 'kube-probe/1.32';
/** Upstream reads at most 10 KiB of a probe's output. */
const MAX_OUTPUT = 10 * 1024;

export async function runProbe(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  try {
    if (probe.exec) return await execProbe(probe.exec.command ?? [], target, timeoutMs);
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, target.container);
      return await httpProbe(g.scheme === 'HTTPS' ? 'https' : 'http', g.host || target.podIP, port, g.path ?? '/', g.httpHeaders ?? [], timeoutMs);
    }
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || target.podIP, resolvePort(probe.tcpSocket.port, target.container), timeoutMs);
    if (probe.grpc) return await grpcProbe(target.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs);
    return { result: 'failure', output: 'missing probe handler', errored: true };
  } catch (err) {
    return { result: 'failure', output: (err as Error).message, errored: true };
  }
}

/** A port by number, or by the name of one of the container's ports (upstream findPortByName). */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port: ${port} in ${container.name}`);
  return found.containerPort;
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)))]).finally(() => clearTimeout(timer));
}

async function execProbe(cmd: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  if (!target.exec) return { result: 'failure', output: 'the runtime cannot exec', errored: true };
  // Upstream (ExecProbeTimeout) fails the probe when the command outlives timeoutSeconds.
  const r = await withTimeout(target.exec(cmd), timeoutMs, () => undefined);
  if (!r) return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
  return { result: r.code === 0 ? 'success' : 'failure', output: r.output.slice(0, MAX_OUTPUT) };
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's dial error wording, which upstream's events carry. */
function dialError(host: string, port: number, err: NodeJS.ErrnoException): string {
  const addr = hostPort(host, port);
  if (err.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${addr}: connect: no route to host`;
  return `dial tcp ${addr}: ${err.message}`;
}

function httpProbe(scheme: 'http' | 'https', host: string, port: number, path: string, headers: { name: string; value: string }[], timeoutMs: number): Promise<ProbeOutcome> {
  const url = `${scheme}://${hostPort(host, port)}${path.startsWith('/') ? path : `/${path}`}`;
  const h: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*' };
  for (const { name, value } of headers) h[name] = value;
  return new Promise((resolve) => {
    const mod = scheme === 'https' ? https : http;
    // Upstream skips TLS verification for probes.
    const req = mod.request(url, { method: 'GET', headers: h, timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_OUTPUT) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8').slice(0, MAX_OUTPUT);
        // 2xx and 3xx pass (redirects are not followed here; upstream follows same-host ones).
        if (code >= 200 && code < 400) resolve({ result: 'success', output: body });
        else resolve({ result: 'failure', output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on('error', (err) => resolve({ result: 'failure', output: `Get ${JSON.stringify(url)}: ${err.message}` }));
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ result: 'failure', output: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ result: 'failure', output: `Get ${JSON.stringify(url)}: ${dialError(host, port, err)}` }));
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (o: ProbeOutcome) => {
      sock.destroy();
      resolve(o);
    };
    sock.setTimeout(timeoutMs, () => done({ result: 'failure', output: `dial tcp ${hostPort(host, port)}: i/o timeout` }));
    sock.once('connect', () => done({ result: 'success', output: '' }));
    sock.once('error', (err: NodeJS.ErrnoException) => done({ result: 'failure', output: dialError(host, port, err) }));
  });
}

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** grpc.health.v1.Health/Check over cleartext HTTP/2, hand-framed (one string field each way). */
function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const addr = hostPort(host, port);
  return new Promise((resolve) => {
    const session = http2.connect(`http://${addr}`);
    let settled = false;
    const done = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ result: 'failure', output: `timeout: health rpc did not complete within ${timeoutMs / 1000}s` }), timeoutMs);
    session.on('error', () => done({ result: 'failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeoutMs / 1000}s` }));
    const svc = Buffer.from(service, 'utf8');
    const msg = svc.length ? Buffer.concat([Buffer.from([0x0a, svc.length]), svc]) : Buffer.alloc(0);
    const frame = Buffer.alloc(5 + msg.length);
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    const req = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers', 'user-agent': USER_AGENT });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('response', (h) => (grpcStatus = h['grpc-status'] as string | undefined));
    req.on('trailers', (t) => (grpcStatus = (t['grpc-status'] as string | undefined) ?? grpcStatus));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) => done({ result: 'failure', output: err.message }));
    req.on('end', () => {
      if (grpcStatus && grpcStatus !== '0') return done({ result: 'failure', output: `rpc error: code = ${grpcStatus}` });
      const body = Buffer.concat(chunks).subarray(5);
      // HealthCheckResponse: field 1 (varint) is the serving status; absent means UNKNOWN (0).
      const status = body[0] === 0x08 ? body[1] : 0;
      if (status === 1) done({ result: 'success', output: '' });
      else done({ result: 'failure', output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status] ?? String(status))})` });
    });
    req.end(frame);
  });
}
