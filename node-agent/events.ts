// The kubelet's event recorder: core/v1 Events about pods, written as the node (source
// component `kubelet`, host the node name). Repeats of the same (object, field path, type,
// reason, message) bump count and lastTimestamp on the one Event, as client-go's event
// correlator does. Best effort by design: a sync never waits for, or fails because of, an Event.
import { eventName } from '../apimachinery/event-name.js';
import type { Event, ObjectReference, Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import type { ApiClient } from './api.js';
import type { ContainerKind, RuntimeEvent } from './runtime/types.js';

const log = logger('kubelet-events');
/** Distinct events remembered for aggregation (client-go's maxLruCacheEntries). */
const CACHE_SIZE = 4096;
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

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class KubeletEventRecorder implements PodEventSink {
  private readonly seen = new Map<string, Seen>();
  // Serialized so a repeat's patch follows its create; one chain, no concurrency to manage.
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly nodeName: string,
  ) {}

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
    const ts = now();
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      // Most recent last: the Map's insertion order is the LRU order.
      this.seen.delete(key);
      this.seen.set(key, prev);
      try {
        await this.api.mergePatch(`/api/v1/namespaces/${namespace}/events/${prev.name}`, { count: prev.count, lastTimestamp: ts });
        return;
      } catch {
        // Expired (events have a TTL) or deleted: record a fresh one, as the correlator does.
        this.seen.delete(key);
      }
    }
    const name = eventName(ref.name);
    const ev: Event = {
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
    };
    await this.api.create(`/api/v1/namespaces/${namespace}/events`, ev);
    this.seen.set(key, { name, namespace, count: 1 });
    if (this.seen.size > CACHE_SIZE) this.seen.delete(this.seen.keys().next().value as string);
  }
}
