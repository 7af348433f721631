// The scheduler's writes: pods/binding (DefaultBinder), the PodScheduled=False condition
// on pods/status, and its Events. Binds run concurrently with the next scheduling
// cycles (upstream's binding cycle), bounded so a burst cannot open thousands of sockets.
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { ApiClient } from '../framework/client.js';
import { EventRecorder } from '../framework/events.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';
import { scheduledMessage, truncateMessage } from './messages.js';

export const SCHEDULER_NAME = 'default-scheduler';
const MAX_BINDS_IN_FLIGHT = 64;

const podRef = (pod: Pod) => ({ apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata });
const podPath = (pod: Pod): string =>
  `/api/v1/namespaces/${encodeURIComponent(pod.metadata?.namespace ?? '')}/pods/${encodeURIComponent(pod.metadata?.name ?? '')}`;

export class Binder {
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  readonly events: EventRecorder;

  constructor(private readonly client: ApiClient) {
    this.events = new EventRecorder(client, SCHEDULER_NAME);
  }

  /** Resolves when another bind may start. */
  async slot(): Promise<void> {
    while (this.inFlight >= MAX_BINDS_IN_FLIGHT) await new Promise<void>((r) => this.waiters.push(r));
  }

  get busy(): number {
    return this.inFlight;
  }

  async bind(pod: Pod, node: string): Promise<void> {
    this.inFlight++;
    try {
      await this.client.create(`${podPath(pod)}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      this.events.event(podRef(pod), 'Normal', 'Scheduled', scheduledMessage(pod, node));
    } finally {
      this.inFlight--;
      this.waiters.shift()?.();
    }
  }

  /** handleSchedulingFailure: a Warning event every attempt, the condition only when it changes. */
  async recordFailure(pod: Pod, reason: 'Unschedulable' | 'SchedulerError' | 'SchedulingGated', message: string): Promise<void> {
    const msg = truncateMessage(message);
    // Gated pods are waiting by design: upstream sets the condition but records no event.
    if (reason !== 'SchedulingGated') this.events.event(podRef(pod), 'Warning', 'FailedScheduling', msg);
    const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cur && cur.status === 'False' && cur.reason === reason && cur.message === msg) return;
    const cond: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message: msg,
      lastProbeTime: undefined,
      lastTransitionTime: cur?.status === 'False' && cur.lastTransitionTime ? cur.lastTransitionTime : nowTimestamp(),
    };
    await this.client.patch(`${podPath(pod)}/status`, { status: { conditions: [{ ...cond, lastProbeTime: null }] } }, 'strategic');
  }
}
