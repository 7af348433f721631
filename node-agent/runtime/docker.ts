// The Docker runtime (dockerode): a pause sandbox per pod on the podium bridge network, containers
// joining its namespaces, volumes bind-mounted from the agent's data directory, restarts decided by
// pod-actions.ts. Docker is the source of truth: every sync reads the pod's containers back by
// label, so a restarted agent adopts what runs and restart counts survive in labels. Pieces with
// their own concern live under ./docker/.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../../apimachinery/log.js';
import type { EnvResolver } from './env.js';
import { computePodActions, UPSTREAM_BACKOFF, type BackoffPolicy, type StartAction } from './pod-actions.js';
import type { ContainerKind, ContainerRef, LogOptions, RuntimeEvent, NodeAndPodStats, Runtime, RuntimeContainerStatus, RuntimePod, RuntimePodStatus, StreamIO, VolumeSources } from './types.js';
import { observe, stateOf, toRuntimeStatus, type Observed } from './docker/container-status.js';
import { runExec } from './docker/exec.js';
import { runHook } from './docker/hooks.js';
import { startContainer, type StartContext, type StartState } from './docker/start-container.js';
import { hostsFileContent } from './docker/hosts-file.js';
import { podResolvConf } from '../dns/resolv-conf.js';
import { reportedImageID } from './docker/images.js';
import { CONTAINER_NAME_LABEL, containerHash, MANAGED_LABEL, NODE_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, SANDBOX_CONTAINER_NAME, type PodIdentity } from './docker/labels.js';
import { ensurePodNetwork } from './docker/network.js';
import { ensurePauseImage, PAUSE_IMAGE } from './docker/pause-image.js';
import { createSandbox, sandboxIP } from './docker/sandbox.js';
import { ContainerEvents } from './docker/events.js';
import { runAttach } from './docker/attach.js';
import { containerLogs } from './docker/logs.js';
import { forwardToPod } from './docker/port-forward.js';
import { NodeUsage, podUsage } from './docker/stats.js';
import { ensureMemoryVolumes, podDir, setUpVolumes, tearDownVolumes, VolumeSetupError, type VolumeMount } from './docker/volumes.js';

const log = logger('docker-runtime');

export interface DockerRuntimeOptions {
  /** The agent's data directory: pod volumes and hosts files go under DATA/pods/<uid>. */
  dataDir: string;
  /** A client, or how to reach dockerd (default: the local socket). */
  docker?: Docker | Docker.DockerOptions;
  /** The pod bridge network (default `podium`) and its IPv4 subnet (e.g. 10.244.0.0/16). */
  network?: string;
  subnet?: string;
  clusterDomain?: string;
  /** status.hostIP for env and for hostNetwork pods. */
  hostIP?: string;
  backoff?: BackoffPolicy;
  /** Back-off between image pull attempts (upstream: 10 s doubling to 5 min). */
  imageBackoff?: BackoffPolicy;
  /** Looks up what env resolution needs (config maps, secrets, services) before containers start. */
  envResolver?: (pod: Pod) => Promise<EnvResolver> | EnvResolver;
  pauseImage?: string;
  /**
   * Cluster DNS for pods' resolv.conf (kubelet's --cluster-dns and --resolv-conf); without it
   * containers keep the resolv.conf Docker gives them.
   */
  clusterDNS?: { servers: string[]; hostResolvConf: string };
  /** Called after a pod sandbox joined the bridge (the service proxy puts its port in hairpin mode). */
  onSandboxStarted?: () => Promise<void>;
  /**
   * Kubelet events as they happen (Pulling, Pulled, Created, Started, Killing, BackOff, Failed,
   * FailedMount): node-agent/events.ts records them. Called synchronously; must not throw.
   */
  onEvent?: (e: RuntimeEvent) => void;
  /**
   * The node this runtime serves: set as a label on everything it creates, and listPods (the
   * agent's orphan clean-up) then sees only containers with that label.
   */
  nodeName?: string;
}

interface PodRecord extends StartState {
  snapshot?: RuntimePodStatus;
  wake?: { atMs: number; timer: NodeJS.Timeout };
}

const identity = (pod: Pod): PodIdentity => ({ uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '' });
const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const isNotFound = (err: unknown): boolean => (err as { statusCode?: number }).statusCode === 404;

