// The kubelet's event recorder: core/v1 Events about pods, written as the node (source
// component `kubelet`, host the node name). Repeats of the same (object, field path, type,
// reason, message) bump count and lastTimestamp on the one Event, as client-go's event
// correlator does. Best effort by design: a sync never waits for, or fails because of, an Event.
import { EventCorrelator } from '../apimachinery/event-correlator.js';
import type { ObjectReference, Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import type { ApiClient } from './api.js';
import type { ContainerKind, RuntimeEvent } from './runtime/types.js';

const log = logger('kubelet-events');
/** Writes waiting at most; beyond it events are dropped rather than piling up (client-go's queue is 1000). */
const MAX_QUEUED = 1000;

export type EventType = 'Normal' | 'Warning';

/** `spec.containers{c}` or `spec.initContainers{c}`: how upstream's container references read. */
export function containerFieldPath(name: string, kind: ContainerKind = 'regular'): string {
  return kind === 'init' ? `spec.initContainers{${name}}` : `spec.containers{${name}}`;
}

/** Whatever records pod events; tests and the simulated node can pass a no-op. */
export interface PodEventSink {
  event(pod: Pod, fieldPath: string | undefined, type: EventType, reason: string, message: string): void;
}

export class KubeletEventRecorder implements PodEventSink {
  private readonly correlator: EventCorrelator;
  // Serialized so a repeat's patch follows its create; one chain, no concurrency to manage.
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    api: ApiClient,
    private readonly nodeName: string,
  ) {
    this.correlator = new EventCorrelator({
      create: (namespace, ev) => api.create(`/api/v1/namespaces/${namespace}/events`, ev),
      bump: (namespace, name, count, lastTimestamp) => api.mergePatch(`/api/v1/namespaces/${namespace}/events/${name}`, { count, lastTimestamp }),
    });
  }

  /** A RuntimeEvent from the runtime, with its container as the field path. */
  runtimeEvent(e: RuntimeEvent): void {
    this.event(e.pod, e.container ? containerFieldPath(e.container.name, e.container.kind) : undefined, e.type, e.reason, e.message);
  }

  event(pod: Pod, fieldPath: string | undefined, type: EventType, reason: string, message: string): void {
    if (this.queued >= MAX_QUEUED) {
      log.v(2, 'event dropped: queue full', { reason });
      return;
    }
    const m = pod.metadata ?? {};
    const ref: ObjectReference = { kind: 'Pod', apiVersion: 'v1', namespace: m.namespace, name: m.name, uid: m.uid };
    if (fieldPath) ref.fieldPath = fieldPath;
    this.queued++;
    this.chain = this.chain
      .then(() => this.write(ref, type, reason, message))
      .catch((err: Error) => log.v(2, 'could not record event', { pod: `${m.namespace}/${m.name}`, reason, error: err.message }))
      .finally(() => {
        this.queued--;
      });
  }

  /** Resolves once every event recorded so far was written (or given up on): tests, shutdown. */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = ref.namespace || 'default';
    const key = [namespace, ref.name, ref.uid, ref.fieldPath ?? '', type, reason, message].join('\u0000');
    await this.correlator.record(key, namespace, ref.name, (name, ts) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      source: { component: 'kubelet', host: this.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
    }));
  }
}
