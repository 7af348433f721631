// The fuzzer: tens of thousands of generated and mutated requests (fast-check) against a live API
// server. Zero 5xx, no crash, no hang, bounded memory, and every rejection a meta/v1 Status with a
// sensible code. A fixed seed in CI replays the same requests; the long mode picks a random seed
// (printed; PODIUM_FUZZ_SEED replays one).
import { readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { call } from '../support/http.js';
import { sleep } from '../support/wait.js';
import { LONG, pick } from './mode.js';
import { printFigures } from './figures.js';
import { collectionPath, fixtureName, itemPath, KINDS, NS } from './fuzz-kinds.js';
import { requestArb, type FuzzRequest } from './fuzz-requests.js';
import { describe as describeRequest, FuzzClient, isTooLargeResourceVersion, judge, type Finding } from './fuzz-client.js';

// A few more than 10 000 (50 000) are generated: the HTTP client refuses to send a handful of them.
const REQUESTS = Number(process.env.PODIUM_FUZZ_REQUESTS ?? pick(10_200, 50_500));
const CONCURRENCY = 32;
const BATCH = 500;
const SEED = Number(process.env.PODIUM_FUZZ_SEED ?? (LONG ? Math.floor(Math.random() * 2 ** 31) : 20261127));
/**
 * Memory bounds. A leak or a runaway request (the JSON-patch copy bug reached 5 GB) breaks both;
 * V8 collecting late does not: the end reading is the lowest over a settle window, since a single
 * reading right after the load lands anywhere between the live set and the last peak.
 */
const RSS_GROWTH_LIMIT_MB = 150;
const RSS_PEAK_GROWTH_LIMIT_MB = pick(300, 400);
const SETTLE_MS = 10_000;
const TRACE = process.env.PODIUM_FUZZ_TRACE === '1';

let redis: RedisProcess;
let api: ApiServerProcess;

beforeAll(async () => {
  redis = await startRedis();
  api = await startApiServer(redis.url);
});
afterAll(async () => {
  await api?.stop();
  await redis?.stop();
});

/** The process's resident set in MB, or 0 once it has exited. */
function rssMB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The objects patches and updates aim at; fuzzed deletes remove them, so they are put back now and then. */
async function ensureFixtures(findings: Finding[]): Promise<void> {
  const ns = await call(api.url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  if (ns.status >= 500) findings.push({ problem: `fixture namespace: ${ns.status}`, request: 'POST namespace', status: ns.status, body: JSON.stringify(ns.body) });
  // Pods need the namespace's default service account, which no controller manager makes here.
  const sa = await call(api.url, 'POST', `/api/v1/namespaces/${NS}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
  if (sa.status >= 500) findings.push({ problem: `default service account: ${sa.status}`, request: 'POST serviceaccount', status: sa.status, body: JSON.stringify(sa.body) });
  await Promise.all(KINDS.map(async (k) => {
    const got = await call(api.url, 'GET', itemPath(k, fixtureName(k)));
    if (got.status === 200) return;
    const made = await call(api.url, 'POST', collectionPath(k), k.template(fixtureName(k)));
    if (made.status >= 500) findings.push({ problem: `fixture ${k.resource}: ${made.status}`, request: `POST ${collectionPath(k)}`, status: made.status, body: JSON.stringify(made.body) });
  }));
}

test(`fuzzing: ${REQUESTS} generated and mutated requests, no 5xx, no crash, bounded memory`, async () => {
  process.stderr.write(`[robustness] fuzz: seed=${SEED} (replay with PODIUM_FUZZ_SEED=${SEED})\n`);
  const findings: Finding[] = [];
  await ensureFixtures(findings);
  for (const k of KINDS) {
    const got = await call(api.url, 'GET', itemPath(k, fixtureName(k)));
    if (got.status !== 200) { const made = await call(api.url, 'POST', collectionPath(k), k.template(fixtureName(k))); throw new Error(`fixture ${k.resource}: ${made.status} ${JSON.stringify(made.body)}`); }
  }

  const rssStart = rssMB(api.pid);
  let rssPeak = rssStart;
  const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMB(api.pid)); }, 200);
  let refreshing = true;
  const refresher = (async () => {
    while (refreshing) {
      await sleep(2000);
      if (refreshing) await ensureFixtures(findings).catch(() => undefined);
    }
  })();

  const codes = new Map<number, number>();
  const families = new Map<string, number>();
  const client = new FuzzClient('127.0.0.1', api.port, CONCURRENCY);
  const started = Date.now();
  let sent = 0;
  let notSent = 0;
  let tooLargeRV = 0;
  const slowest: { ms: number; request: string }[] = [];
  try {
    for (let b = 0; b * BATCH < REQUESTS; b++) {
      // Batches keep memory small in the long mode; each has a seed of its own derived from SEED.
      const batch: FuzzRequest[] = fc.sample(requestArb, { seed: SEED + b, numRuns: Math.min(BATCH, REQUESTS - b * BATCH) });
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < batch.length) {
          const r = batch[next++];
          const t0 = Date.now();
          const o = await client.send(r);
          const ms = Date.now() - t0;
          if (ms > (slowest[slowest.length - 1]?.ms ?? 0) || slowest.length < 5) {
            slowest.push({ ms, request: describeRequest(r).slice(0, 300) });
            slowest.sort((a, b) => b.ms - a.ms).splice(5);
          }
          if (TRACE && ms > 2000) process.stderr.write(`[robustness] fuzz slow: ${ms} ms ${describeRequest(r).slice(0, 300)}\n`);
          if (o.status === -1) { notSent++; continue; }
          sent++;
          if (isTooLargeResourceVersion(o, r)) tooLargeRV++;
          codes.set(o.status, (codes.get(o.status) ?? 0) + 1);
          families.set(r.family, (families.get(r.family) ?? 0) + 1);
          let problem = judge(r, o);
          if (problem?.startsWith('hang')) {
            const t1 = Date.now();
            const again = await client.resend(r);
            problem += `; sent again on a new connection: ${again.status || again.error} in ${Date.now() - t1} ms`;
          }
          if (problem) findings.push({ problem, request: describeRequest(r), status: o.status, body: o.body.toString('utf8', 0, Math.min(o.body.length, 500)) });
        }
      }));
      if (!alive(api.pid)) {
        findings.push({ problem: 'the API server process exited', request: `batch ${b}`, status: 0, body: api.output().slice(-2000) });
        break;
      }
    }
  } finally {
    refreshing = false;
    await refresher;
    client.close();
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;

  const stillAlive = alive(api.pid);
  const ready = stillAlive ? await fetch(`${api.url}/readyz`).then((r) => r.status, () => 0) : 0;
  // Let in-flight work, timers and the garbage collector settle; keep the lowest reading.
  let rssEnd = Infinity;
  for (const end = Date.now() + SETTLE_MS; stillAlive && Date.now() < end; await sleep(500)) {
    const now = rssMB(api.pid);
    rssPeak = Math.max(rssPeak, now);
    rssEnd = Math.min(rssEnd, now);
  }
  if (!stillAlive) rssEnd = 0;

  const perCode = Object.fromEntries([...codes.entries()].sort(([a], [b]) => a - b).map(([c, n]) => [`code${c === 0 ? 'None' : c}`, n]));
  // 504 "Too large resource version" is upstream's answer to a future resourceVersion: counted apart.
  const fiveXX = [...codes.entries()].filter(([c]) => c >= 500).reduce((s, [, n]) => s + n, 0) - tooLargeRV;
  printFigures('fuzz', {
    seed: SEED, requests: sent, notSendable: notSent, ...perCode, fiveXX, tooLargeResourceVersion504: tooLargeRV, findings: findings.length,
    rssStartMB: Math.round(rssStart), rssPeakMB: Math.round(rssPeak), rssEndMB: Math.round(rssEnd), seconds: Math.round(seconds * 10) / 10,
    requestsPerSecond: Math.round(sent / seconds),
  });
  process.stderr.write(`[robustness] fuzz families: ${[...families.entries()].sort().map(([f, n]) => `${f}=${n}`).join(' ')}\n`);
  for (const s of slowest) process.stderr.write(`[robustness] fuzz slowest: ${s.ms} ms ${s.request}\n`);
  if (process.env.PODIUM_FUZZ_FINDINGS) writeFileSync(process.env.PODIUM_FUZZ_FINDINGS, findings.map((f) => JSON.stringify(f)).join('\n'));
  for (const f of findings.slice(0, 40)) process.stderr.write(`[robustness] fuzz finding: ${f.problem} (HTTP ${f.status}) ${f.request}\n    -> ${f.body}\n`);

  expect(stillAlive).toBe(true);
  expect(ready).toBe(200);
  expect(sent).toBeGreaterThanOrEqual(REQUESTS * 0.99);
  expect(fiveXX).toBe(0);
  expect(findings.map((f) => `${f.problem}: ${f.request.slice(0, 200)}`)).toEqual([]);
  expect(rssPeak).toBeLessThan(rssStart + RSS_PEAK_GROWTH_LIMIT_MB);
  expect(rssEnd).toBeLessThan(rssStart + RSS_GROWTH_LIMIT_MB);
}, pick(10 * 60_000, 60 * 60_000));
