// A small REST client for the controllers: JSON over node:http(s), TLS and client-cert
// auth from a kubeconfig with embedded or file-referenced credentials. It stays on node's
// own http stack so that a watch is one long-lived response we can parse line by line.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface StatusBody {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: StatusBody,
  ) {
    super(status.message ?? `HTTP ${code}`);
    this.name = 'ApiError';
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isAlreadyExists = (e: unknown): boolean => e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
/** A create refused because the namespace is being deleted (upstream's NamespaceTerminatingCause). */
export function isNamespaceTerminating(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  const causes = (e.status.details as { causes?: { type?: string }[] } | undefined)?.causes ?? [];
  return causes.some((c) => c.type === 'NamespaceTerminating') || /because it is being terminated/.test(e.message);
}
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.code === 410;

interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

const REQUEST_TIMEOUT_MS = 60_000;

const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

function withQuery(path: string, query?: Record<string, string>): string {
  if (!query) return path;
  const qs = new URLSearchParams(query).toString();
  if (!qs) return path;
  return path + (path.includes('?') ? '&' : '?') + qs;
}

export class ApiClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly token?: string;
  /** PEM of the cluster CA, when known (the root CA publisher hands it out). */
  readonly caPem?: string;

  constructor(baseUrl: string, tls: TlsOptions & { token?: string } = {}) {
    this.base = new URL(baseUrl);
    this.token = tls.token;
    this.caPem = tls.ca?.toString('utf8');
    this.agent =
      this.base.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized ?? true })
        : new http.Agent({ keepAlive: true });
  }

  static fromKubeconfig(path: string): ApiClient {
    const doc = parse(readFileSync(path, 'utf8')) as any;
    const ctxName = doc['current-context'];
    const ctx = (doc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
    if (!ctx) throw new Error(`kubeconfig ${path}: no context`);
    const cluster = (doc.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
    const user = (doc.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
    if (!cluster?.server) throw new Error(`kubeconfig ${path}: no cluster server`);
    const dir = dirname(path);
    const load = (data?: string, file?: string): Buffer | undefined =>
      data ? Buffer.from(data, 'base64') : file ? readFileSync(resolve(dir, file)) : undefined;
    return new ApiClient(cluster.server, {
      ca: load(cluster['certificate-authority-data'], cluster['certificate-authority']),
      cert: load(user['client-certificate-data'], user['client-certificate']),
      key: load(user['client-key-data'], user['client-key']),
      rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
      token: user.token,
    });
  }

  private open(method: string, path: string, body: string | undefined, contentType: string | undefined, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return new Promise((resolvePromise, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, signal }, resolvePromise);
      req.on('error', reject);
      // A request that hangs would stall a worker forever; watches (with a signal) are long by design.
      if (!signal) req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no response in ${REQUEST_TIMEOUT_MS} ms`)));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.open(method, path, payload, contentType);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const code = res.statusCode ?? 0;
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (code < 200 || code >= 300) {
      throw new ApiError(code, parsed && typeof parsed === 'object' ? parsed : { message: text || `HTTP ${code}`, code });
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  list<T>(path: string, query?: Record<string, string>): Promise<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }> {
    return this.request('GET', withQuery(path, query));
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  update<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown, type: 'merge' | 'strategic' | 'json' | 'apply', query?: Record<string, string>): Promise<T> {
    return this.request<T>('PATCH', withQuery(path, query), body, PATCH_TYPES[type]);
  }

  async delete(path: string, options?: object): Promise<void> {
    await this.request('DELETE', path, options ? { kind: 'DeleteOptions', apiVersion: 'v1', ...options } : undefined);
  }

  /**
   * Streams a watch until the server closes it, the signal aborts, or an ERROR event
   * arrives (delivered to onEvent like the others; the caller decides whether to re-list).
   */
  async watch(path: string, query: Record<string, string>, onEvent: (type: string, obj: any) => void, signal: AbortSignal): Promise<void> {
    const res = await this.open('GET', withQuery(path, { ...query, watch: 'true' }), undefined, undefined, signal);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let status: StatusBody;
      try {
        status = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        status = { message: `HTTP ${code}`, code };
      }
      throw new ApiError(code, status);
    }
    let buf = '';
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line);
          onEvent(ev.type, ev.object);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      throw e;
    }
  }
}
