// `podium up`: the all-in-one entry, in the manner of `k3s server`. It prepares the
// data directory (PKI, kubeconfig), starts Redis unless given one, starts each
// component as a supervised child process, waits for the API server's /readyz,
// and on SIGTERM/SIGINT stops the components in reverse order with Redis last.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { logger } from '../apimachinery/log.js';
import { freeLoopbackPort } from '../apimachinery/free-port.js';
import { ensurePki, issueClientCertificate, issueServingCertificate, type Pki } from '../server/pki.js';
import { defaultNodeName, type UpFlags } from './flags.js';
import { buildKubeconfig, writeKubeconfig } from './kubeconfig.js';
import { startManagedRedis, type ManagedRedis } from './redis.js';
import { SupervisedChild, type ChildSpec } from './supervisor.js';

const log = logger('up');
const supervisorLog = logger('supervisor');

/**
 * The readable account of `up` on stdout, one line per component as it comes up (the JSON logs
 * stay on stderr): `redis               ready    redis://127.0.0.1:40123 (…)`.
 */
function say(component: string, state: string, detail: string): void {
  process.stdout.write(`${component.padEnd(19)} ${state.padEnd(8)} ${detail}\n`);
}

/** Runs until a signal stops the cluster; resolves with the process exit code. */
export async function runUp(f: UpFlags): Promise<number> {
  const dataDir = f.dataDir;
  // A reader of stdout that went away (`podium up | head`) must not take the cluster down with it.
  process.stdout.on('error', () => undefined);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const unlock = await lockDataDir(dataDir);
  noteUnimplementedFlags(f);

  const components: SupervisedChild[] = [];
  let redis: ManagedRedis | undefined;
  const aborted = new AbortController();
  let stopping: Promise<void> | undefined;

  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      aborted.abort();
      // Reverse start order: clients of the API server first, the API server after them, Redis last.
      for (const c of [...components].reverse()) await c.stop();
      if (redis) await redis.stop();
      await unlock();
    })());

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.info('shutting down', { signal });
      void stopAll();
    } else {
      log.warn('second signal: killing every child now', { signal });
      for (const c of components) c.kill();
      redis?.kill();
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Last resort when `up` dies of an exception: no child may outlive it holding the port or the AOF.
  process.on('exit', () => {
    for (const c of components) c.kill();
    redis?.kill();
  });

  try {
    await ensurePortFree(f.port);
    const pki = await ensurePki(join(dataDir, 'pki'));
    if (pki.generated.length) log.info('generated certificates', { dir: pki.files.dir, generated: pki.generated });
    else log.v(1, 'reusing certificates', { dir: pki.files.dir });

    const kubeconfigPath = join(dataDir, 'kubeconfig');
    const server = `https://127.0.0.1:${f.port}`;
    const kubeconfig = buildKubeconfig({ server, caCertPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
    if (await writeKubeconfig(kubeconfigPath, kubeconfig)) log.v(1, 'wrote kubeconfig', { path: kubeconfigPath, server });

    let redisUrl = f.redisUrl;
    if (!redisUrl) {
      redis = await startManagedRedis({ dataDir, appendfsync: f.redisAppendfsync, signal: aborted.signal, onStarted: sayRestarted('redis') });
      redisUrl = redis.url;
      say('redis', 'ready', `${redis.url} (pid ${redis.pid}, aof ${f.redisAppendfsync}, ${redis.dir})`);
    } else {
      log.info('using external redis', { url: redactUrl(redisUrl) });
      say('redis', 'external', redactUrl(redisUrl));
    }

    // The API server's identity towards node agents (kubeadm's apiserver-kubelet-client).
    const kubeletClient = await writeClientCertificate(pki, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);
    const apiserver = new SupervisedChild(
      podiumChild('apiserver', [
        '--redis-url', redisUrl,
        '--port', String(f.port),
        '--bind-address', '127.0.0.1',
        // Pods reach the API server through default/kubernetes: its endpoint is the Docker node's
        // bridge address (the pod subnet's first host), where the agent relays to 127.0.0.1.
        ...(f.runtime === 'docker' ? ['--advertise-address', DOCKER_NODE_ADDRESS, '--default-ingress-class', 'podium'] : []),
        '--data-dir', dataDir,
        '--tls-cert-file', pki.files.servingCert,
        '--tls-private-key-file', pki.files.servingKey,
        '--client-ca-file', pki.files.caCert,
        '--kubelet-client-certificate', kubeletClient.cert,
        '--kubelet-client-key', kubeletClient.key,
        '--kubelet-certificate-authority', pki.files.caCert,
        ...(f.auditLogPath ? ['--audit-log-path', f.auditLogPath] : []),
        ...(f.tokenAuthFile ? ['--token-auth-file', f.tokenAuthFile] : []),
        ...(f.eventTtl ? ['--event-ttl', f.eventTtl] : []),
        '--v', String(f.verbosity),
      ]),
      supervisorLog,
    );
    components.push(apiserver);
    apiserver.start();
    await waitForReadyz(f.port, pki, aborted.signal);
    say('apiserver', 'ready', `${server} (pid ${apiserver.pid})`);

    // Each component gets its own identity, bound to only what it needs (never system:masters).
    const identity = (name: string, user: string) => componentKubeconfig(pki, server, join(dataDir, `${name}.kubeconfig`), user, []);
    const controllerManagerKubeconfig = await identity('controller-manager', 'system:kube-controller-manager');
    // --runtime none is the API server with only the controllers that keep the cluster's own
    // bookkeeping (namespaces, service accounts, root CA, RBAC aggregation, garbage collection, CSR signing):
    // nothing acts on workloads, which is what kubectl-api.sh and kubectl-apply.sh are specified
    // against, while security.sh gets the default service accounts a cluster always has.
    const controllers = f.runtime === 'none' ? BOOKKEEPING_CONTROLLERS : '*';
    // Upstream serves these on fixed ports (10257, 10250); a free loopback port each lets several
    // clusters share a host. The restarted child gets the same port again.
    const controllerManagerMetrics = `127.0.0.1:${await freeLoopbackPort()}`;
    const controllerManager = new SupervisedChild(
      // Measured in bench/scale (3000 pods, namespace deleted at once): the live heap after a full
      // collection is ~42 MB, but under the burst of watch events V8 let garbage reach 180 MB
      // before collecting (282-307 MB RSS). A heap limit makes it collect sooner; the limit
      // leaves ~3x headroom over that live set.
      podiumChild('controller-manager', ['--kubeconfig', controllerManagerKubeconfig, '--data-dir', f.dataDir, '--controllers', controllers, '--cluster-signing-cert-file', pki.files.caCert, '--cluster-signing-key-file', pki.files.caKey, '--metrics-bind-address', controllerManagerMetrics, '--v', String(f.verbosity)], ['--max-old-space-size=128', ...LEAN]),
      supervisorLog,
    );
    components.push(controllerManager);
    controllerManager.start();
    say('controller-manager', 'started', `pid ${controllerManager.pid} (${f.runtime === 'none' ? 'bookkeeping controllers only' : 'all controllers'}, metrics http://${controllerManagerMetrics}/metrics)`);

    if (f.runtime !== 'none') {
      const schedulerKubeconfig = await identity('scheduler', 'system:kube-scheduler');
      const scheduler = new SupervisedChild(podiumChild('scheduler', ['--kubeconfig', schedulerKubeconfig, '--v', String(f.verbosity)], LEAN), supervisorLog);
      components.push(scheduler);
      scheduler.start();
      say('scheduler', 'started', `pid ${scheduler.pid}`);
    }

    const agentMetrics = `127.0.0.1:${await freeLoopbackPort()}`;
    if (f.runtime === 'simulated') {
      // One agent process hosts every simulated node: they are cheap, and one pod watch serves them
      // all. Each node still acts as itself (system:node:<name>), so the Node authorizer applies.
      const nodeNames = Array.from({ length: f.nodes }, (_, i) => `sim-${i}`);
      const credentialsDir = await nodeCredentials(pki, nodeNames);
      const agentKubeconfig = await componentKubeconfig(pki, server, join(dataDir, 'agent.kubeconfig'), `system:node:${nodeNames[0]}`, ['system:nodes']);
      const agent = new SupervisedChild(
        podiumChild('agent', ['--kubeconfig', agentKubeconfig, '--node-credentials-dir', credentialsDir, '--runtime', 'simulated', '--nodes', String(f.nodes), '--metrics-bind-address', agentMetrics, '--v', String(f.verbosity)], LEAN),
        supervisorLog,
      );
      components.push(agent);
      agent.start();
      say('agent', 'started', `pid ${agent.pid}, ${f.nodes} simulated node${f.nodes === 1 ? '' : 's'} (${nodeNames.length > 1 ? `${nodeNames[0]}..${nodeNames.at(-1)}` : nodeNames[0]}), metrics http://${agentMetrics}/metrics`);
    } else if (f.runtime === 'docker') {
      // One node: this host's Docker. It acts as system:node:<name>; its endpoint's certificate
      // comes from the cluster CA, whose holders alone (the API server) may call it.
      const nodeName = defaultNodeName();
      const agentKubeconfig = await componentKubeconfig(pki, server, join(dataDir, 'agent.kubeconfig'), `system:node:${nodeName}`, ['system:nodes']);
      const serving = await issueServingCertificate(pki.files.dir, nodeName, [nodeName, '127.0.0.1', 'localhost']);
      const servingCert = join(pki.files.dir, 'agent-serving.crt');
      const servingKey = join(pki.files.dir, 'agent-serving.key');
      await writeFile(servingCert, serving.certPem, { mode: 0o600 });
      await writeFile(servingKey, serving.keyPem, { mode: 0o600 });
      const agent = new SupervisedChild(
        podiumChild('agent', [
          '--kubeconfig', agentKubeconfig, '--runtime', 'docker', '--node-name', nodeName, '--data-dir', join(dataDir, 'agent'),
          '--tls-cert-file', servingCert, '--tls-private-key-file', servingKey, '--client-ca-file', pki.files.caCert,
          '--pod-subnet', DOCKER_POD_SUBNET, '--ingress-port', String(f.ingressPort ?? 80), '--metrics-bind-address', agentMetrics, '--v', String(f.verbosity),
        ]),
        supervisorLog,
      );
      components.push(agent);
      agent.start();
      say('agent', 'started', `pid ${agent.pid}, node ${nodeName} (docker, pods on ${DOCKER_POD_SUBNET}, ingress on port ${f.ingressPort ?? 80}), metrics http://${agentMetrics}/metrics`);
    }

    log.info('podium is ready', { kubeconfig: kubeconfigPath, server });
    process.stdout.write(`kubeconfig: ${kubeconfigPath}\n`);
    process.stdout.write(`podium is ready: export KUBECONFIG=${kubeconfigPath}\n`);
  } catch (err) {
    if (!aborted.signal.aborted) {
      log.error('podium up failed', { error: (err as Error).message });
      await stopAll();
      return 1;
    }
    // A signal interrupted startup; the shutdown it started finishes below.
  }
  await new Promise<void>((resolve) => {
    aborted.signal.addEventListener('abort', () => resolve(), { once: true });
    if (aborted.signal.aborted) resolve();
  });
  await stopAll();
  log.info('podium stopped');
  return 0;
}

/**
 * V8 flags for the components that do little work between bursts (controllers, scheduler):
 * smaller heap growth steps. Measured with 30 pods running (bench/pod-startup's idle figures):
 * every component together 312-322 MB without, 297-298 MB with it on every component. The API
 * server (throughput, bench/api) and the Docker node agent (pod start-up latency, which was
 * slower with it) keep V8's defaults.
 */
const LEAN = ['--optimize-for-size'];

/** The Docker node's pod network, and the node's own address on it (Docker's gateway: the first host). */
const DOCKER_POD_SUBNET = '10.244.0.0/16';
const DOCKER_NODE_ADDRESS = '10.244.0.1';

const BOOKKEEPING_CONTROLLERS = 'namespace,serviceaccount,root-ca-cert-publisher,clusterrole-aggregation,garbage-collector,csrsigning';

/** Writes a kubeconfig for one component's own identity (a client certificate from the cluster CA). */
async function componentKubeconfig(pki: Pki, server: string, path: string, user: string, groups: string[]): Promise<string> {
  const cert = await issueClientCertificate(pki.files.dir, user, groups);
  await writeKubeconfig(path, buildKubeconfig({ server, caCertPem: pki.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, userName: user }));
  return path;
}

/** A client certificate from the cluster CA written next to it as NAME.crt/NAME.key. */
async function writeClientCertificate(pki: Pki, name: string, user: string, groups: string[]): Promise<{ cert: string; key: string }> {
  const issued = await issueClientCertificate(pki.files.dir, user, groups);
  const files = { cert: join(pki.files.dir, `${name}.crt`), key: join(pki.files.dir, `${name}.key`) };
  await writeFile(files.cert, issued.certPem, { mode: 0o600 });
  await writeFile(files.key, issued.keyPem, { mode: 0o600 });
  return files;
}

/** `<node>.crt`/`<node>.key` per simulated node, for the agent's --node-credentials-dir. */
async function nodeCredentials(pki: Pki, nodeNames: string[]): Promise<string> {
  const dir = join(pki.files.dir, 'nodes');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of nodeNames) {
    const cert = await issueClientCertificate(pki.files.dir, `system:node:${name}`, ['system:nodes']);
    await writeFile(join(dir, `${name}.crt`), cert.certPem, { mode: 0o600 });
    await writeFile(join(dir, `${name}.key`), cert.keyPem, { mode: 0o600 });
  }
  return dir;
}

/** A child running this same program, e.g. `node dist/cmd/podium.js apiserver ...`. */
export function podiumChild(subcommand: string, args: string[], extraNodeFlags: string[] = []): ChildSpec {
  const entry = fileURLToPath(new URL('./podium.js', import.meta.url));
  // Keep flags such as --enable-source-maps, but never a second inspector on the same port.
  const nodeFlags = process.execArgv.filter((a) => !a.startsWith('--inspect'));
  return { name: subcommand, command: process.execPath, args: [...nodeFlags, ...extraNodeFlags, entry, subcommand, ...args], output: 'inherit', onStarted: sayRestarted(subcommand) };
}

/** A readable line when the supervisor brings a crashed component back (the first start has its own). */
export function sayRestarted(component: string): (pid: number, restarts: number) => void {
  return (pid, restarts) => {
    if (restarts > 0) say(component, 'restarted', `pid ${pid} (restart ${restarts})`);
  };
}

function noteUnimplementedFlags(f: UpFlags): void {
  if (f.runtime === 'none') log.info('--runtime none: the API server and the bookkeeping controllers (no workload controllers, scheduler or node agent)');
  if (f.nodes !== 1 && f.runtime !== 'simulated') log.info('--nodes only applies to --runtime simulated', { nodes: f.nodes });
  if (f.ingressPort !== undefined && f.runtime !== 'docker') log.info('--ingress-port only applies to --runtime docker', { ingressPort: f.ingressPort });
}

// Checked before starting anything: a taken port would otherwise become a crash-looping API server.
function ensurePortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `port ${port} on 127.0.0.1 is already in use (choose another with --port)` : err.message)),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

