// `npm run bench:scale`: the whole cluster under a KWOK-style load. Runs `podium up --runtime
// simulated --nodes 100`, creates a Deployment of 3000 pods in a fresh namespace and times it
// to all pods Ready, while a light client measures API latency and /proc gives each
// component's resident memory; then deletes the namespace and times it until it is gone.
// It prints PASS/MISS per target and a closing JSON line. A target missed, including a phase
// given up on after its timeout, is a result (exit 0); only the bench itself failing (a
// component dying, a request refused) exits non-zero.
import { createWriteStream, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiClient, isNotFound } from '../controllers/framework/client.js';
import { summarize, type Summary } from './lib/http-client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, waitUntil, runBench, benchFailed } from './lib/processes.js';
import { PodTracker } from './lib/pod-tracker.js';
import { COMPONENTS, findComponents, LatencyProbe, ComponentSampler, stopStragglers, type Component } from './lib/scale-probe.js';
import { positiveIntOption } from './lib/options.js';
import { waitForApiServer } from './lib/cluster.js';
import { say, fixed, verdict, round } from './lib/format.js';

const USAGE = `Usage: node dist/bench/scale.js [--nodes 100] [--replicas 3000] [--ready-timeout 240] [--delete-timeout 180] [--keep-data]`;

const NS = 'scale-bench';
const PROBE_CONFIGMAP = 'scale-bench-probe';
const TARGETS = { readySeconds: 60, podsPerSecond: 50, apiP99Ms: 1000, controllerManagerRssMb: 250, namespaceGoneSeconds: 60 };

interface Options { nodes: number; replicas: number; readyTimeoutS: number; deleteTimeoutS: number; keepData: boolean }

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string' }, replicas: { type: 'string' }, 'ready-timeout': { type: 'string' },
      'delete-timeout': { type: 'string' }, 'keep-data': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number): number => positiveIntOption(name, v, dflt, USAGE);
  return {
    nodes: int('nodes', values.nodes, 100),
    replicas: int('replicas', values.replicas, 3000),
    readyTimeoutS: int('ready-timeout', values['ready-timeout'], 240),
    deleteTimeoutS: int('delete-timeout', values['delete-timeout'], 180),
    keepData: values['keep-data'] ?? false,
  };
}

const secs = (fromMs: number, toMs = performance.now()): number => (toMs - fromMs) / 1000;

interface DeploymentStatus { replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number }

function deployment(replicas: number): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'scale', namespace: NS, labels: { app: 'scale' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'scale' } },
      template: {
        metadata: { labels: { app: 'scale' } },
        // Small requests, so the scheduler's resource fit does real work without running out of room.
        spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '86400'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  };
}

/** Upstream's namespace deletion conditions say what is left; they make the progress line. */
async function namespaceProgress(client: ApiClient): Promise<string> {
  const ns = await client.get<{ status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } }>(`/api/v1/namespaces/${NS}`);
  const remaining = ns.status?.conditions?.find((c) => c.type === 'NamespaceContentRemaining' && c.status === 'True')?.message;
  return `phase ${ns.status?.phase ?? '?'}${remaining ? `; ${remaining}` : ''}`;
}

