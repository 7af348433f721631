// One serialized worker per pod (upstream's podWorkers): updates for a pod never run
// concurrently; an update arriving mid-sync marks the worker dirty and the worker runs again
// with the newest pod. A sync brings the runtime towards the spec and reports the status;
// a pod being deleted is killed and then removed with grace 0 and a uid precondition.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import { ApiError, isConflict, isNotFound, type ApiClient } from './api.js';
import { podForgotten, podSeen, podSynced } from './kubelet-metrics.js';
import { generatePodStatus, isTerminalPhase, rfc3339 } from './pod-status.js';
import type { Runtime, RuntimePodStatus } from './runtime/types.js';
import type { StatusManager } from './status-manager.js';
import type { PodSourceResolver } from './pod-sources.js';
import type { ProberManager } from './prober/manager.js';

const log = logger('pod-workers');
const RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

interface Worker {
  uid: string;
  pod: Pod;
  running: boolean;
  dirty: boolean;
  /** The pod reached Succeeded/Failed and its sandbox is gone; only deletion matters now. */
  terminal: boolean;
  removed: boolean;
  done: boolean;
  failures: number;
  retry?: NodeJS.Timeout;
}

export interface PodWorkersOptions {
  nodeName: string;
  hostIP: string;
  api: ApiClient;
  runtime: Runtime;
  status: StatusManager;
  /** What volumes need from the API (config maps, secrets, tokens); the simulated runtime needs none. */
  sources?: PodSourceResolver;
  /**
   * Sync every pod this often even without an event (upstream's periodic pod sync), so mounted
   * config maps and secrets follow updates and expiring tokens are renewed. Off when undefined.
   */
  resyncMs?: number;
  /**
   * Readiness, liveness and startup probes. Only runtimes that can exec into and reach their
   * containers get one (the Docker node); without it running containers count as ready.
   */
  prober?: ProberManager;
}

