// Sends the fuzzer's requests (keep-alive HTTP, or a raw socket for malformed HTTP) and judges the
// answers: never 5xx, never a hang or a reset, and every JSON error a proper meta/v1 Status.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import type { FuzzRequest, LazyBody } from './fuzz-requests.js';

export interface Outcome {
  /** The HTTP status, or 0 when no answer came (the connection closed or reset first). */
  status: number;
  contentType: string;
  body: Buffer;
  error?: string;
  /** Events of a watch that were read before hanging up. */
  events?: unknown[];
}

const MAX_KEPT = 8 * 1024 * 1024;
export const REQUEST_TIMEOUT_MS = 20_000;
const WATCH_READ_MS = 250;

function lazyBytes(b: LazyBody): Buffer {
  return Buffer.from(b.repeat.repeat(Math.ceil(b.bytes / b.repeat.length)).slice(0, b.bytes));
}

export class FuzzClient {
  private readonly agent: Agent;

  constructor(private readonly host: string, private readonly port: number, concurrency: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  close(): void {
    this.agent.destroy();
  }

  send(r: FuzzRequest): Promise<Outcome> {
    return r.raw ? this.sendRaw(r.raw.bytes, r.raw.close) : this.sendHttp(r);
  }

  /** The same request on a connection of its own: tells a stuck connection from a stuck handler. */
  async resend(r: FuzzRequest): Promise<Outcome> {
    return r.raw ? this.sendRaw(r.raw.bytes, r.raw.close) : this.sendHttp(r, false);
  }

  private sendHttp(r: FuzzRequest, pooled = true): Promise<Outcome> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      const lazy = r.body && !Buffer.isBuffer(r.body) ? r.body : undefined;
      const body = lazy ? lazyBytes(lazy) : (r.body as Buffer | undefined);
      const headers: Record<string, string | number> = { ...r.headers };
      if (body && !lazy?.chunked) headers['content-length'] = body.length;
      let req: ReturnType<typeof request>;
      try {
        // Huge bodies get a connection of their own: the server may answer 413 and stop reading,
        // and an upload stuck half-way must not hold one of the pool's sockets.
        req = request({ host: this.host, port: this.port, method: r.method, path: r.path, headers, agent: lazy || !pooled ? false : this.agent });
      } catch (e) {
        // The client library refused to send it (an invalid header or path): nothing reached the server.
        resolve({ status: -1, contentType: '', body: Buffer.alloc(0), error: `not sent: ${(e as Error).message}` });
        return;
      }
      const timer = setTimeout(() => { req.destroy(new Error('timeout')); finish({ status: 0, contentType: '', body: Buffer.alloc(0), error: 'hang: no complete answer in time' }); }, REQUEST_TIMEOUT_MS);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const contentType = String(res.headers['content-type'] ?? '');
        const status = res.statusCode ?? 0;
        if ((r.watch || opensWatch(r)) && status === 200) {
          setTimeout(() => {
            const text = Buffer.concat(chunks).toString('utf8');
            const events = text.split('\n').filter((l) => l.trim()).flatMap((l) => { try { return [JSON.parse(l) as unknown]; } catch { return []; } });
            req.destroy();
            finish({ status, contentType, body: Buffer.alloc(0), events });
          }, WATCH_READ_MS);
        }
        res.on('data', (c: Buffer) => { if (kept < MAX_KEPT) { chunks.push(c); kept += c.length; } });
        res.on('end', () => {
          // Answered before the whole body went out (413, or an early error): drop the rest of the upload.
          if (!req.writableFinished) req.destroy();
          finish({ status, contentType, body: Buffer.concat(chunks) });
        });
        res.on('error', (e) => finish({ status, contentType, body: Buffer.concat(chunks), error: r.watch ? undefined : `response: ${e.message}` }));
      });
      req.on('error', (e) => finish({ status: 0, contentType: '', body: Buffer.alloc(0), error: `request: ${e.message}` }));
      if (body && lazy?.chunked) {
        // Streamed without a length, in pieces, as a client uploading a big object would.
        const piece = 256 * 1024;
        let at = 0;
        const pump = () => {
          while (at < body.length && !req.destroyed) {
            const ok = req.write(body.subarray(at, at + piece));
            at += piece;
            if (!ok) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      } else req.end(body);
    });
  }

  private sendRaw(bytes: Buffer, close: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let done = false;
      const sock = connect(this.port, this.host);
      const finish = (error?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        const data = Buffer.concat(chunks);
        const head = data.toString('latin1', 0, Math.min(data.length, 4096));
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
        const split = data.indexOf('\r\n\r\n');
        const ct = /\r\ncontent-type: *([^\r\n]*)/i.exec(head)?.[1] ?? '';
        resolve({ status: m ? Number(m[1]) : 0, contentType: ct, body: split >= 0 ? data.subarray(split + 4) : Buffer.alloc(0), error });
      };
      const timer = setTimeout(() => finish('hang: raw request got neither an answer nor a close'), REQUEST_TIMEOUT_MS);
      let idle: NodeJS.Timeout | undefined;
      sock.on('connect', () => {
        sock.write(bytes);
        if (close) sock.end();
      });
      sock.on('data', (c) => {
        chunks.push(c);
        // A kept-alive connection never closes by itself: take what arrived shortly after the head.
        clearTimeout(idle);
        idle = setTimeout(() => finish(), 150);
      });
      sock.on('end', () => finish());
      sock.on('close', () => finish());
      sock.on('error', () => finish());
    });
  }
}

