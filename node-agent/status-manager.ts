// Writes pods/status, and only when the agent's view differs from what it last wrote (or,
// for a pod it has not written yet, from what the server holds): upstream's status manager.
// It remembers what it sent, so a pod worker that runs before the watch delivers the agent's
// own patch computes from the newest status instead of a stale copy.
//
// Like upstream's, it is decoupled from the pod workers: when the API server cannot be reached
// the newest status of each pod waits here and is retried in the background, so a worker keeps
// running its pod (restarting crashed containers) while the control plane is down instead of
// failing every sync on the write.
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import { ApiError, isNotFound, type ApiClient } from './api.js';
import { sameJson, type MutablePodStatus } from './pod-status.js';

const log = logger('status-manager');
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;

/** No answer at all, or one that says "try again": the write is kept and retried. */
function retryable(err: unknown): boolean {
  return !(err instanceof ApiError) || err.code === 429 || err.code >= 500;
}

export class StatusManager {
  private readonly sent = new Map<string, MutablePodStatus>();
  /** Statuses not yet acknowledged by the API server: the newest per pod. */
  private readonly pending = new Map<string, { pod: Pod; status: MutablePodStatus }>();
  private readonly writing = new Set<string>();
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_MIN_MS;
  private unreachableSince = 0;
  private closed = false;
  patches = 0;

  /**
   * `clientFor` picks the client of the node a pod is bound to, so each simulated node writes
   * its pods' status as itself (the Node authorizer and NodeRestriction require it); without
   * it every write goes through `api`.
   */
  constructor(
    private readonly api: ApiClient,
    private readonly clientFor?: (nodeName: string) => ApiClient,
  ) {}

  /** The pod's status with the agent's own unacknowledged writes laid over it. */
  knownStatus(pod: Pod): PodStatus | undefined {
    const uid = pod.metadata?.uid ?? '';
    const mine = this.pending.get(uid)?.status ?? this.sent.get(uid);
    if (!mine) return pod.status;
    // Conditions others own (readiness gates, DisruptionTarget) come from the server's copy.
    const conditions = [
      ...(mine.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type)),
      ...(pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
    ];
    return { ...pod.status, ...mine, conditions };
  }

  /**
   * Patches `status` if it changed; returns whether it wrote. A vanished pod is not an error; an
   * unreachable API server is not either: the status waits (see `written`) and is retried.
   */
  async setStatus(pod: Pod, status: MutablePodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const base = (this.pending.get(uid)?.status ?? this.sent.get(uid) ?? pod.status ?? {}) as Record<string, unknown>;
    const next = status as Record<string, unknown>;
    if (Object.keys(next).every((k) => sameJson(next[k], base[k]))) return false;
    this.pending.set(uid, { pod, status });
    // A write of this pod is in flight: it writes this newer status when it is done.
    if (this.writing.has(uid)) return false;
    return this.write(uid);
  }

  /** Whether everything set for the pod reached the API server. */
  written(uid: string): boolean {
    return !this.pending.has(uid);
  }

  forget(uid: string): void {
    this.sent.delete(uid);
    this.pending.delete(uid);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
  }

  /** Writes the pod's pending status, and any newer one set meanwhile; false if it had to wait. */
  private async write(uid: string): Promise<boolean> {
    this.writing.add(uid);
    try {
      for (;;) {
        const p = this.pending.get(uid);
        if (!p) return false;
        const { pod, status } = p;
        const path = `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/status`;
        try {
          // The uid makes a patch meant for a deleted pod fail on a new pod of the same name.
          const api = this.clientFor?.(pod.spec?.nodeName ?? '') ?? this.api;
          await api.strategicPatch(path, { metadata: { uid }, status });
        } catch (err) {
          if (retryable(err)) {
            this.unreachable(err);
            return false;
          }
          if (this.pending.get(uid) === p) this.pending.delete(uid);
          if (isNotFound(err)) return false;
          throw err;
        }
        this.patches++;
        this.sent.set(uid, status);
        this.reachable();
        log.v(3, 'patched pod status', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, phase: status.phase });
        if (this.pending.get(uid) === p) {
          this.pending.delete(uid);
          return true;
        }
      }
    } finally {
      this.writing.delete(uid);
    }
  }

  private unreachable(err: unknown): void {
    if (!this.unreachableSince) {
      this.unreachableSince = Date.now();
      log.warn('cannot write pod status; keeping it and retrying', { error: (err as Error).message });
    }
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const uid of this.pending.keys()) {
        if (!this.writing.has(uid)) {
          this.write(uid).catch((e: Error) => log.warn('pod status write failed', { uid, error: e.message }));
        }
      }
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private reachable(): void {
    this.retryMs = RETRY_MIN_MS;
    if (!this.unreachableSince) return;
    log.info('pod status writes resumed', { unreachableSeconds: Math.round((Date.now() - this.unreachableSince) / 1000), waiting: this.pending.size });
    this.unreachableSince = 0;
  }
}