export class DockerRuntime implements Runtime {
  readonly name = 'docker';
  private readonly pods = new Map<string, PodRecord>();
  private readonly listeners: ((uid: string) => void)[] = [];
  private readonly imageIDs = new Map<string, string>();
  private readonly nodeUsage = new NodeUsage();
  private readonly networkName: string;
  private readonly backoff: BackoffPolicy;
  private readonly imageBackoff: BackoffPolicy;
  private readonly events: ContainerEvents;

  private constructor(
    readonly docker: Docker,
    readonly version: string,
    private readonly o: DockerRuntimeOptions,
  ) {
    this.networkName = o.network ?? 'podium';
    this.backoff = o.backoff ?? UPSTREAM_BACKOFF;
    this.imageBackoff = o.imageBackoff ?? UPSTREAM_BACKOFF;
    // Only pods this instance syncs matter; others are adopted by their first sync.
    this.events = new ContainerEvents(docker, (uid) => {
      if (this.pods.has(uid)) this.emit(uid);
    });
  }

  /** Connects to Docker, creates the pod network and starts following container events. */
  static async create(o: DockerRuntimeOptions): Promise<DockerRuntime> {
    const docker = o.docker instanceof Docker ? o.docker : new Docker(o.docker);
    const v = await docker.version();
    const rt = new DockerRuntime(docker, v.Version, o);
    await ensurePodNetwork(docker, { name: rt.networkName, subnet: o.subnet });
    await fs.mkdir(path.join(o.dataDir, 'pods'), { recursive: true });
    await rt.events.start();
    return rt;
  }

