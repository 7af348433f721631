// `npm run bench:service`: what the node's service networking costs. Runs `podium up --runtime
// docker` with an ingress port, a 3-replica busybox httpd Deployment behind a ClusterIP Service, a
// NodePort Service and an Ingress, and a client pod. From inside the client pod's network
// namespace (nsenter into its sandbox) it loads the Service's ClusterIP and, as the baseline,
// one endpoint's pod IP directly; from the host it loads the NodePort and the Ingress. Each pair
// runs interleaved (A B A B …) so drift on the machine hits both alike. Prints requests per
// second and p50/p99 latency with the ratios, PASS/MISS per target and a closing JSON line.
// A target missed is a result (exit 0); only the bench failing exits non-zero.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ApiClient } from '../controllers/framework/client.js';
import { Child, cleanupAll, cleanupOnSignals, freePort, makeTempDir, waitUntil, runBench, benchFailed } from './lib/processes.js';
import { docker, podContainers } from './lib/docker-floor.js';
import { load, type LoadResult } from './lib/http-load.js';
import { positiveIntOption } from './lib/options.js';
import { waitForApiServer, waitForReadyNode } from './lib/cluster.js';
import { say, fixed, verdict } from './lib/format.js';

const run = promisify(execFile);
const USAGE = `Usage: node dist/bench/service.js [--seconds 5] [--rounds 3] [--concurrency 4] [--image podium.local/busybox:1.35]`;
const TARGETS = { clusterIpVsDirect: 0.9, ingressAddedP99Ms: 5 };

interface Options { seconds: number; rounds: number; concurrency: number; image: string }

function parseOptions(): Options {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, concurrency: { type: 'string' }, image: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, dflt: number): number => positiveIntOption(name, v, dflt, USAGE);
  return { seconds: int('seconds', values.seconds, 5), rounds: int('rounds', values.rounds, 3), concurrency: int('concurrency', values.concurrency, 4), image: values.image ?? 'podium.local/busybox:1.35' };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function objects(ns: string, image: string, host: string): object[] {
  const labels = { app: 'web' };
  return [
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3, selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{
              name: 'httpd', image, imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'mkdir -p /www && hostname >/www/index.html && httpd -f -p 8080 -h /www'],
              ports: [{ containerPort: 8080, name: 'http' }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            }],
          },
        },
      },
    },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-np', namespace: ns }, spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
    {
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: ns },
      spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    },
    {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: ns },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    },
  ];
}

const PATHS: Record<string, string> = {
  Deployment: 'apis/apps/v1/namespaces/NS/deployments',
  Service: 'api/v1/namespaces/NS/services',
  Ingress: 'apis/networking.k8s.io/v1/namespaces/NS/ingresses',
  Pod: 'api/v1/namespaces/NS/pods',
};

/** Loads a target from inside a pod's network namespace: this bench's load generator under nsenter. */
async function loadFromPod(sandboxPid: number, target: string, seconds: number, concurrency: number): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./lib/http-load.js', import.meta.url));
  const { stdout } = await run('nsenter', ['-t', String(sandboxPid), '-n', process.execPath, script, target, String(seconds), String(concurrency)], { timeout: (seconds + 30) * 1000 });
  return JSON.parse(stdout.trim()) as LoadResult;
}

/** Runs the pair interleaved for `rounds` rounds; returns each side's per-round results. */
async function interleaved(rounds: number, a: () => Promise<LoadResult>, b: () => Promise<LoadResult>): Promise<[LoadResult[], LoadResult[]]> {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return [as, bs];
}

interface Side { rps: number; p50Ms: number; p99Ms: number; errors: number }
const summarizeSide = (rs: LoadResult[]): Side => ({ rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), errors: rs.reduce((n, r) => n + r.errors, 0) });