const podKey = (pod: Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  // Pods this agent killed and deleted: watch events still in flight for them must not start them again.
  private readonly finished = new Set<string>();

  private readonly resync?: NodeJS.Timeout;

  constructor(private readonly o: PodWorkersOptions) {
    o.runtime.onPodEvent((uid) => {
      const w = this.workers.get(uid);
      if (w) void this.run(w);
    });
    // A probe result changed Ready/started, or the prober killed a container: sync now.
    o.prober?.setResync((uid) => {
      const w = this.workers.get(uid);
      if (w && !w.terminal) void this.run(w);
    });
    if (o.resyncMs) {
      this.resync = setInterval(() => {
        for (const w of this.workers.values()) if (!w.terminal) void this.run(w);
      }, o.resyncMs);
      this.resync.unref();
    }
  }

  /** The pod with this uid, while this node runs it. */
  byUid(uid: string): Pod | undefined {
    const w = this.workers.get(uid);
    return w && !w.removed ? w.pod : undefined;
  }

  /** The pod this node runs under that name (the agent's endpoint looks pods up by name). */
  find(namespace: string, name: string): Pod | undefined {
    for (const w of this.workers.values()) {
      if (w.pod.metadata?.namespace === namespace && w.pod.metadata?.name === name && !w.removed) return w.pod;
    }
    return undefined;
  }

  get size(): number {
    return this.workers.size;
  }

  /** A pod bound to this node was added or changed. */
  update(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    if (this.finished.has(uid)) return;
    let w = this.workers.get(uid);
    if (!w) {
      // Already finished before this agent saw it (an agent restart): nothing to run.
      const terminal = isTerminalPhase(pod.status?.phase);
      w = { uid, pod, running: false, dirty: false, terminal, removed: false, done: false, failures: 0 };
      this.workers.set(uid, w);
      if (!terminal) podSeen(uid);
    }
    w.pod = pod;
    void this.run(w);
  }

  /** The pod is gone from the API (deleted by someone else, or by us after the kill). */
  remove(pod: Pod): void {
    this.finished.delete(pod.metadata?.uid ?? '');
    const w = this.workers.get(pod.metadata?.uid ?? '');
    if (!w) return;
    w.pod = pod;
    w.removed = true;
    void this.run(w);
  }

  async close(): Promise<void> {
    if (this.resync) clearInterval(this.resync);
    this.o.prober?.close();
    for (const w of this.workers.values()) {
      w.done = true;
      if (w.retry) clearTimeout(w.retry);
    }
    this.workers.clear();
  }

  private async run(w: Worker): Promise<void> {
    if (w.done) return;
    if (w.running) {
      w.dirty = true;
      return;
    }
    w.running = true;
    if (w.retry) clearTimeout(w.retry);
    w.retry = undefined;
    try {
      do {
        w.dirty = false;
        await this.syncOnce(w);
      } while (w.dirty && !w.done);
      w.failures = 0;
    } catch (err) {
      w.failures++;
      const delay = Math.min(MAX_RETRY_MS, RETRY_MS * 2 ** Math.min(w.failures - 1, 10));
      log.warn('pod sync failed; retrying', { pod: podKey(w.pod), error: (err as Error).message, retryInMs: delay });
      if (!w.done) {
        w.retry = setTimeout(() => {
          w.retry = undefined;
          void this.run(w);
        }, delay);
      }
    } finally {
      w.running = false;
    }
  }

  private async syncOnce(w: Worker): Promise<void> {
    const { runtime, status } = this.o;
    const pod = w.pod;
    if (w.removed) {
      this.o.prober?.removePod(w.uid);
      await runtime.killPod(pod, 0);
      this.finish(w);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      // No probing (or liveness kills) of a pod being torn down.
      this.o.prober?.removePod(w.uid);
      const before = runtime.podStatus(w.uid);
      await runtime.killPod(pod, gracePeriod(pod));
      if (before && !w.terminal) await this.reportKilled(pod, before);
      await this.deletePod(pod);
      this.finish(w);
      this.finished.add(w.uid);
      return;
    }
    if (w.terminal) return;
    const volumes = this.o.sources?.volumes(pod);
    // Rejected before the runtime awaits it (a sandbox that failed first): the sync fails and
    // retries either way; the catch only keeps the rejection from going unhandled.
    volumes?.catch(() => undefined);
    const rt = await runtime.syncPod(pod, volumes);
    const prober = this.o.prober;
    prober?.syncPod(pod, rt);
    const probes = prober && ((name: string, containerID: string) => prober.containerState(pod, name, containerID));
    const next = generatePodStatus({ ...pod, status: status.knownStatus(pod) }, rt, { hostIP: this.o.hostIP, nowMs: Date.now(), probes });
    podSynced(w.uid, rt, next.phase);
    await status.setStatus(pod, next);
    if (isTerminalPhase(next.phase)) {
      // Upstream tears down a finished pod's sandbox too; its status stays as reported, and its
      // exited containers stay for `kubectl logs` where the runtime can keep them.
      if (runtime.stopPod) await runtime.stopPod(pod);
      else await runtime.killPod(pod, 0);
      w.terminal = true;
      prober?.removePod(w.uid);
    }
  }

  /**
   * The final status of a deleted pod before it goes: killed containers terminated (137, as
   * after SIGKILL: simulated containers stop at once) and a terminal phase, so controllers
   * watching it (Jobs) see how it ended.
   */
  private async reportKilled(pod: Pod, before: RuntimePodStatus): Promise<void> {
    const finishedAt = rfc3339(Date.now());
    const killed: RuntimePodStatus = {
      ...before,
      sandboxReady: false,
      containers: before.containers.map((c) =>
        c.state === 'running' || c.state === 'created' ? { ...c, state: 'exited', exitCode: 137, reason: 'Error', finishedAt, waiting: undefined } : { ...c, waiting: undefined },
      ),
    };
    const { status } = this.o;
    const next = generatePodStatus({ ...pod, status: status.knownStatus(pod) }, killed, { hostIP: this.o.hostIP, nowMs: Date.now(), terminating: true });
    await status.setStatus(pod, next);
    // Jobs and other watchers read how a deleted pod ended from this status: it must be in the
    // API before the pod goes (the status manager holds it while the API server is unreachable).
    if (!status.written(pod.metadata?.uid ?? '')) throw new Error('the final status of the killed pod is not written yet');
  }

  private finish(w: Worker): void {
    w.done = true;
    this.o.prober?.removePod(w.uid);
    if (w.retry) clearTimeout(w.retry);
    this.workers.delete(w.uid);
    this.o.status.forget(w.uid);
    podForgotten(w.uid);
  }

  private async deletePod(pod: Pod): Promise<void> {
    const path = `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}`;
    try {
      await this.o.api.delete(path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } });
      log.v(2, 'deleted pod', { pod: podKey(pod) });
    } catch (err) {
      // Gone already, or a new pod took the name: either way this one is finished.
      if (isNotFound(err) || isConflict(err)) return;
      if (err instanceof ApiError) log.warn('could not delete pod', { pod: podKey(pod), code: err.code, error: err.message });
      throw err;
    }
  }
}

/** The grace the deletion asked for; the pod spec's, else upstream's 30 s default. */
function gracePeriod(pod: Pod): number {
  return pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
}