  onPodEvent(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  podStatus(uid: string): RuntimePodStatus | undefined {
    const s = this.pods.get(uid)?.snapshot;
    return s && { ...s, containers: s.containers.map((c) => ({ ...c })) };
  }

  // ------------------------------------------------------------------------------------------
  // syncPod

  async syncPod(pod: Pod, pendingVolumes?: VolumeSources | Promise<VolumeSources>): Promise<RuntimePodStatus> {
    const id = identity(pod);
    const rec = this.record(id.uid);
    let all = await this.inspectPod(id.uid);

    const sandbox = await this.ensureSandbox(pod, id, all);
    // A new pod's first sandbox is all it has: no need to ask Docker again.
    if (sandbox.recreated) all = all.length === 0 ? [observe(sandbox.info)] : await this.inspectPod(id.uid);
    const hostNetwork = pod.spec?.hostNetwork === true;
    const podIP = hostNetwork ? (this.o.hostIP ?? '') : sandboxIP(sandbox.info, this.networkName);
    const hostsFile = hostNetwork ? undefined : await this.writeHostsFile(pod, id.uid, podIP);
    const resolvConf = await this.writeResolvConf(pod, id.uid);

    let mounts: Map<string, VolumeMount> | undefined;
    let volumeError: string | undefined;
    const volumes = await pendingVolumes;
    try {
      mounts = await setUpVolumes(pod, { dataDir: this.o.dataDir, docker: this.docker, identity: id, sources: volumes, podIP });
    } catch (err) {
      volumeError = errorMessage(err);
      this.event({ pod, type: 'Warning', reason: 'FailedMount', message: volumeError });
      if (!(err instanceof VolumeSetupError)) log.warn('volume set-up failed', { pod: `${id.namespace}/${id.name}`, err: volumeError });
    }

    // Upstream restarts a running container whose spec changed (a new image) whatever the
    // restart policy, without back-off.
    const changed = await this.stopChangedContainers(pod, all);
    if (changed.length) all = await this.inspectPod(id.uid);

    let statuses = await this.containerStatuses(pod, all);
    if (mounts) {
      const now = Date.now();
      // Containers from before the current sandbox ran in a network namespace that is gone:
      // upstream starts the pod over (init containers first) when its sandbox changed.
      const sandboxCreated = Date.parse(sandbox.info.Created);
      const stale = new Set(all.filter((o) => o.kind !== 'sandbox' && Date.parse(o.info.Created) < sandboxCreated).map((o) => `docker://${o.id}`));
      const actions = computePodActions(pod, statuses.filter((s) => !stale.has(s.containerID)), now, this.backoff);
      for (const a of changed) {
        actions.backoff = actions.backoff.filter((b) => b.kind !== a.kind || b.name !== a.name);
        if (!actions.start.some((s) => s.kind === a.kind && s.name === a.name)) actions.start.push(a);
      }
      for (const b of actions.backoff) {
        const s = statuses.find((x) => x.kind === b.kind && x.name === b.name);
        this.event({ pod, container: { name: b.name, kind: b.kind }, type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${b.name} in pod ${id.name}_${id.namespace}(${id.uid})` });
        if (s) s.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${b.name} pod=${id.name}_${id.namespace}(${id.uid})` };
        this.wakeAt(id.uid, rec, b.untilMs);
      }
      if (actions.start.length) {
        let resolver: EnvResolver | undefined;
        try {
          resolver = (await this.o.envResolver?.(pod)) ?? {};
        } catch (err) {
          for (const a of actions.start) rec.waiting.set(`${a.kind}/${a.name}`, { reason: 'CreateContainerConfigError', message: errorMessage(err) });
        }
        if (resolver) {
          const ctx: StartContext = {
            docker: this.docker,
            pod,
            id,
            state: rec,
            sandboxID: sandbox.info.Id,
            podIP,
            hostIP: this.o.hostIP,
            hostsFile,
            resolvConf,
            mounts,
            resolver,
            statuses,
            imageBackoff: this.imageBackoff,
            labels: this.nodeLabels(),
            wakeAt: (ms) => this.wakeAt(id.uid, rec, ms),
          };
          for (const a of actions.start) {
            await startContainer({ ...ctx, event: (type, reason, message) => this.event({ pod, container: { name: a.name, kind: a.kind }, type, reason, message }) }, a);
          }
          all = await this.inspectPod(id.uid);
          const fresh = await this.containerStatuses(pod, all);
          // Back-off messages computed above still describe the containers that did not start.
          for (const s of fresh) s.waiting ??= statuses.find((x) => x.kind === s.kind && x.name === s.name && x.containerID === s.containerID)?.waiting;
          statuses = fresh;
        }
      }
    } else {
      for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
        const kind = (pod.spec?.initContainers ?? []).includes(c) ? 'init' : 'regular';
        if (!statuses.some((s) => s.kind === kind && s.name === c.name)) rec.waiting.set(`${kind}/${c.name}`, { reason: 'ContainerCreating', message: volumeError });
      }
    }

    rec.snapshot = this.snapshot(pod, id, rec, statuses, podIP, true);
    return this.podStatus(id.uid)!;
  }

  private record(uid: string): PodRecord {
    let r = this.pods.get(uid);
    if (!r) {
      r = { waiting: new Map(), pullBackoff: new Map() };
      this.pods.set(uid, r);
    }
    return r;
  }

  /** The pod's Docker containers (sandboxes included), inspected. */
  private async inspectPod(uid: string): Promise<Observed[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${MANAGED_LABEL}=true`, `${POD_UID_LABEL}=${uid}`] } });
    const out: Observed[] = [];
    for (const c of list) {
      try {
        out.push(observe(await this.docker.getContainer(c.Id).inspect()));
      } catch (err) {
        if (!isNotFound(err)) throw err; // removed between list and inspect
      }
    }
    return out.sort((a, b) => b.attempt - a.attempt);
  }

  /**
   * A running sandbox, created if missing. When the sandbox died (Docker restarted, someone killed
   * it) upstream starts over: the pod's containers are stopped and a new sandbox attempt is made.
   */
  private async ensureSandbox(pod: Pod, id: PodIdentity, all: Observed[]): Promise<{ info: Docker.ContainerInspectInfo; recreated: boolean }> {
    const sandboxes = all.filter((o) => o.kind === 'sandbox');
    const current = sandboxes[0];
    if (current && stateOf(current) === 'running') return { info: current.info, recreated: false };
    for (const o of all) {
      if (o.kind !== 'sandbox' && stateOf(o) === 'running') await this.docker.getContainer(o.id).stop({ t: 0 }).catch(() => undefined);
    }
    for (const s of sandboxes) await this.docker.getContainer(s.id).remove({ force: true }).catch(() => undefined);
    const image = this.o.pauseImage ?? PAUSE_IMAGE;
    if (image === PAUSE_IMAGE) await ensurePauseImage(this.docker, image);
    const sid = await createSandbox(this.docker, pod, id, current ? current.attempt + 1 : 0, {
      image,
      network: this.networkName,
      clusterDomain: this.o.clusterDomain ?? 'cluster.local',
      labels: this.nodeLabels(),
      memoryVolumes: await ensureMemoryVolumes(this.docker, pod, id),
    });
    if (pod.spec?.hostNetwork !== true) await this.o.onSandboxStarted?.().catch((err: Error) => log.warn('sandbox start hook failed', { pod: `${id.namespace}/${id.name}`, error: err.message }));
    return { info: await this.docker.getContainer(sid).inspect(), recreated: true };
  }

  /** Stops running containers whose spec hash differs from the pod's; returns them to start again. */
  private async stopChangedContainers(pod: Pod, all: Observed[]): Promise<StartAction[]> {
    const out: StartAction[] = [];
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    for (const [kind, list] of [['init', pod.spec?.initContainers ?? []], ['regular', pod.spec?.containers ?? []]] as const) {
      for (const c of list) {
        const cur = all.find((o) => o.kind === kind && o.name === c.name);
        if (!cur?.hash || stateOf(cur) !== 'running' || cur.hash === containerHash(c)) continue;
        log.info('container spec changed; restarting', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, container: c.name });
        await this.docker.getContainer(cur.id).stop({ t: grace }).catch(() => undefined);
        out.push({ name: c.name, kind, container: c });
      }
    }
    return out;
  }

  /** DATA/pods/<uid>/etc-hosts, rewritten in place (a rename would detach the bind mounts). */
  private async writeHostsFile(pod: Pod, uid: string, podIP: string): Promise<string> {
    const file = path.join(podDir(this.o.dataDir, uid), 'etc-hosts');
    const content = hostsFileContent(pod, podIP ? [podIP] : [], this.o.clusterDomain ?? 'cluster.local');
    const old = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (old !== content) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content, { mode: 0o644 });
    }
    return file;
  }

  /** DATA/pods/<uid>/resolv.conf for the pod's dnsPolicy (kubelet's), rewritten in place; undefined keeps Docker's. */
  private async writeResolvConf(pod: Pod, uid: string): Promise<string | undefined> {
    const dns = this.o.clusterDNS;
    if (!dns) return undefined;
    const content = podResolvConf(pod, { clusterDNS: dns.servers, clusterDomain: this.o.clusterDomain ?? 'cluster.local', hostResolvConf: dns.hostResolvConf });
    if (content === undefined) return undefined;
    const file = path.join(podDir(this.o.dataDir, uid), 'resolv.conf');
    const old = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (old !== content) {
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content, { mode: 0o644 });
    }
    return file;
  }

  /** The latest attempt of each container, with the one before as `last`; older attempts go away. */
  private async containerStatuses(pod: Pod, all: Observed[]): Promise<RuntimeContainerStatus[]> {
    const groups = new Map<string, Observed[]>();
    for (const o of all) {
      if (o.kind === 'sandbox') continue;
      const key = `${o.kind}/${o.name}`;
      groups.set(key, [...(groups.get(key) ?? []), o]);
    }
    const out: RuntimeContainerStatus[] = [];
    // Spec order (init containers first), so statuses read like the pod.
    const order = [...(pod.spec?.initContainers ?? []).map((c) => `init/${c.name}`), ...(pod.spec?.containers ?? []).map((c) => `regular/${c.name}`)];
    const rank = (k: string): number => (order.indexOf(k) + 1 || order.length + 1);
    for (const [, list] of [...groups].sort(([a], [b]) => rank(a) - rank(b))) {
      const [cur, prev, ...older] = list; // sorted by attempt, newest first
      // Upstream keeps one dead container per name for `logs --previous`; the rest is garbage.
      for (const o of older) if (stateOf(o) !== 'running') void this.docker.getContainer(o.id).remove({ force: true }).catch(() => undefined);
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === cur.name);
      out.push(toRuntimeStatus(cur, prev, spec?.image ?? cur.info.Config.Image, await this.imageID(cur.info.Image)));
    }
    return out;
  }

  private async imageID(id: string): Promise<string> {
    let v = this.imageIDs.get(id);
    if (!v) {
      const info = await this.docker.getImage(id).inspect().catch(() => undefined);
      v = reportedImageID(info, id);
      this.imageIDs.set(id, v);
    }
    return v;
  }

  private snapshot(pod: Pod, id: PodIdentity, rec: PodRecord, statuses: RuntimeContainerStatus[], podIP: string, sandboxReady: boolean): RuntimePodStatus {
    const containers = statuses.map((s) => ({ ...s }));
    for (const [key, w] of rec.waiting) {
      const [kind, name] = key.split('/') as ['init' | 'regular', string];
      const s = containers.find((x) => x.kind === kind && x.name === name);
      if (s) {
        if (s.state === 'exited') s.waiting = w;
        continue;
      }
      const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
      containers.push({ name, kind, state: 'unknown', containerID: '', image: spec?.image ?? '', imageID: '', restartCount: 0, waiting: w });
    }
    return { uid: id.uid, namespace: id.namespace, name: id.name, sandboxReady, ips: podIP ? [podIP] : [], containers };
  }

  /** One wake-up per pod for the earliest back-off expiry (PLEG-like relist for timers). */
  private wakeAt(uid: string, rec: PodRecord, atMs: number): void {
    if (rec.wake && rec.wake.atMs <= atMs && rec.wake.atMs > Date.now()) return;
    if (rec.wake) clearTimeout(rec.wake.timer);
    const timer = setTimeout(() => {
      rec.wake = undefined;
      if (this.pods.get(uid) === rec) this.emit(uid);
    }, Math.max(0, atMs - Date.now()) + 50);
    timer.unref();
    rec.wake = { atMs, timer };
  }

  /** Best effort: a listener's failure never fails a sync. */
  private event(e: RuntimeEvent): void {
    try {
      this.o.onEvent?.(e);
    } catch (err) {
      log.v(2, 'event listener failed', { reason: e.reason, err: errorMessage(err) });
    }
  }

  private emit(uid: string): void {
    for (const l of this.listeners) l(uid);
  }

  // ------------------------------------------------------------------------------------------
  // killPod, listPods

  async killPod(pod: Pod, gracePeriodSeconds: number): Promise<void> {
    await this.stopContainers(pod, gracePeriodSeconds, true);
  }

  /** A finished pod: its sandbox goes, its exited containers stay (logs) until the pod is deleted. */
  async stopPod(pod: Pod): Promise<void> {
    await this.stopContainers(pod, 0, false);
  }

  /**
   * Stops the running container `containerName` (the newest attempt) with docker stop: the
   * image's stop signal, SIGKILL when the grace runs out. The container stays, exited with
   * Docker's code (137 after SIGKILL, 143 after a handled SIGTERM); the next syncPod restarts it
   * as the restart policy says, with restartCount + 1 and this run as lastState.
   */
  async killContainer(pod: Pod, containerName: string, gracePeriodSeconds: number, message: string): Promise<void> {
    const id = identity(pod);
    const cur = (await this.attempts({ podUid: id.uid, namespace: id.namespace, podName: id.name, container: containerName }))[0];
    if (!cur || stateOf(cur) !== 'running') return;
    log.info('killing container', { pod: `${id.namespace}/${id.name}`, container: containerName, reason: message });
    await this.docker.getContainer(cur.id).stop({ t: Math.max(0, Math.ceil(gracePeriodSeconds)) }).catch((err: unknown) => {
      if (!isNotFound(err) && (err as { statusCode?: number }).statusCode !== 304) throw err;
    });
  }

  private async stopContainers(pod: Pod, gracePeriodSeconds: number, remove: boolean): Promise<void> {
    const id = identity(pod);
    const rec = this.pods.get(id.uid);
    if (rec?.wake) clearTimeout(rec.wake.timer);
    const all = await this.inspectPod(id.uid);
    const deadline = Date.now() + Math.max(0, gracePeriodSeconds) * 1000;
    const podIP = rec?.snapshot?.ips[0] ?? '';
    const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    await Promise.all(
      all
        .filter((o) => o.kind !== 'sandbox' && stateOf(o) === 'running')
        .map(async (o) => {
          const spec = specs.find((c) => c.name === o.name);
          const kind: ContainerKind = o.kind === 'init' ? 'init' : 'regular';
          this.event({ pod, container: { name: o.name, kind }, type: 'Normal', reason: 'Killing', message: `Stopping container ${o.name}` });
          const preStop = spec?.lifecycle?.preStop;
          if (spec && preStop && deadline > Date.now()) {
            // The hook counts against the grace period, as upstream.
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([
              runHook(this.docker, o.id, spec, preStop, podIP, deadline - Date.now()).catch(() => undefined),
              new Promise((r) => (timer = setTimeout(r, deadline - Date.now()))),
            ]);
            clearTimeout(timer);
          }
          // docker stop: the image's stop signal (SIGTERM), SIGKILL when `t` runs out.
          const t = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
          await this.docker.getContainer(o.id).stop({ t }).catch(() => undefined);
        }),
    );
    for (const o of all.filter((x) => x.kind === 'sandbox')) await this.docker.getContainer(o.id).stop({ t: 2 }).catch(() => undefined);
    if (!remove) return;
    for (const o of all) await this.docker.getContainer(o.id).remove({ force: true }).catch(() => undefined);
    await tearDownVolumes(this.o.dataDir, this.docker, id.uid);
    this.pods.delete(id.uid);
  }

  private nodeLabels(): Record<string, string> | undefined {
    return this.o.nodeName ? { [NODE_LABEL]: this.o.nodeName } : undefined;
  }

  /** The pods with containers on this node (with a nodeName, only containers labelled with it). */
  async listPods(): Promise<RuntimePod[]> {
    const label = [`${MANAGED_LABEL}=true`, ...(this.o.nodeName ? [`${NODE_LABEL}=${this.o.nodeName}`] : [])];
    const list = await this.docker.listContainers({ all: true, filters: { label } });
    const pods = new Map<string, RuntimePod>();
    for (const c of list) {
      const l = c.Labels ?? {};
      const uid = l[POD_UID_LABEL];
      if (!uid) continue;
      let p = pods.get(uid);
      if (!p) {
        p = { uid, namespace: l[POD_NAMESPACE_LABEL] ?? '', name: l[POD_NAME_LABEL] ?? '', containers: [] };
        pods.set(uid, p);
      }
      if (l[CONTAINER_NAME_LABEL] === SANDBOX_CONTAINER_NAME) continue;
      const state = c.State === 'running' ? 'running' : c.State === 'exited' || c.State === 'dead' ? 'exited' : c.State === 'created' ? 'created' : 'unknown';
      p.containers.push({ name: l[CONTAINER_NAME_LABEL] ?? '', containerID: `docker://${c.Id}`, state });
    }
    return [...pods.values()];
  }

