// The API benchmark's report: a table of podium against the ceiling with the ratio and the
// verdict per target, the memory and start-up figures, and one closing JSON line with
// everything, for notes and scripts to quote.
import type { Summary } from './http-client.js';
import type { UpTiming } from './up-timing.js';
import type { WorkloadResult } from './workload.js';
import type { AuthzCost } from './authz-cost.js';

export interface Report {
  config: Record<string, unknown>;
  /** One result per measured round. */
  podium: WorkloadResult[];
  ceiling: WorkloadResult[];
  rss: { freshMb: number; afterRunMb: number; afterRunLongIdleMb: number; ceilingAfterRunMb: number };
  up?: { first: UpTiming; warm: UpTiming };
  authz?: AuthzCost;
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
  /** Authentication and RBAC may cost at most this share of get and list throughput. */
  authzMaxCost: 0.1,
};

const verdict = (ok: boolean): 'PASS' | 'MISS' => (ok ? 'PASS' : 'MISS');
const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pad = (s: string, w: number): string => s.padStart(w);
const padEnd = (s: string, w: number): string => s.padEnd(w);

const OPS = ['create', 'get', 'list', 'watch'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Each figure's median over the rounds (figure by figure, so not one particular round). */
function medianResult(rounds: WorkloadResult[]): WorkloadResult {
  const sum = (pick: (w: WorkloadResult) => Summary): Summary => ({
    n: pick(rounds[0]!).n,
    opsPerSec: median(rounds.map((w) => pick(w).opsPerSec)),
    p50Ms: median(rounds.map((w) => pick(w).p50Ms)),
    p99Ms: median(rounds.map((w) => pick(w).p99Ms)),
    maxMs: median(rounds.map((w) => pick(w).maxMs)),
  });
  return {
    create: sum((w) => w.create),
    get: sum((w) => w.get),
    list: sum((w) => w.list),
    watch: { ...sum((w) => w.watch), beforeAck: median(rounds.map((w) => w.watch.beforeAck)) },
    bytes: rounds[0]!.bytes,
  };
}

function cells(s: Summary): string {
  return `${pad(fixed(s.opsPerSec, 0), 9)} ${pad(fixed(s.p50Ms, 2), 8)} ${pad(fixed(s.p99Ms, 2), 8)}`;
}

export function printReport(r: Report, say: (line: string) => void): void {
  const podium = medianResult(r.podium);
  const ceiling = medianResult(r.ceiling);
  // Each round's ratio pairs two measurements taken back to back, so load that drifts over the
  // run cancels out; the verdict uses the median of those paired ratios.
  const perRound = Object.fromEntries(OPS.map((op) => [op, r.podium.map((p, i) => p[op].opsPerSec / r.ceiling[i]![op].opsPerSec)])) as Record<(typeof OPS)[number], number[]>;
  const ratio = Object.fromEntries(OPS.map((op) => [op, median(perRound[op])])) as Record<(typeof OPS)[number], number>;
  const checks = {
    create: { target: `ops/s >= ${TARGETS.createThroughputRatio * 100}% of ceiling`, ok: ratio.create >= TARGETS.createThroughputRatio },
    get: { target: `ops/s >= ${TARGETS.getThroughputRatio * 100}% of ceiling`, ok: ratio.get >= TARGETS.getThroughputRatio },
    list: { target: `ops/s >= ${TARGETS.listThroughputRatio * 100}% of ceiling`, ok: ratio.list >= TARGETS.listThroughputRatio },
    watch: { target: `p99 <= ${TARGETS.watchP99Ms} ms`, ok: podium.watch.p99Ms <= TARGETS.watchP99Ms },
  };
  const label = { create: 'create', get: 'get', list: 'list', watch: 'watch delivery' };

  say('');
  say(`${padEnd('', 15)}| ${padEnd('podium', 27)}| ${padEnd('ceiling (in-memory Map)', 27)}| podium/ceiling`);
  say(`${padEnd('operation', 15)}| ${pad('ops/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} | ${pad('ops/s', 9)} ${pad('p50 ms', 8)} ${pad('p99 ms', 8)} | ${pad('ops/s', 6)}  target                        result`);
  for (const op of OPS) {
    const c = checks[op];
    say(`${padEnd(label[op], 15)}| ${cells(podium[op])} | ${cells(ceiling[op])} | ${pad(`${fixed(ratio[op] * 100, 0)}%`, 6)}  ${padEnd(c.target, 30)}${verdict(c.ok)}`);
  }
  say('');
  say(`figures are medians of ${r.podium.length} rounds; the ratio is the median of the per-round ratios, which were:`);
  say(`  ${OPS.map((op) => `${label[op]} ${perRound[op].map((x) => `${fixed(x * 100, 0)}%`).join(' ')}`).join('; ')}`);
  say(`podium watch delivery p99 per round: ${r.podium.map((p) => `${fixed(p.watch.p99Ms, 1)} ms`).join(', ')}`);
  say(`creates run while the ${r.config.watchers} watches are open, so their figures include the event fan-out on both targets`);
  say(`watch deliveries: ${podium.watch.n} per round and target; ops/s = deliveries from the first create sent to the last event received`);
  say(`  events that beat their create's acknowledgement (timed from the send), median per round: podium ${podium.watch.beforeAck}, ceiling ${ceiling.watch.beforeAck}`);
  say(`  max delivery latency: podium ${fixed(podium.watch.maxMs, 1)} ms, ceiling ${fixed(ceiling.watch.maxMs, 1)} ms (median per round)`);
  const b = (w: WorkloadResult): string => `create ${fixed(w.bytes.create, 0)}, get ${fixed(w.bytes.get, 0)}, list ${fixed(w.bytes.list, 0)}, event ${fixed(w.bytes.event, 0)}`;
  say(`mean response bytes: podium ${b(podium)}`);
  say(`                     ceiling ${b(ceiling)}`);

  const rssOk = r.rss.freshMb < TARGETS.idleRssMb;
  say('');
  say(`idle RSS, API server after bootstrap only, 3 s idle: ${fixed(r.rss.freshMb, 1)} MB   target < ${TARGETS.idleRssMb} MB   ${verdict(rssOk)}`);
  // Not judged: it grows with --rounds and --count, which are the bench's choice, not the server's.
  say(`  for information, after the run (holding ${r.podium.length * podium.create.n} ConfigMaps plus the warm-up's): ` +
    `${fixed(r.rss.afterRunMb, 1)} MB after 3 s idle, ${fixed(r.rss.afterRunLongIdleMb, 1)} MB after 10 s; the ceiling process: ${fixed(r.rss.ceilingAfterRunMb, 1)} MB`);

  let upOk: boolean | undefined;
  if (r.up) {
    upOk = r.up.warm.readyMs <= TARGETS.upWarmReadyMs;
    say(`podium up ready (spawn -> https /readyz ok with the kubeconfig's credentials, --runtime none, Redis AOF everysec):`);
    say(`  first start (creates PKI): ${fixed(r.up.first.readyMs / 1000, 2)} s; warm start: ${fixed(r.up.warm.readyMs / 1000, 2)} s   target <= ${TARGETS.upWarmReadyMs / 1000} s   ${verdict(upOk)}`);
    if (r.up.warm.announcedMs !== undefined) say(`  (up itself printed "podium is ready" after ${fixed(r.up.warm.announcedMs / 1000, 2)} s on the warm start; it polls every 250 ms)`);
  } else {
    say('podium up: skipped (--skip-up)');
  }

  let authzOk: boolean | undefined;
  if (r.authz) {
    const a = r.authz;
    authzOk = 1 - a.getRatio <= TARGETS.authzMaxCost && 1 - a.listRatio <= TARGETS.authzMaxCost;
    say('');
    say('authorization cost (same Redis and data; off = AlwaysAllow + anonymous, on = Node,RBAC for a bearer-token user among 100 RoleBindings and 100 ClusterRoleBindings):');
    const rounds = (xs: number[]): string => xs.map((x) => `${fixed(x * 100, 1)}%`).join(' ');
    say(`  get:  off ${fixed(a.off.getPerSec, 0)}/s, on ${fixed(a.on.getPerSec, 0)}/s; on/off median of rounds ${fixed(a.getRatio * 100, 1)}% (rounds: ${rounds(a.perRound.get)})`);
    say(`  list: off ${fixed(a.off.listPerSec, 1)}/s, on ${fixed(a.on.listPerSec, 1)}/s; on/off median of rounds ${fixed(a.listRatio * 100, 1)}% (rounds: ${rounds(a.perRound.list)})`);
    say(`  target: authorization on keeps >= ${(1 - TARGETS.authzMaxCost) * 100}% of get and list throughput   ${verdict(authzOk)}`);
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
    podium: side(podium),
    ceiling: side(ceiling),
    perRoundRatios: Object.fromEntries(OPS.map((op) => [op === 'watch' ? 'watchDelivery' : op, perRound[op].map((x) => round(x, 3))])),
    podiumWatchP99PerRoundMs: r.podium.map((p) => round(p.watch.p99Ms, 1)),
    ratios: { create: round(ratio.create, 3), get: round(ratio.get, 3), list: round(ratio.list, 3), watchDelivery: round(ratio.watch, 3) },
    rssMb: { apiserverFresh: round(r.rss.freshMb, 1), apiserverAfterRun: round(r.rss.afterRunMb, 1), apiserverAfterRun10s: round(r.rss.afterRunLongIdleMb, 1), ceilingAfterRun: round(r.rss.ceilingAfterRunMb, 1) },
    up: r.up ? { firstReadyMs: Math.round(r.up.first.readyMs), warmReadyMs: Math.round(r.up.warm.readyMs) } : null,
    authorization: r.authz ? { getOnOffRatio: round(r.authz.getRatio, 3), listOnOffRatio: round(r.authz.listRatio, 3) } : null,
    apiServerWarnings: r.apiServerWarnings.length,
    targets: {
      create: verdict(checks.create.ok), get: verdict(checks.get.ok), list: verdict(checks.list.ok), watchP99: verdict(checks.watch.ok),
      idleRss: verdict(rssOk), upWarm: upOk === undefined ? 'SKIPPED' : verdict(upOk),
      authorizationCost: authzOk === undefined ? 'SKIPPED' : verdict(authzOk),
    },
  }));
}
