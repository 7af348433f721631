// core/v1 Events, as client-go's record.EventRecorder writes them: repeats of the same
// (object, type, reason, message) within the cache's lifetime bump count and
// lastTimestamp on the one Event instead of creating another (the event correlator's
// dedup step). Recording never blocks or fails the caller.
import { eventName } from '../../apimachinery/event-name.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { logger } from '../../apimachinery/log.js';
import { isNamespaceTerminating, type ApiClient } from './client.js';

export interface KubeObjectRef {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const log = logger('events');
const CACHE_SIZE = 4096;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly host = process.env.HOSTNAME ?? 'podium';

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
  ) {}

  event(obj: KubeObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void this.record(obj, type, reason, message).catch((e: Error) => {
      // Events about objects in a namespace being deleted have nowhere to go; expected.
      if (isNamespaceTerminating(e)) log.v(4, 'event dropped: namespace terminating', { reason, object: obj.metadata?.name });
      else log.warn('could not record event', { component: this.component, reason, object: obj.metadata?.name, error: e.message });
    });
  }

  private async record(obj: KubeObjectRef, type: string, reason: string, message: string): Promise<void> {
    const m = obj.metadata ?? {};
    // Cluster-scoped objects' events go to "default", as upstream does.
    const namespace = m.namespace || 'default';
    const key = [obj.kind, namespace, m.name, m.uid, type, reason, message].join('\u0000');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      this.seen.delete(key);
      this.seen.set(key, prev);
      try {
        await this.client.patch(`/api/v1/namespaces/${namespace}/events/${prev.name}`, { count: prev.count, lastTimestamp: now }, 'merge');
        return;
      } catch {
        // The event expired or was deleted: fall through and create a fresh one.
        this.seen.delete(key);
      }
    }
    const name = eventName(m.name);
    const ev: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion },
      reason,
      message,
      type,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: `${this.component}-${this.host}`,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      eventTime: undefined,
    };
    await this.client.create(`/api/v1/namespaces/${namespace}/events`, ev);
    this.seen.set(key, { name, namespace, count: 1, firstTimestamp: now });
    if (this.seen.size > CACHE_SIZE) this.seen.delete(this.seen.keys().next().value as string);
  }
}