  // ------------------------------------------------------------------------------------------
  // Streaming: logs, exec, port-forward

  /** The containers of one pod container name, newest attempt first. */
  private async attempts(ref: ContainerRef): Promise<Observed[]> {
    const all = await this.inspectPod(ref.podUid);
    return all.filter((o) => o.kind !== 'sandbox' && o.name === ref.container);
  }

  async logs(ref: ContainerRef, opts: LogOptions): Promise<Readable> {
    const list = await this.attempts(ref);
    const target = opts.previous ? list[1] : list[0];
    if (!target) {
      throw new Error(
        opts.previous
          ? `previous terminated container "${ref.container}" in pod "${ref.podName}" not found`
          : `container "${ref.container}" in pod "${ref.podName}" is not available`,
      );
    }
    return containerLogs(this.docker, target.id, !!target.info.Config.Tty, opts);
  }

  async exec(ref: ContainerRef, cmd: string[], io: StreamIO): Promise<number> {
    const cur = (await this.attempts(ref))[0];
    if (!cur || stateOf(cur) !== 'running') throw new Error(`container "${ref.container}" in pod "${ref.podName}" is not running`);
    return runExec(this.docker, cur.id, cmd, io);
  }

  /** kubectl attach / run -i: the running container's own stdio, until it exits. */
  async attach(ref: ContainerRef, io: StreamIO): Promise<number> {
    const cur = (await this.attempts(ref))[0];
    if (!cur || stateOf(cur) !== 'running') throw new Error(`container "${ref.container}" in pod "${ref.podName}" is not running`);
    return runAttach(this.docker, cur.id, io);
  }

  /** Connects from the node to podIP:port (the bridge is reachable from the host) and pipes. */
  async portForward(pod: Pod, port: number, conn: Duplex): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    let ip = this.pods.get(uid)?.snapshot?.ips[0];
    if (!ip) {
      const sb = (await this.inspectPod(uid)).find((o) => o.kind === 'sandbox' && stateOf(o) === 'running');
      ip = sb ? sandboxIP(sb.info, this.networkName) : undefined;
    }
    if (!ip) throw new Error(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} has no sandbox`);
    return forwardToPod(ip, port, conn);
  }

  // ------------------------------------------------------------------------------------------
  // Stats

  async stats(): Promise<NodeAndPodStats> {
    const [node, pods] = await Promise.all([this.nodeUsage.sample(), podUsage(this.docker, `${MANAGED_LABEL}=true`, POD_UID_LABEL, CONTAINER_NAME_LABEL)]);
    return { node, pods };
  }

  async close(): Promise<void> {
    this.events.close();
    for (const r of this.pods.values()) if (r.wake) clearTimeout(r.wake.timer);
  }
}
