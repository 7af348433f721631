// `npm run bench:pod-startup`: how fast the Docker node agent starts pods, against plain
// `docker run` on the same daemon. Runs `podium up --runtime docker`, times the floors
// (`docker run -d IMAGE sleep 3600` until running, one at a time and all at once), then pods created one by one
// and all at once, from the create's acknowledgement to Running and to Ready as one watch on the
// namespace sees them; then the agent's idle CPU and every component's memory with the pods
// running. It prints PASS/MISS per target and a closing JSON line. A target missed is a result
// (exit 0); only the bench itself failing (a component dying, a pod never starting) exits non-zero.
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiClient, isNotFound } from '../controllers/framework/client.js';
import { summarize, type Summary } from './lib/http-client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, rssMb, waitUntil, runBench, benchFailed } from './lib/processes.js';
import { COMPONENTS, cpuSeconds, findComponents, stopStragglers, type Component } from './lib/scale-probe.js';
import { positiveIntOption } from './lib/options.js';
import { waitForApiServer, waitForReadyNode } from './lib/cluster.js';
import { PodPhaseWatch } from './lib/pod-phase-watch.js';
import { docker, measureDockerRunBurstFloor, measureDockerRunFloor, podContainers, removeFloorContainers } from './lib/docker-floor.js';
import { say, fixed, verdict, round } from './lib/format.js';

const USAGE = `Usage: node dist/bench/pod-startup.js [--count 30] [--image podium.local/busybox:1.35] [--idle 10] [--window 60]`;
const TARGETS = { p50VsFloor: 1.5, p99Ms: 2000, agentIdleCpuPercent: 2, totalRssMb: 300 };

interface Options { count: number; image: string; idleS: number; windowS: number }

function parseOptions(): Options {
  const { values } = parseArgs({ options: { count: { type: 'string' }, image: { type: 'string' }, idle: { type: 'string' }, window: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number): number => positiveIntOption(name, v, dflt, USAGE);
  return { count: int('count', values.count, 30), image: values.image ?? 'podium.local/busybox:1.35', idleS: int('idle', values.idle, 10), windowS: int('window', values.window, 60) };
}


function pod(name: string, image: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'pod-startup' } },
    // sleep as PID 1 ignores SIGTERM: a short grace period keeps the deletions quick.
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  };
}

interface ModeResult { createAckMs: Summary; running: Summary; ready: Summary; wallS: number }

