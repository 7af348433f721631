// The prober manager (upstream pkg/kubelet/prober): a worker per pod, container and probe
// (readiness, liveness, startup), ticking every periodSeconds. Results are kept per container
// id; a change that moves Ready/started asks the pod worker to resync, and a liveness or startup
// failure past its threshold kills the container so the runtime restarts it per restartPolicy.
import { Writable } from 'node:stream';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import { logger } from '../../apimachinery/log.js';
import { containerFieldPath, type PodEventSink } from '../events.js';
import type { Runtime, RuntimeContainerStatus, RuntimePodStatus } from '../runtime/types.js';
import { runProbe, type ProbeOutcome } from './handlers.js';
import { probeRan } from '../kubelet-metrics.js';
import { probeTiming, ProbeWorker, type ContainerView, type ProbeResult, type ProbeType } from './worker.js';

const log = logger('prober');
const TYPES: ProbeType[] = ['startup', 'readiness', 'liveness'];
const LABEL: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

export interface ProberOptions {
  /** Runs exec probes and kills unhealthy containers (exec and killContainer). */
  runtime: Pick<Runtime, 'exec' | 'killContainer'>;
  events?: PodEventSink;
}

/** What pod-status.ts needs to know about one container from its probes. */
export interface ContainerProbeState {
  started: boolean;
  ready: boolean;
}

interface Running {
  worker: ProbeWorker;
  timer: NodeJS.Timeout;
  busy: boolean;
}

interface PodEntry {
  pod: Pod;
  rt?: RuntimePodStatus;
  workers: Map<string, Running>;
}

/** Regular containers and restartable (sidecar) init containers: the ones upstream probes. */
function probedContainers(pod: Pod): { c: Container; kind: 'init' | 'regular' }[] {
  return [
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => ({ c, kind: 'init' as const })),
    ...(pod.spec?.containers ?? []).map((c) => ({ c, kind: 'regular' as const })),
  ];
}

const probeOf = (c: Container, type: ProbeType): Probe | undefined =>
  type === 'liveness' ? c.livenessProbe : type === 'readiness' ? c.readinessProbe : c.startupProbe;

export class ProberManager {
  private readonly pods = new Map<string, PodEntry>();
  /** By `containerID/type`. */
  private readonly results = new Map<string, ProbeResult>();

  /** Asks the pod's worker to sync again: readiness or started changed, or a container was killed. */
  private resync: (uid: string) => void = () => undefined;

  constructor(private readonly o: ProberOptions) {}

  /** The pod workers' hook (set by PodWorkers, which is built after the prober). */
  setResync(fn: (uid: string) => void): void {
    this.resync = fn;
  }

  /**
   * After each pod sync: starts the workers the pod needs (once) and gives them the runtime's
   * latest view of its containers.
   */
  syncPod(pod: Pod, rt: RuntimePodStatus | undefined): void {
    const uid = pod.metadata?.uid ?? '';
    let e = this.pods.get(uid);
    if (!e) {
      e = { pod, workers: new Map() };
      this.pods.set(uid, e);
    }
    e.pod = pod;
    if (rt) e.rt = rt;
    for (const { c, kind } of probedContainers(pod)) {
      for (const type of TYPES) {
        const probe = probeOf(c, type);
        const key = `${c.name}/${type}`;
        if (!probe || e.workers.has(key)) continue;
        e.workers.set(key, this.startWorker(uid, c, kind, type, probe));
      }
    }
  }

  /** The pod was removed or finished: its workers stop and its results go. */
  removePod(uid: string): void {
    const e = this.pods.get(uid);
    if (!e) return;
    for (const w of e.workers.values()) clearInterval(w.timer);
    for (const s of e.rt?.containers ?? []) for (const t of TYPES) this.results.delete(`${s.containerID}/${t}`);
    this.pods.delete(uid);
  }

  /** Started and ready for one container as its probes have it (upstream UpdatePodStatus). */
  containerState(pod: Pod, name: string, containerID: string): ContainerProbeState {
    const c = probedContainers(pod).find((x) => x.c.name === name)?.c;
    const started = !c?.startupProbe || this.results.get(`${containerID}/startup`) === 'success';
    const ready = started && (!c?.readinessProbe || this.results.get(`${containerID}/readiness`) === 'success');
    return { started, ready };
  }