async function waitForReadyz(port: number, pki: Pki, signal: AbortSignal): Promise<void> {
  const tls = {
    ca: pki.caCertPem,
    cert: pki.adminCertPem,
    key: pki.adminKeyPem,
  };
  const started = Date.now();
  let nextReport = started + 30_000;
  let last = '';
  for (;;) {
    signal.throwIfAborted();
    last = await probeReadyz(port, tls).catch((err: Error) => err.message);
    if (last === 'ok') return;
    log.v(2, 'api server not ready yet', { answer: last });
    if (Date.now() >= nextReport) {
      log.warn('still waiting for the api server to become ready', { waitedSeconds: Math.round((Date.now() - started) / 1000), lastAnswer: last });
      nextReport += 30_000;
    }
    await sleep(250);
  }
}

function probeReadyz(port: number, tls: { ca: string; cert: string; key: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', method: 'GET', agent: false, timeout: 2000, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : `HTTP ${res.statusCode}: ${body.trim().slice(0, 200)}`));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * One `up` per data directory: two would share the PKI, the kubeconfig and, worse, the
 * Redis AOF. The pid file also tells the next start whether a leftover Redis is an orphan.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = join(dataDir, 'podium.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return async () => {
        const owner = await readFile(lockFile, 'utf8').catch(() => '');
        if (owner.trim() === String(process.pid)) await rm(lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && isPodium(pid)) {
        throw new Error(`${dataDir} is in use by another podium (pid ${pid}); stop it first or choose another --data-dir`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isPodium(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('podium');
  } catch {
    return true; // alive and not inspectable (not Linux): assume it is ours rather than risk sharing the AOF
  }
}
