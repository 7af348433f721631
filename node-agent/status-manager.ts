// Writes pods/status, and only when the agent's view differs from what it last wrote (or,
// for a pod it has not written yet, from what the server holds): upstream's status manager.
// It remembers what it sent, so a pod worker that runs before the watch delivers the agent's
// own patch computes from the newest status instead of a stale copy.
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import { isNotFound, type ApiClient } from './api.js';
import { sameJson, type MutablePodStatus } from './pod-status.js';

const log = logger('status-manager');
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

export class StatusManager {
  private readonly sent = new Map<string, MutablePodStatus>();
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
    const mine = this.sent.get(pod.metadata?.uid ?? '');
    if (!mine) return pod.status;
    // Conditions others own (readiness gates, DisruptionTarget) come from the server's copy.
    const conditions = [
      ...(mine.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type)),
      ...(pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type)),
    ];
    return { ...pod.status, ...mine, conditions };
  }

  /** Patches `status` if it changed; returns whether it wrote. A vanished pod is not an error. */
  async setStatus(pod: Pod, status: MutablePodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const base = (this.sent.get(uid) ?? pod.status ?? {}) as Record<string, unknown>;
    const next = status as Record<string, unknown>;
    if (Object.keys(next).every((k) => sameJson(next[k], base[k]))) return false;
    const path = `/api/v1/namespaces/${pod.metadata?.namespace}/pods/${pod.metadata?.name}/status`;
    try {
      // The uid makes a patch meant for a deleted pod fail on a new pod of the same name.
      const api = this.clientFor?.(pod.spec?.nodeName ?? '') ?? this.api;
      await api.strategicPatch(path, { metadata: { uid }, status });
      this.patches++;
      this.sent.set(uid, status);
      log.v(3, 'patched pod status', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, phase: status.phase });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  forget(uid: string): void {
    this.sent.delete(uid);
  }
}
