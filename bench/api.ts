// `npm run bench:api`: the API server against a ceiling, measured in the same run.
//
// Starts a throwaway redis-server, the real API server (`podium apiserver`, plain HTTP) and
// the ceiling (bench/ceiling-server.ts: the same paths from an in-memory Map), runs the same
// workload against both (ConfigMap creates delivered to open watches, gets, lists), then
// measures the idle API server's resident memory and how fast `podium up` gets ready. It
// reports figures and PASS/MISS against the targets; it exits non-zero only when the bench
// itself failed (a server error, a lost watch event, a child that would not start).
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HttpTarget } from './lib/http-client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, rssMb, startRedis, waitUntil, type RedisPersistence, runBench, benchFailed } from './lib/processes.js';
import { timeUp, type UpTiming } from './lib/up-timing.js';
import { printReport, type Report } from './lib/report.js';
import { runWorkload, warmUp, type WorkloadOptions, type WorkloadResult } from './lib/workload.js';
import { positiveIntOption } from './lib/options.js';
import { measureAuthorizationCost } from './lib/authz-cost.js';

const USAGE = `Usage: node dist/bench/api.js [--count 2000] [--watchers 50] [--concurrency 32]
  [--get-rounds 3] [--lists 50] [--rounds 3] [--redis-persistence everysec|none] [--skip-up]`;

const IDLE_MS = 3000;
// V8 gives memory back lazily; a second, later reading tells retained memory from garbage.
const LONG_IDLE_MS = 10_000;
// Asked for by the bench (no TLS flags), so not a problem to report.
const EXPECTED_WARNING = /serving plain HTTP/;