async function main(): Promise<number> {
  const o = parseOptions();
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const dataDir = await makeTempDir('podium-bench-pod-startup-');
  const port = await freePort();
  const runId = randomBytes(4).toString('hex');
  const ns = `pod-startup-${runId}`;
  say(`podium pod start-up benchmark — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`docker ${await docker('version', '-f', '{{.Server.Version}}')}; image ${o.image}; cluster: podium up --runtime docker on https://127.0.0.1:${port}, data dir ${dataDir}; namespace ${ns}`);
  await docker('image', 'inspect', '-f', '{{.Id}}', o.image).catch(() => {
    throw new Error(`image ${o.image} is missing (make it with /work/shared/acceptance/test-image.sh)`);
  });

  const upLog = createWriteStream(join(dataDir, 'up.log'));
  const up = new Child('podium up', process.execPath, [podiumJs, 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'docker']);
  for (const s of [up.proc.stdout, up.proc.stderr]) s?.on('data', (d: string | Buffer) => upLog.write(d));
  const floorIds: string[] = [];
  let watch: PodPhaseWatch | undefined;
  let api: ApiClient | undefined;
  let nsCreated = false;
  const pids = new Map<Component, number>();
  try {
    const upStarted = performance.now();
    api = await waitForApiServer(dataDir, up);
    await waitUntil('every component process', async () => COMPONENTS.every((c) => findComponents(up.pid).has(c)), 30_000, up, 200);
    for (const [c, pid] of findComponents(up.pid)) pids.set(c, pid);
    const readyS = (performance.now() - upStarted) / 1000;
    const nodeName = await waitForReadyNode(api, up);
    say(`up: API server ready in ${fixed(readyS)} s, node ${nodeName} Ready in ${fixed((performance.now() - upStarted) / 1000)} s; components: ${[...pids].map(([c, pid]) => `${c} ${pid}`).join(', ')}`);

    await api.create('/api/v1/namespaces', { metadata: { name: ns } });
    nsCreated = true;
    await waitUntil(`ServiceAccount ${ns}/default`, async () => {
      await api!.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`);
      return true;
    }, 60_000, up, 200);

    // Floor: the same daemon and image, one container at a time, with the cluster up and idle.
    const floor = await measureDockerRunFloor(o.image, o.count, runId, floorIds);
    await removeFloorContainers(runId, floorIds);
    floorIds.length = 0;
    const floorRunning = summarize(floor.runningMs, 0);
    const floorReturned = summarize(floor.runReturnedMs, 0);
    say(`floor: docker run -d … sleep 3600 ×${o.count}, spawn → running p50 ${fixed(floorRunning.p50Ms)} ms, p99 ${fixed(floorRunning.p99Ms)} ms (docker run returned: p50 ${fixed(floorReturned.p50Ms)} ms)`);
    const burstFloor = await measureDockerRunBurstFloor(o.image, o.count, runId, floorIds);
    await removeFloorContainers(runId, floorIds);
    floorIds.length = 0;
    const burstFloorRunning = summarize(burstFloor.runningMs, 0);
    say(`floor, all at once: ${o.count} × docker run -d started together, spawn → running p50 ${fixed(burstFloorRunning.p50Ms)} ms, p99 ${fixed(burstFloorRunning.p99Ms)} ms`);
    await sleep(2000);

    watch = new PodPhaseWatch(api, ns);
    await watch.start();
    const w = watch;
    const describe = (names: string[]) => (): string => {
      const t = names.map((n) => w.times.get(n) ?? {});
      return `${t.filter((x) => x.running).length}/${names.length} Running, ${t.filter((x) => x.ready).length} Ready`;
    };
    const podsPath = `/api/v1/namespaces/${ns}/pods`;
    const collect = (names: string[], acks: Map<string, number>, sent: Map<string, number>, wallS: number): ModeResult => {
      const pick = (m: 'running' | 'ready'): Float64Array => Float64Array.from(names.map((n) => w.times.get(n)![m]! - acks.get(n)!));
      return { createAckMs: summarize(Float64Array.from(names.map((n) => acks.get(n)! - sent.get(n)!)), wallS), running: summarize(pick('running'), wallS), ready: summarize(pick('ready'), wallS), wallS };
    };

    // One by one: each pod Running before the next is created.
    const seqNames = Array.from({ length: o.count }, (_, i) => `seq-${i}`);
    const seqAcks = new Map<string, number>();
    const seqSent = new Map<string, number>();
    const seqStart = performance.now();
    for (const name of seqNames) {
      if (!up.running) throw new Error(`podium up ${up.describeExit()} during the one-by-one phase`);
      seqSent.set(name, performance.now());
      await api.create(podsPath, pod(name, o.image));
      seqAcks.set(name, performance.now());
      await w.waitFor([name], 'running', 60_000, describe([name]));
    }
    await w.waitFor(seqNames, 'ready', 60_000, describe(seqNames));
    const seq = collect(seqNames, seqAcks, seqSent, (performance.now() - seqStart) / 1000);
    say(`one by one: ${o.count} pods Running in ${fixed(seq.wallS, 2)} s`);

    // Clear them, so the burst starts on an idle node and the idle figures are for `count` pods.
    const delStart = performance.now();
    await Promise.all(seqNames.map((n) => api!.delete(`${podsPath}/${n}`)));
    await w.waitFor(seqNames, 'gone', 120_000, () => `${seqNames.filter((n) => w.times.get(n)?.gone !== undefined).length}/${o.count} deleted`);
    const podsGoneS = (performance.now() - delStart) / 1000;
    let left: string[] = [];
    await waitUntil('the one-by-one pods\' containers to be removed', async () => (left = await podContainers(ns)).length === 0, 60_000, up, 250)
      .catch((err: Error) => say(`warning: ${err.message.split('\n')[0]} (${left.length} left); the burst starts anyway`));
    say(`one by one: deleted in ${fixed(podsGoneS, 2)} s (API), containers gone ${fixed((performance.now() - delStart) / 1000, 2)} s after the DELETE`);
    await sleep(2000);

    // All at once.
    const burstNames = Array.from({ length: o.count }, (_, i) => `burst-${i}`);
    const burstAcks = new Map<string, number>();
    const burstSent = new Map<string, number>();
    const burstStart = performance.now();
    await Promise.all(burstNames.map(async (name) => {
      burstSent.set(name, performance.now());
      await api!.create(podsPath, pod(name, o.image));
      burstAcks.set(name, performance.now());
    }));
    await w.waitFor(burstNames, 'running', 120_000, describe(burstNames));
    await w.waitFor(burstNames, 'ready', 60_000, describe(burstNames));
    const burst = collect(burstNames, burstAcks, burstSent, (performance.now() - burstStart) / 1000);
    say(`all at once: ${o.count} pods Running and Ready in ${fixed(burst.wallS, 2)} s`);

    // Idle with the burst's pods running, then the agent's CPU over a window and everyone's memory.
    await sleep(o.idleS * 1000);
    if (!up.running) throw new Error(`podium up ${up.describeExit()} while idle`);
    const comps = findComponents(up.pid);
    for (const [c, pid] of comps) pids.set(c, pid);
    const cpuBefore = new Map([...comps].map(([c, pid]) => [c, cpuSeconds(pid)] as const));
    const winStart = performance.now();
    await sleep(o.windowS * 1000);
    const winS = (performance.now() - winStart) / 1000;
    const after = findComponents(up.pid);
    const cpuPct = new Map<Component, number>();
    for (const [c, pid] of after) {
      const a = cpuBefore.get(c);
      const b = cpuSeconds(pid);
      if (comps.get(c) === pid && a !== undefined && b !== undefined) cpuPct.set(c, (100 * (b - a)) / winS);
    }
    const rss = new Map<Component, number>();
    for (const [c, pid] of after) {
      try {
        rss.set(c, rssMb(pid));
      } catch {
        /* exited */
      }
    }
    const upRss = rssMb(up.pid);
    const totalRss = [...rss.values()].reduce((a, b) => a + b, 0);
    const stillRunning = (await podContainers(ns)).length;
    const agentCpu = cpuPct.get('agent');

    // Clean up: the namespace, then podium.
    const nsDelete = performance.now();
    await watch.stop();
    watch = undefined;
    await api.delete(`/api/v1/namespaces/${ns}`);
    let nsGoneS: number | undefined;
    await waitUntil(`namespace ${ns} to be gone`, async () => {
      try {
        await api!.get(`/api/v1/namespaces/${ns}`);
        return false;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return true;
      }
    }, 120_000, up, 250).then(() => (nsGoneS = (performance.now() - nsDelete) / 1000), (err: Error) => say(`warning: ${err.message.split('\n')[0]}`));
    nsCreated = nsGoneS === undefined;
    let containersLeft: string[] = [];
    await waitUntil('the namespace\'s containers to be removed', async () => (containersLeft = await podContainers(ns)).length === 0, 60_000, up, 250).catch(() => undefined);
    const containersGoneS = (performance.now() - nsDelete) / 1000;

    // Report.
    const row = (label: string, s: Summary, floorP50?: number): string =>
      `${label.padEnd(34)} ${fixed(s.p50Ms).padStart(8)} ${fixed(s.p99Ms).padStart(8)} ${fixed(s.maxMs).padStart(8)}   ${floorP50 ? `${fixed(s.p50Ms / floorP50, 2)}×` : ''}`;
    const fp50 = floorRunning.p50Ms;
    say('');
    say(`${'ms'.padEnd(34)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}   p50/floor`);
    say(row('floor: docker run → running', floorRunning, fp50));
    say(row('one by one: POST → ack', seq.createAckMs));
    say(row('one by one: ack → Running', seq.running, fp50));
    say(row('one by one: ack → Ready', seq.ready, fp50));
    say(row(`floor: ${o.count} docker runs at once`, burstFloorRunning, burstFloorRunning.p50Ms));
    say(row('all at once: POST → ack', burst.createAckMs));
    say(row('all at once: ack → Running', burst.running, burstFloorRunning.p50Ms));
    say(row('all at once: ack → Ready', burst.ready, burstFloorRunning.p50Ms));
    say('');
    say(`with ${stillRunning} containers (pods and sandboxes) of ${o.count} pods running, after ${o.idleS} s idle, over ${fixed(winS)} s:`);
    say(`${'component'.padEnd(24)} ${'CPU % of a core'.padStart(16)} ${'RSS MB'.padStart(8)}`);
    for (const c of COMPONENTS) say(`${c.padEnd(24)} ${fixed(cpuPct.get(c), 2).padStart(16)} ${fixed(rss.get(c)).padStart(8)}`);
    say(`${'sum'.padEnd(24)} ${''.padStart(16)} ${fixed(totalRss).padStart(8)}   (podium up itself, not in the sum: ${fixed(upRss)} MB)`);
    say(`cleanup: namespace gone ${fixed(nsGoneS, 2)} s after the DELETE, its containers ${containersLeft.length === 0 ? `removed by ${fixed(containersGoneS, 2)} s` : `NOT all removed: ${containersLeft.length} left`}`);
    say('');
    say('targets');
    const seqRatio = seq.running.p50Ms / fp50;
    const burstRatio = burst.running.p50Ms / fp50;
    const burstVsBurstFloor = burst.running.p50Ms / burstFloorRunning.p50Ms;
    say(`  ${verdict(seqRatio <= TARGETS.p50VsFloor)}  one by one: create → Running p50 ≤ ${TARGETS.p50VsFloor}× docker run: ${fixed(seq.running.p50Ms)} ms = ${fixed(seqRatio, 2)}× ${fixed(fp50)} ms`);
    say(`  ${verdict(burstRatio <= TARGETS.p50VsFloor)}  all at once: create → Running p50 ≤ ${TARGETS.p50VsFloor}× docker run: ${fixed(burst.running.p50Ms)} ms = ${fixed(burstRatio, 2)}× (that floor runs one at a time)`);
    say(`  ${verdict(burstVsBurstFloor <= TARGETS.p50VsFloor)}  all at once: create → Running p50 ≤ ${TARGETS.p50VsFloor}× ${o.count} docker runs at once: ${fixed(burstVsBurstFloor, 2)}× ${fixed(burstFloorRunning.p50Ms)} ms (a pod is two containers: sandbox and app)`);
    say(`  ${verdict(seq.running.p99Ms <= TARGETS.p99Ms)}  one by one: create → Running p99 ≤ ${TARGETS.p99Ms} ms: ${fixed(seq.running.p99Ms)} ms`);
    say(`  ${verdict(burst.running.p99Ms <= TARGETS.p99Ms)}  all at once: create → Running p99 ≤ ${TARGETS.p99Ms} ms: ${fixed(burst.running.p99Ms)} ms`);
    say(`  ${verdict(agentCpu !== undefined && agentCpu < TARGETS.agentIdleCpuPercent)}  agent idle CPU < ${TARGETS.agentIdleCpuPercent} % of a core with ${o.count} pods: ${fixed(agentCpu, 2)} %`);
    say(`  ${verdict(rss.size === COMPONENTS.length && totalRss < TARGETS.totalRssMb)}  all components' RSS < ${TARGETS.totalRssMb} MB: ${fixed(totalRss)} MB${rss.size === COMPONENTS.length ? '' : ` (only ${[...rss.keys()].join(', ')} found)`}`);

    const latJson = (s: Summary): object => ({ p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms), maxMs: round(s.maxMs) });
    const modeJson = (m: ModeResult): object => ({ wallSeconds: round(m.wallS, 2), createAck: latJson(m.createAckMs), running: latJson(m.running), ready: latJson(m.ready) });
    say(JSON.stringify({
      count: o.count, cpus: availableParallelism(), image: o.image,
      floor: { running: latJson(floorRunning), runReturned: latJson(floorReturned), allAtOnceRunning: latJson(burstFloorRunning) },
      oneByOne: modeJson(seq), allAtOnce: modeJson(burst),
      runningP50VsFloor: { oneByOne: round(seqRatio, 2), allAtOnce: round(burstRatio, 2), allAtOnceVsBurstFloor: round(burstVsBurstFloor, 2) },
      idle: { windowSeconds: round(winS, 1), cpuPercent: Object.fromEntries(COMPONENTS.map((c) => [c, round(cpuPct.get(c), 2)])), rssMb: Object.fromEntries(COMPONENTS.map((c) => [c, round(rss.get(c))])), totalRssMb: round(totalRss), upRssMb: round(upRss) },
      cleanup: { namespaceGoneSeconds: round(nsGoneS, 2), containersLeft: containersLeft.length },
      targets: TARGETS,
    }));
    return 0;
  } catch (err) {
    return benchFailed(err, up);
  } finally {
    await watch?.stop().catch(() => undefined);
    if (nsCreated && api && up.running) await api.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    await removeFloorContainers(runId, floorIds).catch((err: Error) => process.stderr.write(`warning: removing the floor containers: ${err.message}\n`));
    for (const [c, pid] of up.running ? findComponents(up.pid) : []) pids.set(c, pid);
    await up.stop(30_000);
    await stopStragglers(pids);
    // Whatever the agent did not get to: this run's namespace is its own, so its containers are too.
    const left = await podContainers(ns).catch(() => []);
    if (left.length) {
      process.stderr.write(`warning: ${left.length} container(s) of namespace ${ns} outlived the run; removing them\n`);
      await docker('rm', '-f', ...left).catch((err: Error) => process.stderr.write(`warning: ${err.message}\n`));
    }
    upLog.end();
    await cleanupAll();
  }
}

runBench(main);
