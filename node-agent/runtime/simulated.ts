// The simulated runtime (like KWOK): no containers, only their life cycle on timers. A
// container starts at once; under restartPolicy Never/OnFailure (and always for init
// containers) it exits after the pod annotation `podium.io/simulate-duration` seconds
// (default 1) with `podium.io/simulate-exit-code` (default 0). Under Always, regular
// containers run until killed. Pod IPs come from the node's pod CIDR, which is never routed.
import { createHash, randomBytes } from 'node:crypto';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { computePodActions, restartPolicy, UPSTREAM_BACKOFF, type BackoffPolicy, type StartAction } from './pod-actions.js';
import type { RuntimeContainerStatus, Runtime, RuntimePod, RuntimePodStatus } from './types.js';

export const DURATION_ANNOTATION = 'podium.io/simulate-duration';
export const EXIT_CODE_ANNOTATION = 'podium.io/simulate-exit-code';
export const TERMINATION_ANNOTATION = 'podium.io/simulate-termination-seconds';
const DEFAULT_TERMINATION_SECONDS = 5;

export interface SimulatedRuntimeOptions {
  /** The node's pod CIDR, a /24 such as 10.128.0.0/24: pods get .2 to .254. */
  podCIDR: string;
  backoff?: BackoffPolicy;
}

interface SimPod {
  uid: string;
  namespace: string;
  name: string;
  ip: string;
  containers: Map<string, RuntimeContainerStatus>;
  timers: Set<NodeJS.Timeout>;
  wakeAt?: number;
}

const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const imageIDs = new Map<string, string>();

function imageID(image: string): string {
  let id = imageIDs.get(image);
  if (!id) {
    id = `sha256:${createHash('sha256').update(image).digest('hex')}`;
    imageIDs.set(image, id);
  }
  return id;
}

/** Seconds and exit code a simulated container runs for, from the pod's annotations. */
export function simulatedExit(pod: Pod): { durationMs: number; exitCode: number } {
  const a = pod.metadata?.annotations ?? {};
  const d = Number(a[DURATION_ANNOTATION] ?? '1');
  const e = Number(a[EXIT_CODE_ANNOTATION] ?? '0');
  return {
    durationMs: Number.isFinite(d) && d >= 0 ? d * 1000 : 1000,
    exitCode: Number.isInteger(e) && e >= 0 && e <= 255 ? e : 0,
  };
}

export class SimulatedRuntime implements Runtime {
  readonly name = 'simulated';
  readonly version = '1.0';
  private readonly pods = new Map<string, SimPod>();
  private readonly listeners: ((uid: string) => void)[] = [];
  private readonly prefix: string;
  private readonly usedIPs = new Set<number>();
  private nextHost = 2;
  private readonly backoff: BackoffPolicy;

  constructor(opts: SimulatedRuntimeOptions) {
    this.prefix = opts.podCIDR.split('/')[0].split('.').slice(0, 3).join('.');
    this.backoff = opts.backoff ?? UPSTREAM_BACKOFF;
  }

  onPodEvent(listener: (uid: string) => void): void {
    this.listeners.push(listener);
  }