  close(): void {
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
  }

  private startWorker(uid: string, c: Container, kind: 'init' | 'regular', type: ProbeType, probe: Probe): Running {
    const timing = probeTiming(probe);
    const fieldPath = containerFieldPath(c.name, kind);
    const entry = () => this.pods.get(uid);
    const worker = new ProbeWorker(type, timing, {
      run: async () => {
        const pod = entry()?.pod;
        const outcome = await this.probe(pod, c, probe, timing.timeoutSeconds * 1000);
        probeRan(type, outcome.result, c.name, pod);
        return outcome;
      },
      set: (containerID, result) => {
        const key = `${containerID}/${type}`;
        if (this.results.get(key) === result) return;
        this.results.set(key, result);
        // Readiness and startup feed the pod's conditions; liveness only matters through a kill.
        if (type !== 'liveness') this.resync(uid);
      },
      failed: (out: ProbeOutcome) => {
        const pod = entry()?.pod;
        if (!pod) return;
        const what = out.errored ? 'errored' : 'failed';
        this.o.events?.event(pod, fieldPath, 'Warning', 'Unhealthy', `${LABEL[type]} probe ${what}: ${out.output}`);
      },
      kill: () => void this.kill(uid, c, kind, type, probe),
    });
    const r: Running = { worker, busy: false, timer: undefined as unknown as NodeJS.Timeout };
    const tick = async () => {
      if (r.busy) return; // a probe outliving its period: skip this tick, as a ticker would
      r.busy = true;
      try {
        await worker.doProbe(this.view(uid, c.name, kind), Date.now());
      } catch (err) {
        log.warn('probe worker failed', { pod: uid, container: c.name, probe: type, error: (err as Error).message });
      } finally {
        r.busy = false;
      }
    };
    r.timer = setInterval(() => void tick(), timing.periodSeconds * 1000);
    r.timer.unref();
    void tick();
    return r;
  }

  private view(uid: string, name: string, kind: 'init' | 'regular'): ContainerView | undefined {
    const e = this.pods.get(uid);
    const s: RuntimeContainerStatus | undefined = e?.rt?.containers.find((x) => x.name === name && x.kind === kind);
    if (!e || !s || !s.containerID) return undefined;
    return {
      containerID: s.containerID,
      running: s.state === 'running',
      startedAtMs: s.startedAt ? Date.parse(s.startedAt) : undefined,
      started: this.containerState(e.pod, name, s.containerID).started,
    };
  }

  private async probe(pod: Pod | undefined, c: Container, probe: Probe, timeoutMs: number): Promise<ProbeOutcome> {
    if (!pod) return { result: 'failure', output: 'pod is gone', errored: true };
    const uid = pod.metadata?.uid ?? '';
    const podIP = this.pods.get(uid)?.rt?.ips[0] ?? pod.status?.podIP ?? '';
    const rt = this.o.runtime;
    const exec = rt.exec?.bind(rt);
    return runProbe(probe, {
      podIP,
      container: c,
      exec: exec
        ? async (cmd) => {
            let output = '';
            const sink = new Writable({
              write(chunk: Buffer, _enc, cb) {
                output += chunk.toString('utf8');
                cb();
              },
            });
            const code = await exec({ podUid: uid, namespace: pod.metadata?.namespace ?? '', podName: pod.metadata?.name ?? '', container: c.name }, cmd, { stdout: sink, stderr: sink });
            return { code, output };
          }
        : undefined,
    }, timeoutMs);
  }

  /** Upstream's killContainer for a failed liveness/startup probe, with its Killing event. */
  private async kill(uid: string, c: Container, kind: 'init' | 'regular', type: ProbeType, probe: Probe): Promise<void> {
    const pod = this.pods.get(uid)?.pod;
    if (!pod || !this.o.runtime.killContainer) return;
    const message = `Container ${c.name} failed ${type} probe, will be restarted`;
    const grace = probe.terminationGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.o.events?.event(pod, containerFieldPath(c.name, kind), 'Normal', 'Killing', message);
    try {
      await this.o.runtime.killContainer(pod, c.name, grace, message);
    } catch (err) {
      log.warn('could not kill unhealthy container', { pod: uid, container: c.name, error: (err as Error).message });
    }
    this.resync(uid);
  }
}
