// The API benchmark's report: a table of podium against the ceiling with the ratio and the
// verdict per target, the memory and start-up figures, and one closing JSON line with
// everything, for notes and scripts to quote.
import type { Summary } from './http-client.js';
import type { UpTiming } from './up-timing.js';
import type { WorkloadResult } from './workload.js';

export interface Report {
  config: Record<string, unknown>;
  podium: WorkloadResult;
  ceiling: WorkloadResult;
  rss: { freshMb: number; afterRunMb: number; ceilingAfterRunMb: number };
  up?: { first: UpTiming; warm: UpTiming };
  /** API server log lines at warn level or above during the run. */
  apiServerWarnings: string[];
}

/** The issue's targets. */
export const TARGETS = {
  createThroughputRatio: 0.3,
  getThroughputRatio: 0.5,
  listThroughputRatio: 0.5,
  watchP99Ms: 50,
  idleRssMb: 150,
  upWarmReadyMs: 3000,
};

const verdict = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pad = (s: string, w: number): string => s.padStart(w);
const padEnd = (s: string, w: number): string => s.padEnd(w);

function cells(s: Summary): string {
  return `${pad(fixed(s.opsPerSec, 0), 9)} ${pad(fixed(s.p50Ms, 2), 8)} ${pad(fixed(s.p99Ms, 2), 8)}`;
}

