// The node agent's API client: plain node:http(s) with keep-alive sockets and a cap on
// requests in flight. The agent writes far more than it reads (one status patch per pod
// start, leases for every simulated node), so it needs a connection pool it controls and
// no per-request setup; a kubeconfig or a plain base URL (tests over loopback HTTP) both work.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';

/** A minute: far beyond any answer a healthy API server gives the agent outside a watch. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiConnection {
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: Record<string, string | boolean | undefined> }[];
  users?: { name: string; user: Record<string, string | undefined> }[];
}

/** Reads the current context of a kubeconfig file (embedded data or paths relative to the file). */
export function connectionFromKubeconfig(path: string): ApiConnection {
  const doc = parseYaml(readFileSync(path, 'utf8')) as KubeconfigDoc;
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster ?? doc.clusters?.[0]?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? doc.users?.[0]?.user ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`${path}: no cluster server in the current context`);
  const base = dirname(path);
  const material = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof file === 'string') return readFileSync(resolve(base, file));
    return undefined;
  };
  return {
    server: cluster.server,
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? readFileSync(resolve(base, user.tokenFile), 'utf8').trim() : undefined),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export class ApiClient {
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly https: boolean;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly conn: ApiConnection,
    private readonly maxInFlight = 64,
  ) {
    this.url = new URL(conn.server);
    this.https = this.url.protocol === 'https:';
    const opts = { keepAlive: true, maxSockets: maxInFlight + 16 };
    this.agent = this.https
      ? // One secure context for every connection: building it (parsing the CA and key) was most
        // of the cost of each new TLS connection in the idle agent's profile.
        new HttpsAgent({ ...opts, secureContext: createSecureContext({ ca: conn.ca, cert: conn.cert, key: conn.key }), rejectUnauthorized: !conn.insecureSkipTlsVerify })
      : new HttpAgent(opts);
  }

  static fromBaseUrl(server: string): ApiClient {
    return new ApiClient({ server });
  }

  close(): void {
    this.agent.destroy();
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body, 'application/merge-patch+json');
  }
  strategicPatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body, 'application/strategic-merge-patch+json');
  }
  delete<T>(path: string, options?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** One request, queued behind `maxInFlight` others; rejects with ApiError on a non-2xx answer. */
  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    await this.acquire();
    try {
      const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body), contentType);
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw toApiError(status, text);
      return (text ? JSON.parse(text) : undefined) as T;
    } finally {
      this.release();
    }
  }

  /**
   * Streams watch events to `onEvent` until the server ends the stream, `signal` aborts, or an
   * error occurs; resolves when the stream ends (callers re-list or re-watch). Watches do not
   * count against `maxInFlight`: they are long-lived.
   */
  async watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const res = await this.send('GET', path, undefined, 'application/json', signal);
    if ((res.statusCode ?? 0) !== 200) throw toApiError(res.statusCode ?? 0, await readBody(res));
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    // Destroying the response alone does not end readline's iterator; closing it does.
    const abort = (): void => {
      lines.close();
      res.destroy();
    };
    res.once('close', () => lines.close());
    signal.addEventListener('abort', abort, { once: true });
    try {
      for await (const line of lines) {
        if (!line.trim()) continue;
        onEvent(JSON.parse(line) as WatchEvent<T>);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  private send(method: string, path: string, body: string | undefined, contentType: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'podium-agent/v1.32.0' };
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    if (this.conn.token) headers.Authorization = `Bearer ${this.conn.token}`;
    const req = (this.https ? httpsRequest : httpRequest)({
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      port: this.url.port,
      path: this.url.pathname.replace(/\/$/, '') + path,
      method,
      headers,
      agent: this.agent,
      signal,
    });
    // A request (not a watch) to an API server that stopped answering without closing the
    // connection (frozen, overloaded) must fail in time: a heartbeat or status write hung on it
    // forever would never be retried. Watches end through their signal.
    if (!signal) req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer from the API server within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    return new Promise((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
      req.end(body);
    });
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function toApiError(status: number, text: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    return new ApiError(status, s.reason ?? '', s.message ?? text);
  } catch {
    return new ApiError(status, '', text.slice(0, 300) || `HTTP ${status}`);
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.code === 404;
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.code === 409;