/** HTTP codes a rejection may carry; anything else (5xx above all) is a finding. */
export const EXPECTED_ERROR_CODES = new Set([400, 401, 403, 404, 405, 406, 409, 410, 413, 415, 422, 429, 431]);

export interface Finding { problem: string; request: string; status: number; body: string }

export function describe(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? r.body.toString('latin1') : `<${r.body.bytes} bytes of ${JSON.stringify(r.body.repeat)}${r.body.chunked ? ', chunked' : ''}>`;
  const head = r.raw ? r.raw.bytes.toString('latin1') : `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${body}`;
  return `[${r.family}] ${head.length > 400 ? `${head.slice(0, 400)}…(${head.length} chars)` : head}`;
}

function isStatusObject(v: unknown, code: number): string | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'error body is not a JSON object';
  const s = v as Record<string, unknown>;
  if (s.kind !== 'Status') return `error body kind is ${JSON.stringify(s.kind)}, not Status`;
  if (s.apiVersion !== 'v1') return `Status apiVersion is ${JSON.stringify(s.apiVersion)}`;
  if (s.status !== 'Failure') return `Status status is ${JSON.stringify(s.status)}`;
  if (s.code !== code) return `Status code ${JSON.stringify(s.code)} differs from HTTP ${code}`;
  if (typeof s.reason !== 'string' || !s.reason) return 'Status has no reason';
  if (typeof s.message !== 'string') return 'Status has no message';
  return undefined;
}

/**
 * A list or watch at a resourceVersion the server has not reached yet waits a few seconds for it and
 * then answers 504 `Timeout: Too large resource version`, as upstream does (clients retry on it).
 * That is the specified answer to a bogus future resourceVersion, not a server failure.
 */
export function isTooLargeResourceVersion(o: Outcome, r?: FuzzRequest): boolean {
  if (o.status !== 504) return false;
  // A HEAD answer has no body to say so; the request's resourceVersion does.
  if (r?.method === 'HEAD') return /[?&]resourceVersion=\d/.test(r.path);
  return o.body.toString('utf8').includes('Too large resource version');
}

/** A GET that opens a watch (a /watch/ path or watch=true): it streams until hung up on. */
export function opensWatch(r: FuzzRequest): boolean {
  if (r.method !== 'GET') return false;
  const [path, query = ''] = r.path.split('?');
  return /^\/apis?\/(.+\/)?watch\//.test(path) || /(^|&)watch=(true|1)(&|$)/.test(query);
}

/** What is wrong with an answer, or undefined when it is fine. */
export function judge(r: FuzzRequest, o: Outcome): string | undefined {
  if (o.status === -1) return undefined;
  if (o.error?.startsWith('hang')) return o.error;
  if (o.status >= 500 && !isTooLargeResourceVersion(o, r)) return `${o.status} answer`;
  if (o.status === 0) {
    // Truncated bodies and malformed HTTP may end with the connection closed; a huge body
    // rejected early may see its upload reset. Anything else must get an answer.
    if (r.raw || (r.body && !Buffer.isBuffer(r.body))) return undefined;
    return `no answer: ${o.error ?? 'connection closed'}`;
  }
  if (o.status < 200 || (o.status >= 300 && o.status < 400)) return `unexpected ${o.status}`;
  if (o.status >= 400) {
    if (!EXPECTED_ERROR_CODES.has(o.status) && !isTooLargeResourceVersion(o, r)) return `unexpected error code ${o.status}`;
    if (r.method === 'HEAD') return undefined;
    const json = o.contentType.startsWith('application/json');
    // Node's HTTP parser answers malformed HTTP itself (bare 400/431) before any handler runs, and
    // the OpenAPI endpoints answer an unknown document with a plain 404, as upstream's do.
    // An untyped 400/431 comes from that parser too (a request line or headers over its 16 KiB limit).
    if (!json) return r.raw || r.path.startsWith('/openapi/') || (!o.contentType && (o.status === 400 || o.status === 431)) ? undefined : `error answer is ${o.contentType || 'untyped'}, not a JSON Status`;
    let parsed: unknown;
    try { parsed = JSON.parse(o.body.toString('utf8')); } catch { return 'error body is not valid JSON'; }
    return isStatusObject(parsed, o.status);
  }
  for (const e of o.events ?? []) {
    const ev = e as { type?: string; object?: { code?: number } };
    if (ev.type === 'ERROR') {
      const code = ev.object?.code ?? 0;
      const bad = isStatusObject(ev.object, code);
      if (bad) return `watch ERROR event: ${bad}`;
      if (code >= 500) return `watch ERROR event with code ${code}`;
    }
  }
  return undefined;
}
