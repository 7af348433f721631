// A closed-loop HTTP load generator: `concurrency` loops, each sending GETs back to back on a new
// connection per request (as a pod's wget or curl does, and as busybox httpd, which closes after
// every response, needs), for a fixed time. Runs as its own process, so the bench can start it
// inside a pod's network namespace with nsenter and measure from the pod.
//   node http-load.js URL SECONDS CONCURRENCY [HOST-HEADER]
// prints one JSON line: { requests, errors, seconds, rps, p50Ms, p99Ms }.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface LoadResult { requests: number; errors: number; seconds: number; rps: number; p50Ms: number; p99Ms: number }

function once(url: URL, host: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: host ? { Host: host } : {}, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export async function load(target: string, seconds: number, concurrency: number, host?: string): Promise<LoadResult> {
  const url = new URL(target);
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      if (await once(url, host)) latencies.push(performance.now() - t0);
      else errors++;
    }
  }));
  const took = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { requests: latencies.length, errors, seconds: took, rps: latencies.length / took, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const [target, seconds, concurrency, host] = process.argv.slice(2);
  load(target, Number(seconds), Number(concurrency), host || undefined).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