export function printReport(r: Report, say: (line: string) => void): void {
  const ops = ['create', 'get', 'list', 'watch'] as const;
  const ratio = Object.fromEntries(ops.map((op) => [op, r.podium[op].opsPerSec / r.ceiling[op].opsPerSec])) as Record<(typeof ops)[number], number>;
  const checks = {
    create: { target: `ops/s >= ${TARGETS.createThroughputRatio * 100}% of ceiling`, ok: ratio.create >= TARGETS.createThroughputRatio },
    get: { target: `ops/s >= ${TARGETS.getThroughputRatio * 100}% of ceiling`, ok: ratio.get >= TARGETS.getThroughputRatio },
    list: { target: `ops/s >= ${TARGETS.listThroughputRatio * 100}% of ceiling`, ok: ratio.list >= TARGETS.listThroughputRatio },
    watch: { target: `p99 <= ${TARGETS.watchP99Ms} ms`, ok: r.podium.watch.p99Ms <= TARGETS.watchP99Ms },
  };
  const label = { create: 'create', get: 'get', list: 'list', watch: 'watch delivery' };

  say('');
  say(`${padEnd('', 15)}| ${padEnd('podium', 27)}| ${padEnd('ceiling (in-memory Map)', 27)}| podium/ceiling`);
  say(`${padEnd('operation', 15)}| ${pad('ops/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} | ${pad('ops/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} | ${pad('ops/s', 6)}  target                        result`);
  for (const op of ops) {
    const c = checks[op];
    say(`${padEnd(label[op], 15)}| ${cells(r.podium[op])} | ${cells(r.ceiling[op])} | ${pad(`${fixed(ratio[op] * 100, 0)}%`, 6)}  ${padEnd(c.target, 30)}${verdict(c.ok)}`);
  }
  say('');
  say(`watch deliveries: ${r.podium.watch.n} per target; ops/s = deliveries from the first create sent to the last event received`);
  say(`  events that beat their create's acknowledgement (timed from the send): podium ${r.podium.watch.beforeAck}, ceiling ${r.ceiling.watch.beforeAck}`);
  say(`  max delivery latency: podium ${fixed(r.podium.watch.maxMs, 1)} ms, ceiling ${fixed(r.ceiling.watch.maxMs, 1)} ms`);
  const b = (w: WorkloadResult): string => `create ${fixed(w.bytes.create, 0)}, get ${fixed(w.bytes.get, 0)}, list ${fixed(w.bytes.list, 0)}, event ${fixed(w.bytes.event, 0)}`;
  say(`mean response bytes: podium ${b(r.podium)}`);
  say(`                     ceiling ${b(r.ceiling)}`);

  const rssChecks = {
    fresh: r.rss.freshMb < TARGETS.idleRssMb,
    afterRun: r.rss.afterRunMb < TARGETS.idleRssMb,
  };
  say('');
  say(`idle RSS, API server after bootstrap only (${3} s idle): ${fixed(r.rss.freshMb, 1)} MB   target < ${TARGETS.idleRssMb} MB   ${verdict(rssChecks.fresh)}`);
  say(`idle RSS, API server after the run (holds the objects, 3 s idle): ${fixed(r.rss.afterRunMb, 1)} MB   target < ${TARGETS.idleRssMb} MB   ${verdict(rssChecks.afterRun)}`);
  say(`  (for scale: the ceiling process after the run: ${fixed(r.rss.ceilingAfterRunMb, 1)} MB)`);

  let upOk: boolean | undefined;
  if (r.up) {
    upOk = r.up.warm.readyMs <= TARGETS.upWarmReadyMs;
    say(`podium up ready (spawn -> https /readyz ok with the kubeconfig's credentials, --runtime none, Redis AOF everysec):`);
    say(`  first start (creates PKI): ${fixed(r.up.first.readyMs / 1000, 2)} s; warm start: ${fixed(r.up.warm.readyMs / 1000, 2)} s   target <= ${TARGETS.upWarmReadyMs / 1000} s   ${verdict(upOk)}`);
    if (r.up.warm.announcedMs !== undefined) say(`  (up itself printed "podium is ready" after ${fixed(r.up.warm.announcedMs / 1000, 2)} s on the warm start; it polls every 250 ms)`);
  } else {
    say('podium up: skipped (--skip-up)');
  }

  if (r.apiServerWarnings.length) {
    say('');
    say(`API server logged ${r.apiServerWarnings.length} line(s) at warn level or above; first ${Math.min(5, r.apiServerWarnings.length)}:`);
    for (const line of r.apiServerWarnings.slice(0, 5)) say(`  ${line.slice(0, 400)}`);
  }

  const round = (n: number, d = 2): number => (Number.isFinite(n) ? Number(n.toFixed(d)) : NaN);
  const figures = (s: Summary) => ({ opsPerSec: round(s.opsPerSec, 1), p50Ms: round(s.p50Ms, 3), p99Ms: round(s.p99Ms, 3), maxMs: round(s.maxMs, 3), n: s.n });
  const side = (w: WorkloadResult) => ({
    create: figures(w.create), get: figures(w.get), list: figures(w.list),
    watchDelivery: { ...figures(w.watch), beforeAck: w.watch.beforeAck },
    meanBytes: { create: round(w.bytes.create, 0), get: round(w.bytes.get, 0), list: round(w.bytes.list, 0), event: round(w.bytes.event, 0) },
  });
  say('');
  say(JSON.stringify({
    bench: 'api',
    config: r.config,
    podium: side(r.podium),
    ceiling: side(r.ceiling),
    ratios: { create: round(ratio.create, 3), get: round(ratio.get, 3), list: round(ratio.list, 3), watchDelivery: round(ratio.watch, 3) },
    rssMb: { apiserverFresh: round(r.rss.freshMb, 1), apiserverAfterRun: round(r.rss.afterRunMb, 1), ceilingAfterRun: round(r.rss.ceilingAfterRunMb, 1) },
    up: r.up ? { firstReadyMs: Math.round(r.up.first.readyMs), warmReadyMs: Math.round(r.up.warm.readyMs) } : null,
    apiServerWarnings: r.apiServerWarnings.length,
    targets: {
      create: verdict(checks.create.ok), get: verdict(checks.get.ok), list: verdict(checks.list.ok), watchP99: verdict(checks.watch.ok),
      idleRssFresh: verdict(rssChecks.fresh), idleRssAfterRun: verdict(rssChecks.afterRun), upWarm: upOk === undefined ? 'SKIPPED' : verdict(upOk),
    },
  }));
}