async function main(): Promise<number> {
  const o = parseOptions();
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  // --keep-data leaves the data dir (logs, Redis) for a post-mortem, so it is not a cleanup temp dir.
  const dataDir = o.keepData ? mkdtempSync(join(tmpdir(), 'podium-bench-scale-')) : await makeTempDir('podium-bench-scale-');
  const port = await freePort();
  say(`podium scale benchmark — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`cluster: podium up --runtime simulated --nodes ${o.nodes} on https://127.0.0.1:${port}, data dir ${dataDir}${o.keepData ? ' (kept)' : ''}`);
  say(`workload: one apps/v1 Deployment of ${o.replicas} pods in namespace ${NS}; probe: one request every 100 ms (GET a ConfigMap / list 5 nodes, alternating)`);

  const upLog = createWriteStream(join(dataDir, 'up.log'));
  const up = new Child('podium up', process.execPath, [podiumJs, 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'simulated', '--nodes', String(o.nodes)]);
  for (const s of [up.proc.stdout, up.proc.stderr]) s?.on('data', (d: string | Buffer) => upLog.write(d));
  const sampler = new ComponentSampler(up.pid);
  let probe: LatencyProbe | undefined;
  try {
    const upStarted = performance.now();
    const api = await waitForApiServer(dataDir, up);
    await waitUntil('every component process', async () => COMPONENTS.every((c) => findComponents(up.pid).has(c)), 30_000, up, 200);
    say(`up: API server ready in ${fixed(secs(upStarted))} s; components: ${[...findComponents(up.pid)].map(([c, pid]) => `${c} ${pid}`).join(', ')}`);
    sampler.start();

    let readyNodes = 0;
    await waitUntil(`${o.nodes} nodes Ready`, async () => {
      const nodes = await api.list<{ status?: { conditions?: { type: string; status: string }[] } }>('/api/v1/nodes');
      readyNodes = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      return readyNodes >= o.nodes;
    }, 120_000, up, 500);
    say(`nodes: ${readyNodes} Ready ${fixed(secs(upStarted))} s after start`);

    await api.create('/api/v1/namespaces', { metadata: { name: NS } });
    // Pods are refused until the namespace has its default ServiceAccount (admission), so the
    // clock must not start before the controller manager has made it.
    await waitUntil(`ServiceAccount ${NS}/default`, async () => {
      await api.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`);
      return true;
    }, 60_000, up, 200);
    await api.create('/api/v1/namespaces/default/configmaps', { metadata: { name: PROBE_CONFIGMAP }, data: { probe: 'scale' } });
    probe = new LatencyProbe(ApiClient.fromKubeconfig(join(dataDir, 'kubeconfig')), `/api/v1/namespaces/default/configmaps/${PROBE_CONFIGMAP}`);
    probe.start();
    // A short baseline: latency of the idle cluster, to read the run's figures against.
    const baselineFrom = performance.now();
    await sleep(3000);
    const baseline = summarize(probe.between(baselineFrom, performance.now()), 3);
    const rssBefore = new Map(sampler.lastMb);

    // Phase 1: create the Deployment and wait for every pod to be Ready.
    const tracker = new PodTracker(ApiClient.fromKubeconfig(join(dataDir, 'kubeconfig')), NS, o.replicas);
    // The tracker's watch is one more pod watcher on the API server (the scheduler, the agent
    // and the controllers already hold one each); its CPU is reported with the bench's own.
    await Promise.race([tracker.start(), sleep(30_000, undefined, { ref: false }).then(() => Promise.reject(new Error('the pod informer did not sync within 30 s')))]);
    sampler.sample();
    const cpuAtCreate = new Map(sampler.cpu);
    const benchCpuStart = process.cpuUsage();
    const createSent = performance.now();
    await api.create(`/apis/apps/v1/namespaces/${NS}/deployments`, deployment(o.replicas));
    const created = performance.now();
    say(`rollout: Deployment created (${fixed(created - createSent, 0)} ms); waiting for ${o.replicas} Ready pods (gives up after ${o.readyTimeoutS} s)`);
    let status: DeploymentStatus = {};
    let lastReport = created;
    let statusReadyAt: number | undefined;
    const progress = (): string => `Deployment status ${status.replicas ?? 0} created, ${status.readyReplicas ?? 0} Ready; ${tracker.describe()}`;
    const rss = (): string => `RSS MB ${[...sampler.lastMb].map(([c, mb]) => `${c} ${mb.toFixed(0)}`).join(', ')}`;
    // Both ends count: the pods themselves, and the Deployment status `kubectl rollout status` reads.
    while ((tracker.allReadyAt === undefined || statusReadyAt === undefined) && secs(created) < o.readyTimeoutS) {
      if (!up.running) throw new Error(`podium up ${up.describeExit()} during the rollout:\n${up.tail.slice(-30).join('\n')}`);
      const d = await api.get<{ status?: DeploymentStatus }>(`/apis/apps/v1/namespaces/${NS}/deployments/scale`);
      status = d.status ?? {};
      if ((status.readyReplicas ?? 0) >= o.replicas) statusReadyAt ??= performance.now();
      if (performance.now() - lastReport >= 5000) {
        lastReport = performance.now();
        say(`  ${fixed(secs(created), 0).padStart(4)} s: ${progress()}; ${rss()}`);
      }
      await sleep(250);
    }
    const readyAt = tracker.allReadyAt;
    const rolloutEnd = Math.max(readyAt ?? performance.now(), statusReadyAt ?? performance.now());
    const readySeconds = readyAt !== undefined ? secs(created, readyAt) : undefined;
    const statusSeconds = statusReadyAt !== undefined ? secs(created, statusReadyAt) : undefined;
    const milestone = (n: number): number | undefined => (tracker.readyAt.has(n) ? secs(created, tracker.readyAt.get(n)!) : undefined);
    const rolloutLatency = summarize(probe.between(created, rolloutEnd), secs(created, rolloutEnd));
    sampler.sample();
    const rssAtReady = new Map(sampler.lastMb);
    const cpuAtReady = new Map(sampler.cpu);
    let gaveUp: string | undefined;
    if (readyAt === undefined || statusReadyAt === undefined) {
      gaveUp = `rollout after ${o.readyTimeoutS} s: ${progress()}`;
      say(`rollout: GAVE UP after ${o.readyTimeoutS} s: ${progress()}`);
    }
    say(`rollout: first pod Ready at ${fixed(milestone(1), 2)} s, half at ${fixed(milestone(Math.ceil(o.replicas / 2)), 2)} s, all ${o.replicas} at ${fixed(readySeconds, 2)} s; ` +
      `Deployment status readyReplicas=${o.replicas} at ${fixed(statusSeconds, 2)} s (after the create response)`);

    // Phase 2: delete the namespace and wait until it is gone.
    const deleteSent = performance.now();
    await api.delete(`/api/v1/namespaces/${NS}`);
    say(`deletion: namespace ${NS} DELETE accepted (${fixed(performance.now() - deleteSent, 0)} ms); waiting for 404 (gives up after ${o.deleteTimeoutS} s)`);
    let goneAt: number | undefined;
    let lastProgress = '';
    let podsGoneAt: number | undefined;
    let allMarkedAt: number | undefined;
    lastReport = deleteSent;
    while (goneAt === undefined && secs(deleteSent) < o.deleteTimeoutS) {
      if (!up.running) throw new Error(`podium up ${up.describeExit()} during the namespace deletion:\n${up.tail.slice(-30).join('\n')}`);
      // Marking (deletionTimestamp) is the namespace controller and the API server's part;
      // removal after it waits on the agent's simulated termination (5 s by default).
      if (tracker.live === 0) allMarkedAt ??= performance.now();
      if (tracker.total === 0) podsGoneAt ??= performance.now();
      try {
        lastProgress = `${await namespaceProgress(api)}; ${tracker.describe()}`;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        goneAt = performance.now();
        break;
      }
      if (performance.now() - lastReport >= 5000) {
        lastReport = performance.now();
        say(`  ${fixed(secs(deleteSent), 0).padStart(4)} s: ${lastProgress}; ${rss()}`);
      }
      await sleep(250);
    }
    tracker.stop();
    const deleteEnd = goneAt ?? performance.now();
    const goneSeconds = goneAt !== undefined ? secs(deleteSent, goneAt) : undefined;
    const deletionLatency = summarize(probe.between(deleteSent, deleteEnd), secs(deleteSent, deleteEnd));
    if (goneAt === undefined) {
      say(`deletion: GAVE UP after ${o.deleteTimeoutS} s: ${lastProgress}`);
      gaveUp = `${gaveUp ? `${gaveUp}; ` : ''}deletion after ${o.deleteTimeoutS} s: ${lastProgress}`;
    } else {
      say(`deletion: every pod marked for deletion at ${fixed(allMarkedAt !== undefined ? secs(deleteSent, allMarkedAt) : undefined, 2)} s, last pod gone at ${fixed(podsGoneAt !== undefined ? secs(deleteSent, podsGoneAt) : undefined, 2)} s, namespace gone (404) at ${fixed(goneSeconds, 2)} s after the DELETE`);
    }
    await probe.stop();
    sampler.sample();
    sampler.stop();
    const cpuAtEnd = new Map(sampler.cpu);
    const whole = summarize(probe.between(created, deleteEnd), secs(created, deleteEnd));

    const podsPerSecond = readySeconds !== undefined ? o.replicas / readySeconds : undefined;
    const cmPeak = sampler.peakMb.get('controller-manager');
    const lat = (name: string, s: Summary): string =>
      `${name.padEnd(22)} n=${String(s.n).padStart(5)}  p50 ${fixed(s.p50Ms).padStart(7)} ms  p99 ${fixed(s.p99Ms).padStart(7)} ms  max ${fixed(s.maxMs).padStart(7)} ms`;
    say('');
    say('API latency (probe: one request per 100 ms)');
    say(lat('idle baseline', baseline));
    say(lat('during the rollout', rolloutLatency));
    say(lat('during the deletion', deletionLatency));
    say(lat('whole run', whole));
    if (probe.errors.length) say(`probe errors (${probe.errors.length}${probe.errors.length >= 20 ? '+' : ''}): ${probe.errors.slice(0, 3).join(' | ')}`);
    say('');
    say('resident memory (MB)      before   rollout end   peak');
    for (const c of COMPONENTS) say(`${c.padEnd(24)} ${fixed(rssBefore.get(c)).padStart(7)} ${fixed(rssAtReady.get(c)).padStart(13)} ${fixed(sampler.peakMb.get(c)).padStart(6)}`);
    say('');
    // CPU seconds per phase against its wall time: a component near 100 % of one core (or all
    // of them near the machine's total) is what the phase waited on.
    const rolloutWall = secs(created, rolloutEnd);
    const deletionWall = secs(deleteSent, deleteEnd);
    const used = (to: Map<Component, number>, from: Map<Component, number>, c: Component): number | undefined =>
      to.has(c) && from.has(c) ? to.get(c)! - from.get(c)! : undefined;
    const cpuRow = (c: Component, wall: number, to: Map<Component, number>, from: Map<Component, number>): string => {
      const v = used(to, from, c);
      return `${fixed(v).padStart(7)} s ${`(${fixed(v !== undefined ? (100 * v) / wall : undefined, 0)} %)`.padStart(8)}`;
    };
    say(`CPU time                 rollout (${fixed(rolloutWall)} s)   deletion (${fixed(deletionWall)} s)   [${availableParallelism()} CPUs]`);
    for (const c of COMPONENTS) say(`${c.padEnd(24)} ${cpuRow(c, rolloutWall, cpuAtReady, cpuAtCreate)}   ${cpuRow(c, deletionWall, cpuAtEnd, cpuAtReady)}`);
    say(`${'bench (this process)'.padEnd(24)} ${fixed(benchCpuSeconds(benchCpuStart)).padStart(7)} s over both phases; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine competes for the same CPUs)`);
    if (sampler.restarts.length) say(`component restarts during the run: ${sampler.restarts.join('; ')}`);
    say('');
    say('targets');
    say(`  ${verdict(readySeconds !== undefined && readySeconds <= TARGETS.readySeconds)}  all pods Ready in ≤ ${TARGETS.readySeconds} s: ${readySeconds !== undefined ? `${fixed(readySeconds, 2)} s` : `not within ${o.readyTimeoutS} s (${progress()})`}`);
    say(`  ${verdict(podsPerSecond !== undefined && podsPerSecond >= TARGETS.podsPerSecond)}  ≥ ${TARGETS.podsPerSecond} pods/s (KWOK publishes 20/s): ${fixed(podsPerSecond)} pods/s`);
    say(`  ${verdict(whole.p99Ms <= TARGETS.apiP99Ms)}  API p99 ≤ ${TARGETS.apiP99Ms} ms throughout: ${fixed(whole.p99Ms)} ms (rollout ${fixed(rolloutLatency.p99Ms)}, deletion ${fixed(deletionLatency.p99Ms)})`);
    say(`  ${verdict(cmPeak !== undefined && cmPeak <= TARGETS.controllerManagerRssMb)}  controller manager ≤ ${TARGETS.controllerManagerRssMb} MB resident: peak ${fixed(cmPeak)} MB`);
    say(`  ${verdict(goneSeconds !== undefined && goneSeconds <= TARGETS.namespaceGoneSeconds)}  namespace empty in ≤ ${TARGETS.namespaceGoneSeconds} s: ${goneSeconds !== undefined ? `${fixed(goneSeconds, 2)} s` : `not within ${o.deleteTimeoutS} s (${lastProgress})`}`);

        const latJson = (s: Summary): object => ({ n: s.n, p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms), maxMs: round(s.maxMs) });
    const mem = (m: Map<Component, number>): object => Object.fromEntries(COMPONENTS.map((c) => [c, round(m.get(c))]));
    say(JSON.stringify({
      nodes: o.nodes, replicas: o.replicas, cpus: availableParallelism(),
      readySeconds: round(readySeconds, 2), podsPerSecond: round(podsPerSecond), namespaceGoneSeconds: round(goneSeconds, 2),
      apiLatency: { baseline: latJson(baseline), rollout: latJson(rolloutLatency), deletion: latJson(deletionLatency), whole: latJson(whole) },
      firstPodReadySeconds: round(milestone(1), 2), halfReadySeconds: round(milestone(Math.ceil(o.replicas / 2)), 2),
      deploymentStatusReadySeconds: round(statusSeconds, 2), podsGoneSeconds: round(podsGoneAt !== undefined ? secs(deleteSent, podsGoneAt) : undefined, 2),
      allPodsMarkedSeconds: round(allMarkedAt !== undefined ? secs(deleteSent, allMarkedAt) : undefined, 2),
      rssMb: { before: mem(rssBefore), atReady: mem(rssAtReady), peak: mem(sampler.peakMb) },
      cpuSeconds: {
        rollout: Object.fromEntries(COMPONENTS.map((c) => [c, round(used(cpuAtReady, cpuAtCreate, c))])),
        deletion: Object.fromEntries(COMPONENTS.map((c) => [c, round(used(cpuAtEnd, cpuAtReady, c))])),
      },
      probeErrors: probe.errors.length, restarts: sampler.restarts, gaveUp: gaveUp ?? null,
      targets: TARGETS,
    }));
    return 0;
  } catch (err) {
    return benchFailed(err, up);
  } finally {
    sampler.stop();
    await probe?.stop();
    const pids = new Map(sampler.pids);
    for (const [c, pid] of findComponents(up.pid)) pids.set(c, pid);
    // `up` stops its children, Redis last; with 3000 pods' worth of state that can take a while.
    await up.stop(30_000);
    await stopStragglers(pids);
    upLog.end();
    await cleanupAll();
  }
}

function benchCpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

runBench(main);
