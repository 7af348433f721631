// The OpenAPI and apply bench: how fast the real API server serves /openapi/v3/apis/apps/v1 cold (the first
// request builds the document) and warm (served from cached bytes), and what the documents cost
// in memory: the server's RSS after fetching every document minus before, and the heap and
// buffers the same documents take when built in this process, measured across forced GCs; and the
// cost of a server-side apply of a Deployment next to a plain update.
//
// Starts a throwaway redis-server and `podium apiserver` (plain HTTP), prints figures with
// PASS/MISS against the targets, and exits non-zero only when the bench itself failed.
import http from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { measureApplyVsUpdate } from './lib/apply-timing.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, rssMb, startRedis, waitUntil, wasInterrupted } from './lib/processes.js';
import { say, verdict } from './lib/format.js';

const TARGETS = { warmP50Ms: 5, warmP99Ms: 5, documentsMb: 50, applyOverUpdate: 2 };
const GV = 'apis/apps/v1';
const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
// Asked for by the bench (no TLS flags), so not a problem to report.
const EXPECTED_WARNING = /serving plain HTTP/;
const USAGE = 'Usage: node dist/bench/openapi.js [--requests 2000]';

const mb = (bytes: number): number => bytes / (1024 * 1024);

interface Fetched { status: number; bytes: number; ms: number; body: Buffer; headers: http.IncomingHttpHeaders }

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One GET over the keep-alive connection, timed from sending to the last body byte. */
function get(port: number, path: string, accept = 'application/json', keepBody = true): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { accept } }, (res) => {
      // Warm requests only count bytes, so the client's copying stays out of the figures.
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; if (keepBody) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - started, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function must(port: number, path: string, accept?: string, keepBody = true): Promise<Fetched> {
  const r = await get(port, path, accept, keepBody);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.toString('utf8', 0, 300)}`);
  return r;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function readyz(port: number): Promise<boolean> {
  return get(port, '/readyz').then((r) => r.status === 200, () => false);
}

/** A gc() without --expose-gc on the command line. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The v2 protobuf encoder, when the project has one (it is written separately). */
async function loadEncoder(): Promise<((doc: Record<string, unknown>) => Uint8Array | Promise<Uint8Array>) | undefined> {
  const specifier = '../openapi/v2-protobuf.js';
  return import(specifier).then((m: { encodeOpenApiV2Protobuf?: (doc: Record<string, unknown>) => Uint8Array }) => m.encodeOpenApiV2Protobuf, () => undefined);
}

/** The documents built in this process: heap plus buffers retained, across forced collections. */
async function inProcessCost(): Promise<{ mb: number; buildMs: number }> {
  const gc = gcFunction();
  const [{ OpenApiDocuments }, { coreResources }, { groupResources }] = await Promise.all([
    import('../openapi/documents.js'), import('../server/registry/core.js'), import('../server/registry/groups.js'),
  ]);
  const encoder = await loadEncoder();
  const used = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.external; };
  // Warm the type graph first: every server loads it for validation anyway.
  new OpenApiDocuments([...coreResources, ...groupResources]).v3(GV);
  const before = used();
  const started = performance.now();
  const docs = new OpenApiDocuments([...coreResources, ...groupResources]);
  docs.v3Root();
  docs.v2();
  const encoded = encoder ? Buffer.from(await encoder(docs.v2Document())) : undefined;
  const buildMs = performance.now() - started;
  const after = used();
  if (encoded?.length === 0) throw new Error('empty protobuf document');
  if (docs.v3Names().length === 0) throw new Error('no documents');
  return { mb: mb(after - before), buildMs };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { requests: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) { say(USAGE); return 0; }
  const requests = Number(values.requests ?? 2000);
  if (!Number.isInteger(requests) || requests < 10) throw new Error(`--requests: want an integer ≥ 10\n${USAGE}`);
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  say(`podium OpenAPI benchmark — node ${process.version}; warm figures over ${requests} sequential GETs on one keep-alive connection`);

  let api: Child | undefined;
  try {
    const tmp = await makeTempDir('podium-bench-openapi-');
    await mkdir(join(tmp, 'redis'));
    const redis = await startRedis(join(tmp, 'redis'), 'none');
    const port = await freePort();
    api = new Child('apiserver', process.execPath, [podiumJs, 'apiserver', '--redis-url', redis.url, '--port', String(port), '--bind-address', '127.0.0.1', '--authorization-mode', 'AlwaysAllow', '--anonymous-auth', 'true'], {
      env: { PODIUM_SUPERVISED: '1' },
    });
    await waitUntil('the API server to answer /readyz', () => readyz(port), 60_000, api, 20);
    await sleep(1000);
    const rssBefore = rssMb(api.pid);

    const rss: string[] = [];
    const noteRss = async (what: string) => { await sleep(300); rss.push(`${what} ${rssMb(api!.pid).toFixed(1)}`); };
    const cold = await must(port, `/openapi/v3/${GV}`);
    await noteRss(GV);
    const coldRoot = await must(port, '/openapi/v3');
    await noteRss('all v3');
    const hashed = (JSON.parse(coldRoot.body.toString()) as { paths: Record<string, { serverRelativeURL: string }> }).paths;
    say(`cold: GET /openapi/v3/${GV} ${cold.ms.toFixed(1)} ms (${(cold.bytes / 1024).toFixed(0)} KiB, builds the document); ` +
      `GET /openapi/v3 ${coldRoot.ms.toFixed(1)} ms (builds and hashes all ${Object.keys(hashed).length} v3 documents)`);

    let allBytes = coldRoot.bytes;
    for (const entry of Object.values(hashed)) allBytes += (await must(port, entry.serverRelativeURL)).bytes;
    const v2 = await must(port, '/openapi/v2');
    allBytes += v2.bytes;
    await noteRss('v2 JSON');
    const v2pb = await get(port, '/openapi/v2', V2_PROTOBUF);
    await noteRss('v2 protobuf');
    if (v2pb.status === 200) allBytes += v2pb.bytes;
    say(`cold: GET /openapi/v2 ${v2.ms.toFixed(1)} ms (${(v2.bytes / 1024).toFixed(0)} KiB JSON); ` +
      (v2pb.status === 200 ? `protobuf ${v2pb.ms.toFixed(1)} ms (${(v2pb.bytes / 1024).toFixed(0)} KiB)` : `protobuf: ${v2pb.status} (no encoder)`));

    for (let i = 0; i < 50; i++) await must(port, `/openapi/v3/${GV}`);
    const times: number[] = [];
    const hashedTimes: number[] = [];
    for (let i = 0; i < requests; i++) {
      times.push((await must(port, `/openapi/v3/${GV}`, undefined, false)).ms);
      hashedTimes.push((await must(port, hashed[GV]!.serverRelativeURL, undefined, false)).ms);
    }
    times.sort((a, b) => a - b);
    hashedTimes.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    say(`warm: GET /openapi/v3/${GV} p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${times.at(-1)!.toFixed(2)} ms` +
      ` (with ?hash=: p50 ${percentile(hashedTimes, 50).toFixed(2)} ms, p99 ${percentile(hashedTimes, 99).toFixed(2)} ms)` +
      `   target ≤ ${TARGETS.warmP50Ms} ms: ${verdict(p50 <= TARGETS.warmP50Ms && p99 <= TARGETS.warmP99Ms)}`);

    await sleep(1000);
    const rssAfter = rssMb(api.pid);
    const cost = await inProcessCost();
    const documentsMb = Math.max(cost.mb, rssAfter - rssBefore);
    say(`memory: server RSS ${rssBefore.toFixed(1)} MB before, ${rssAfter.toFixed(1)} MB after fetching every document (+${(rssAfter - rssBefore).toFixed(1)} MB, ` +
      `after ${rss.join(' MB, ')} MB; includes garbage V8 has not returned); in-process heap + buffers retained by all documents, v2 protobuf included, ${cost.mb.toFixed(1)} MB ` +
      `(built in ${cost.buildMs.toFixed(0)} ms; ${mb(allBytes).toFixed(1)} MB of document bytes served)   target ≤ ${TARGETS.documentsMb} MB: ${verdict(documentsMb <= TARGETS.documentsMb)}`);
    const timing = await measureApplyVsUpdate(port, 300);
    say(`server-side apply of a Deployment: p50 ${timing.applyP50Ms.toFixed(2)} ms vs plain update (PUT) p50 ${timing.updateP50Ms.toFixed(2)} ms over ${timing.rounds} rounds = ${timing.ratio.toFixed(2)}x` +
      `   target ≤ ${TARGETS.applyOverUpdate}x: ${verdict(timing.ratio <= TARGETS.applyOverUpdate)}`);
    const problems = api.problems.filter((line) => !EXPECTED_WARNING.test(line));
    if (problems.length) say(`apiserver warnings:\n  ${problems.join('\n  ')}`);
    say(JSON.stringify({ applyP50Ms: timing.applyP50Ms, updateP50Ms: timing.updateP50Ms, applyOverUpdate: timing.ratio, coldMs: cold.ms, coldRootMs: coldRoot.ms, warmP50Ms: p50, warmP99Ms: p99, rssBeforeMb: rssBefore, rssAfterMb: rssAfter, inProcessMb: cost.mb, documentBytes: allBytes }));
    return 0;
  } catch (err) {
    if (wasInterrupted()) return 1;
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    if (api) process.stderr.write(`apiserver (${api.describeExit()}), last lines:\n${api.tail.slice(-30).join('\n')}\n`);
    return 1;
  } finally {
    agent.destroy();
    await cleanupAll();
  }
}

process.exitCode = await main();