  async syncPod(pod: Pod): Promise<RuntimePodStatus> {
    const uid = pod.metadata?.uid ?? '';
    let rec = this.pods.get(uid);
    if (!rec) {
      rec = { uid, namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', ip: '', containers: new Map(), timers: new Set() };
      this.adopt(rec, pod);
      if (!rec.ip) rec.ip = this.allocateIP();
      this.pods.set(uid, rec);
    }
    const now = Date.now();
    const actions = computePodActions(pod, [...rec.containers.values()], now, this.backoff);
    for (const a of actions.start) this.start(rec, pod, a, now);
    for (const b of actions.backoff) {
      const s = rec.containers.get(`${b.kind}/${b.name}`);
      if (s) {
        s.waiting = {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${b.name} pod=${rec.name}_${rec.namespace}(${uid})`,
        };
      }
      this.wakeAt(rec, b.untilMs);
    }
    return this.snapshot(rec);
  }

  /**
   * Running containers take `podium.io/simulate-termination-seconds` (default 5, at most the grace
   * period) to stop, so a deletion is observable as a terminating pod the way a real process that
   * handles SIGTERM slowly is; a kill with no grace is immediate.
   */
  async killPod(pod: Pod, gracePeriodSeconds = 0): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const rec = this.pods.get(uid);
    if (!rec) return;
    const running = [...rec.containers.values()].some((c) => c.state === 'running');
    const wanted = Number(pod.metadata?.annotations?.[TERMINATION_ANNOTATION] ?? DEFAULT_TERMINATION_SECONDS);
    const seconds = Math.min(gracePeriodSeconds, Number.isFinite(wanted) && wanted >= 0 ? wanted : DEFAULT_TERMINATION_SECONDS);
    if (running && seconds > 0) await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    if (!this.pods.has(uid)) return;
    for (const t of rec.timers) clearTimeout(t);
    this.pods.delete(uid);
    this.releaseIP(rec.ip);
  }

  podStatus(uid: string): RuntimePodStatus | undefined {
    const rec = this.pods.get(uid);
    return rec && this.snapshot(rec);
  }

  async listPods(): Promise<RuntimePod[]> {
    return [...this.pods.values()].map((p) => ({
      uid: p.uid,
      namespace: p.namespace,
      name: p.name,
      containers: [...p.containers.values()].map((c) => ({ name: c.name, containerID: c.containerID, state: c.state })),
    }));
  }

  async close(): Promise<void> {
    for (const p of this.pods.values()) for (const t of p.timers) clearTimeout(t);
    this.pods.clear();
  }

  get podCount(): number {
    return this.pods.size;
  }

  private start(rec: SimPod, pod: Pod, a: StartAction, now: number): void {
    const key = `${a.kind}/${a.name}`;
    const prev = rec.containers.get(key);
    const image = a.container.image ?? '';
    const s: RuntimeContainerStatus = {
      name: a.name,
      kind: a.kind,
      state: 'running',
      containerID: `simulated://${randomBytes(32).toString('hex')}`,
      image,
      imageID: imageID(image),
      startedAt: rfc3339(now),
      restartCount: prev ? prev.restartCount + 1 : 0,
      last: prev?.state === 'exited'
        ? { exitCode: prev.exitCode ?? 0, reason: prev.reason ?? 'Completed', startedAt: prev.startedAt, finishedAt: prev.finishedAt, containerID: prev.containerID }
        : prev?.last,
    };
    rec.containers.set(key, s);
    if (this.exits(pod, a.kind, a.container.restartPolicy)) this.scheduleExit(rec, s, simulatedExit(pod), now);
  }

  /** Init containers always run to completion; regular ones only outside restartPolicy Always. */
  private exits(pod: Pod, kind: 'init' | 'regular', containerRestartPolicy: string | undefined): boolean {
    if (kind === 'init') return containerRestartPolicy !== 'Always';
    return restartPolicy(pod) !== 'Always';
  }

  private scheduleExit(rec: SimPod, s: RuntimeContainerStatus, exit: { durationMs: number; exitCode: number }, startedMs: number): void {
    const timer = setTimeout(() => {
      rec.timers.delete(timer);
      if (this.pods.get(rec.uid) !== rec || rec.containers.get(`${s.kind}/${s.name}`) !== s) return;
      s.state = 'exited';
      s.exitCode = exit.exitCode;
      s.reason = exit.exitCode === 0 ? 'Completed' : 'Error';
      s.finishedAt = rfc3339(Date.now());
      this.emit(rec.uid);
    }, Math.max(0, startedMs + exit.durationMs - Date.now()));
    rec.timers.add(timer);
  }

  /** One wake-up per pod for the earliest back-off expiry; later ones come from the next sync. */
  private wakeAt(rec: SimPod, atMs: number): void {
    if (rec.wakeAt !== undefined && rec.wakeAt <= atMs && rec.wakeAt > Date.now()) return;
    rec.wakeAt = atMs;
    const timer = setTimeout(() => {
      rec.timers.delete(timer);
      rec.wakeAt = undefined;
      if (this.pods.get(rec.uid) === rec) this.emit(rec.uid);
    }, Math.max(0, atMs - Date.now()));
    rec.timers.add(timer);
  }

  private emit(uid: string): void {
    for (const l of this.listeners) l(uid);
  }

  /**
   * After an agent restart the simulated containers are gone with the old process; the pod's
   * last reported status says what ran. Taking it over keeps IPs, start times and restart
   * counts, instead of "restarting" every pod of the node.
   */
  private adopt(rec: SimPod, pod: Pod): void {
    const ip = pod.status?.podIP;
    if (ip?.startsWith(`${this.prefix}.`)) {
      const host = Number(ip.split('.')[3]);
      if (!this.usedIPs.has(host)) {
        this.usedIPs.add(host);
        rec.ip = ip;
      }
    }
    const exit = simulatedExit(pod);
    const seed = (kind: 'init' | 'regular', list: readonly ContainerStatus[] | undefined): void => {
      for (const cs of list ?? []) {
        if (!cs.containerID?.startsWith('simulated://')) continue;
        const spec = (kind === 'init' ? pod.spec?.initContainers : pod.spec?.containers)?.find((c) => c.name === cs.name);
        if (!spec) continue;
        const base = { name: cs.name, kind, containerID: cs.containerID, image: cs.image, imageID: cs.imageID, restartCount: cs.restartCount };
        if (cs.state?.running) {
          const s: RuntimeContainerStatus = { ...base, state: 'running', startedAt: cs.state.running.startedAt };
          rec.containers.set(`${kind}/${cs.name}`, s);
          if (this.exits(pod, kind, spec.restartPolicy)) this.scheduleExit(rec, s, exit, Date.parse(cs.state.running.startedAt ?? '') || Date.now());
        } else if (cs.state?.terminated) {
          const t = cs.state.terminated;
          rec.containers.set(`${kind}/${cs.name}`, { ...base, state: 'exited', exitCode: t.exitCode, reason: t.reason, startedAt: t.startedAt, finishedAt: t.finishedAt });
        }
      }
    };
    seed('init', pod.status?.initContainerStatuses);
    seed('regular', pod.status?.containerStatuses);
  }

  private allocateIP(): string {
    for (let i = 0; i < 253; i++) {
      const host = this.nextHost;
      this.nextHost = host >= 254 ? 2 : host + 1;
      if (!this.usedIPs.has(host)) {
        this.usedIPs.add(host);
        return `${this.prefix}.${host}`;
      }
    }
    throw new Error(`no free pod IP in ${this.prefix}.0/24`);
  }

  private releaseIP(ip: string): void {
    if (ip.startsWith(`${this.prefix}.`)) this.usedIPs.delete(Number(ip.split('.')[3]));
  }

  private snapshot(rec: SimPod): RuntimePodStatus {
    return {
      uid: rec.uid,
      namespace: rec.namespace,
      name: rec.name,
      sandboxReady: true,
      ips: [rec.ip],
      containers: [...rec.containers.values()].map((c) => ({ ...c })),
    };
  }
}