async function main(): Promise<number> {
  const o = parseOptions();
  cleanupOnSignals();
  const podiumJs = fileURLToPath(new URL('../cmd/podium.js', import.meta.url));
  const dataDir = await makeTempDir('podium-bench-service-');
  const port = await freePort();
  const ingressPort = await freePort();
  const runId = randomBytes(4).toString('hex');
  const ns = `bench-service-${runId}`;
  const host = `web.${ns}.test`;
  say(`podium service networking benchmark — node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  say(`cluster: podium up --runtime docker --ingress-port ${ingressPort} on https://127.0.0.1:${port}; namespace ${ns}; ${o.rounds} rounds × ${o.seconds} s per target, ${o.concurrency} concurrent clients, a new connection per request`);

  const upLog = createWriteStream(join(dataDir, 'up.log'));
  const up = new Child('podium up', process.execPath, [podiumJs, 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'docker', '--ingress-port', String(ingressPort)]);
  for (const s of [up.proc.stdout, up.proc.stderr]) s?.on('data', (d: string | Buffer) => upLog.write(d));
  let api: ApiClient | undefined;
  try {
    const client = await waitForApiServer(dataDir, up);
    api = client;
    await waitForReadyNode(client, up);
    await client.create('/api/v1/namespaces', { metadata: { name: ns } });
    await waitUntil(`ServiceAccount ${ns}/default`, async () => client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`).then(() => true), 60_000, up, 200);
    for (const obj of objects(ns, o.image, host) as { kind: string }[]) await client.create(`/${PATHS[obj.kind].replace('NS', ns)}`, obj);

    let slices: EndpointSlice[] = [];
    await waitUntil('three ready endpoints of web', async () => {
      slices = (await client.list<EndpointSlice>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb`)).items;
      return slices.flatMap((s) => s.endpoints).filter((e) => e.conditions?.ready !== false).length === 3;
    }, 180_000, up, 500);
    await waitUntil('the client pod Running', async () => (await client.get<Pod>(`/api/v1/namespaces/${ns}/pods/client`)).status?.phase === 'Running', 120_000, up, 250);
    const svc = await client.get<Service>(`/api/v1/namespaces/${ns}/services/web`);
    const np = await client.get<Service>(`/api/v1/namespaces/${ns}/services/web-np`);
    const endpointIP = slices.flatMap((s) => s.endpoints).find((e) => e.conditions?.ready !== false)!.addresses[0];
    const sandbox = await docker('ps', '-q', '--filter', `label=io.kubernetes.pod.namespace=${ns}`, '--filter', 'label=io.kubernetes.pod.name=client', '--filter', 'label=io.kubernetes.container.name=POD');
    const sandboxPid = Number(await docker('inspect', '-f', '{{.State.Pid}}', sandbox));
    const clusterIP = svc.spec?.clusterIP;
    const nodePort = np.spec?.ports?.[0]?.nodePort;
    await waitUntil('the Ingress to route', async () => (await load(`http://127.0.0.1:${ingressPort}/`, 0.2, 1, host)).requests > 0, 60_000, up, 500);
    await waitUntil('the ClusterIP to answer from the pod', async () => (await loadFromPod(sandboxPid, `http://${clusterIP}/`, 0.2, 1)).requests > 0, 60_000, up, 500);
    say(`ready: Service web ${clusterIP}:80 → 3 pods on :8080, direct baseline ${endpointIP}:8080, NodePort ${nodePort}, Ingress host ${host}; client pod sandbox pid ${sandboxPid}`);

    const [direct, viaClusterIP] = await interleaved(o.rounds,
      () => loadFromPod(sandboxPid, `http://${endpointIP}:8080/`, o.seconds, o.concurrency),
      () => loadFromPod(sandboxPid, `http://${clusterIP}/`, o.seconds, o.concurrency));
    const [viaNodePort, viaIngress] = await interleaved(o.rounds,
      () => load(`http://127.0.0.1:${nodePort}/`, o.seconds, o.concurrency),
      () => load(`http://127.0.0.1:${ingressPort}/`, o.seconds, o.concurrency, host));

    const d = summarizeSide(direct);
    const c = summarizeSide(viaClusterIP);
    const n = summarizeSide(viaNodePort);
    const i = summarizeSide(viaIngress);
    const row = (label: string, s: Side): string => `${label.padEnd(40)} ${fixed(s.rps, 0).padStart(8)} ${fixed(s.p50Ms, 2).padStart(8)} ${fixed(s.p99Ms, 2).padStart(8)} ${String(s.errors).padStart(7)}`;
    say('');
    say(`${'median of rounds'.padEnd(40)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`);
    say(row('pod → one pod IP directly (baseline)', d));
    say(row('pod → Service ClusterIP (3 endpoints)', c));
    say(row('host → NodePort 127.0.0.1', n));
    say(row('host → Ingress 127.0.0.1 (Host header)', i));
    const ratio = c.rps / d.rps;
    const added = i.p99Ms - n.p99Ms;
    say('');
    say('targets');
    say(`  ${verdict(ratio >= TARGETS.clusterIpVsDirect)}  ClusterIP throughput ≥ ${TARGETS.clusterIpVsDirect * 100} % of direct: ${fixed(ratio * 100)} % (${fixed(c.rps, 0)} vs ${fixed(d.rps, 0)} req/s)`);
    say(`  ${verdict(added <= TARGETS.ingressAddedP99Ms)}  Ingress adds ≤ ${TARGETS.ingressAddedP99Ms} ms at p99 over the NodePort: ${fixed(added, 2)} ms (${fixed(i.p99Ms, 2)} vs ${fixed(n.p99Ms, 2)} ms)`);
    const side = (s: Side): object => ({ rps: +s.rps.toFixed(1), p50Ms: +s.p50Ms.toFixed(2), p99Ms: +s.p99Ms.toFixed(2), errors: s.errors });
    say(JSON.stringify({ cpus: availableParallelism(), seconds: o.seconds, rounds: o.rounds, concurrency: o.concurrency, direct: side(d), clusterIP: side(c), nodePort: side(n), ingress: side(i), clusterIpVsDirect: +ratio.toFixed(3), ingressAddedP99Ms: +added.toFixed(2), targets: TARGETS }));
    return 0;
  } catch (err) {
    return benchFailed(err, up);
  } finally {
    if (api && up.running) {
      await api.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
      await waitUntil('the namespace\'s containers to be removed', async () => (await podContainers(ns)).length === 0, 60_000, up, 500).catch(() => undefined);
    }
    await up.stop(30_000);
    const left = await podContainers(ns).catch(() => []);
    if (left.length) await docker('rm', '-f', ...left).catch((err: Error) => process.stderr.write(`warning: ${err.message}\n`));
    upLog.end();
    await cleanupAll();
  }
}

runBench(main);