interface Options extends Omit<WorkloadOptions, 'namespace' | 'deliveryTimeoutMs'> {
  /** Measured rounds per target, alternating between the targets. */
  rounds: number;
  persistence: RedisPersistence;
  skipUp: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string' }, watchers: { type: 'string' }, concurrency: { type: 'string' },
      'get-rounds': { type: 'string' }, lists: { type: 'string' }, rounds: { type: 'string' }, 'redis-persistence': { type: 'string' },
      'skip-up': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number): number => positiveIntOption(name, v, dflt, USAGE);
  const persistence = values['redis-persistence'] ?? 'everysec';
  if (persistence !== 'everysec' && persistence !== 'none') throw new Error(`--redis-persistence: want everysec or none\n${USAGE}`);
  return {
    count: int('count', values.count, 2000),
    watchers: int('watchers', values.watchers, 50),
    concurrency: int('concurrency', values.concurrency, 32),
    getRounds: int('get-rounds', values['get-rounds'], 3),
    lists: int('lists', values.lists, 50),
    rounds: int('rounds', values.rounds, 3),
    persistence,
    skipUp: values['skip-up'] ?? false,
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function plainReadyz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function startCeiling(script: string): Promise<{ child: Child; port: number }> {
  const child = new Child('ceiling', process.execPath, [script], { ipc: true });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ceiling did not report its port in 10 s:\n${child.tail.join('\n')}`)), 10_000);
    child.proc.once('message', (m: { port?: number }) => {
      clearTimeout(timer);
      if (typeof m?.port === 'number') resolve({ child, port: m.port });
      else reject(new Error(`ceiling sent ${JSON.stringify(m)} instead of its port`));
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`ceiling ${child.describeExit()}:\n${child.tail.join('\n')}`));
    });
  });
}

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const ceilingJs = fileURLToPath(new URL('./ceiling-server.js', import.meta.url));
  const workload: WorkloadOptions = { ...o, namespace: 'bench', deliveryTimeoutMs: 30_000 };

  say(`podium API benchmark — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'})`);
  say(`workload: ${o.count} ConfigMaps (10 data keys), ${o.watchers} watchers, ${o.concurrency} requests in flight, ` +
    `${o.getRounds} get rounds (${o.count * o.getRounds} gets), ${o.lists} lists of the whole namespace`);
  say(`rounds: one warm-up per target, then ${o.rounds} measured rounds per target, alternating which goes first, each in a fresh namespace; figures are per-round medians`);
  say(`redis: throwaway redis-server, ${o.persistence === 'everysec' ? 'AOF on, appendfsync everysec (as podium up runs it)' : 'no persistence (--save "" --appendonly no)'}`);
  say('client: node:http, keep-alive agent; response bodies counted, not parsed (one list per target is parsed to check its item count)');
  say('watch delivery latency: receipt − create acknowledgement (receipt − send for an event that beats its acknowledgement; counted below)');
  say(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews both targets)`);

  let api: Child | undefined;
  try {
    const tmp = await makeTempDir('podium-bench-api-');
    await mkdir(join(tmp, 'redis'));
    const redis = await startRedis(join(tmp, 'redis'), o.persistence);

    const apiPort = await freePort();
    const apiStarted = performance.now();
    // PODIUM_SUPERVISED: the API server exits by itself if this bench dies without cleaning up.
    api = new Child('apiserver', process.execPath, [podiumJs, 'apiserver', '--redis-url', redis.url, '--port', String(apiPort), '--bind-address', '127.0.0.1', '--authorization-mode', 'AlwaysAllow', '--anonymous-auth', 'true'], {
      env: { PODIUM_SUPERVISED: '1' },
    });
    await waitUntil('the API server to answer /readyz', () => plainReadyz(apiPort), 60_000, api, 20);
    say(`apiserver: ready on http://127.0.0.1:${apiPort} in ${Math.round(performance.now() - apiStarted)} ms (pid ${api.pid})`);
    const ceiling = await startCeiling(ceilingJs);
    say(`ceiling: in-memory Map over node:http on http://127.0.0.1:${ceiling.port} (pid ${ceiling.child.pid})`);

    await sleep(IDLE_MS);
    const rssFresh = rssMb(api.pid);
    say(`apiserver idle RSS after bootstrap only: ${rssFresh.toFixed(1)} MB`);

    const podium = new HttpTarget('podium', apiPort, o.concurrency);
    const ceil = new HttpTarget('ceiling', ceiling.port, o.concurrency);
    await warmUp(ceil, workload, say);
    await warmUp(podium, workload, say);
    // Alternating rounds, so load from elsewhere on the machine falls on both targets alike.
    const podiumRounds: WorkloadResult[] = [];
    const ceilingRounds: WorkloadResult[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const ns = { ...workload, namespace: `bench-${round}` };
      const order = round % 2 === 1 ? [ceil, podium] : [podium, ceil];
      for (const t of order) (t === podium ? podiumRounds : ceilingRounds).push(await runWorkload(t, ns, (l) => say(`round ${round}: ${l}`)));
    }
    podium.close();
    ceil.close();

    const authz = await measureAuthorizationCost({
      podiumJs, redisUrl: redis.url, openPort: apiPort, tmp, concurrency: o.concurrency, rounds: o.rounds,
      objects: Math.min(o.count, 500), gets: o.count * o.getRounds, lists: o.lists, say, readyz: plainReadyz,
    });

    say(`load average after the run: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    await sleep(IDLE_MS);
    if (!api.running) throw new Error(`apiserver ${api.describeExit()} during the run`);
    const rssAfter = rssMb(api.pid);
    const rssCeiling = rssMb(ceiling.child.pid);
    await sleep(LONG_IDLE_MS - IDLE_MS);
    const rssAfterLong = rssMb(api.pid);
    const apiProblems = api.problems.filter((l) => !EXPECTED_WARNING.test(l));
    await api.stop();
    await ceiling.child.stop();
    await redis.child.stop();

    let up: { first: UpTiming; warm: UpTiming } | undefined;
    if (!o.skipUp) {
      const upDir = join(tmp, 'up');
      const upPort = await freePort();
      const first = await timeUp(podiumJs, upDir, upPort);
      say(`podium up: first start (creates PKI) ready in ${Math.round(first.readyMs)} ms, stopped in ${Math.round(first.stopMs)} ms (exit ${first.exitCode})`);
      const warm = await timeUp(podiumJs, upDir, upPort);
      say(`podium up: warm start ready in ${Math.round(warm.readyMs)} ms, stopped in ${Math.round(warm.stopMs)} ms (exit ${warm.exitCode})`);
      up = { first, warm };
    }

    const report: Report = {
      config: { ...o, node: process.version, cpus: availableParallelism() },
      podium: podiumRounds,
      ceiling: ceilingRounds,
      rss: { freshMb: rssFresh, afterRunMb: rssAfter, afterRunLongIdleMb: rssAfterLong, ceilingAfterRunMb: rssCeiling },
      up,
      authz,
      apiServerWarnings: apiProblems,
    };
    printReport(report, say);
    return 0;
  } catch (err) {
    return benchFailed(err, api);
  } finally {
    await cleanupAll();
  }
}

runBench(main);
