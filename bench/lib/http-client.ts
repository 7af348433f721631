// The load generator's HTTP side: node:http over a keep-alive agent (less client overhead than
// fetch, so the client is less of a limit on what is measured), a fixed-concurrency pool, and
// latency summaries.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  bytes: number;
  /** performance.now() when the response headers arrived: the server's acknowledgement. */
  headersAt: number;
  /** Only when asked for: decoding every body would put the client's JSON cost into the figures. */
  body?: string;
}

export class HttpTarget {
  private readonly agent: http.Agent;

  constructor(readonly name: string, readonly port: number, concurrency: number, readonly host = '127.0.0.1', private readonly extraHeaders: http.OutgoingHttpHeaders = {}) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  }

  request(method: string, path: string, opts: { body?: string; keepBody?: boolean } = {}): Promise<Reply> {
    const payload = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', ...this.extraHeaders };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, agent: this.agent, headers }, (res) => {
        const headersAt = performance.now();
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (opts.keepBody) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, headersAt, body: opts.keepBody ? Buffer.concat(chunks).toString('utf8') : undefined }));
        res.on('error', reject);
      });
      req.on('error', (err) => reject(new Error(`${this.name}: ${method} ${path}: ${err.message}`)));
      req.end(payload);
    });
  }

  /** Like request, but any status other than `want` is an error carrying the body. */
  async expect(want: number | number[], method: string, path: string, body?: string): Promise<Reply> {
    const r = await this.request(method, path, { body, keepBody: true });
    const ok = Array.isArray(want) ? want.includes(r.status) : r.status === want;
    if (!ok) throw new Error(`${this.name}: ${method} ${path}: HTTP ${r.status}, want ${want}: ${(r.body ?? '').slice(0, 500)}`);
    return r;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs task(0..n-1) with at most `concurrency` in flight; the first failure stops new starts and rejects. */
export async function runPool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  if (failed !== undefined) throw failed;
}

/** Times every call of `task` into `latencies` (ms) and returns the phase's wall-clock seconds. */
export async function timedPool(n: number, concurrency: number, latencies: Float64Array, task: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  await runPool(n, concurrency, async (i) => {
    const t0 = performance.now();
    await task(i);
    latencies[i] = performance.now() - t0;
  });
  return (performance.now() - started) / 1000;
}

export interface Summary {
  n: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(latencies: Float64Array, seconds: number, ops = latencies.length): Summary {
  const sorted = Float64Array.from(latencies).sort();
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const pct = (p: number): number => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN);
  return { n: ops, opsPerSec: seconds > 0 ? ops / seconds : NaN, p50Ms: pct(50), p99Ms: pct(99), maxMs: sorted.length ? sorted[sorted.length - 1]! : NaN };
}
