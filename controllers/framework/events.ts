// core/v1 Events, as client-go's record.EventRecorder writes them: repeats of the same
// (object, type, reason, message) within the cache's lifetime bump count and
// lastTimestamp on the one Event instead of creating another (the event correlator's
// dedup step). Recording never blocks or fails the caller.
import { EventCorrelator } from '../../apimachinery/event-correlator.js';
import { logger } from '../../apimachinery/log.js';
import { isNamespaceTerminating, type ApiClient } from './client.js';

export interface KubeObjectRef {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const log = logger('events');

export class EventRecorder {
  private readonly host = process.env.HOSTNAME ?? 'podium';
  private readonly correlator: EventCorrelator;

  constructor(
    client: ApiClient,
    private readonly component: string,
  ) {
    this.correlator = new EventCorrelator({
      create: (namespace, ev) => client.create(`/api/v1/namespaces/${namespace}/events`, ev),
      bump: (namespace, name, count, lastTimestamp) => client.patch(`/api/v1/namespaces/${namespace}/events/${name}`, { count, lastTimestamp }, 'merge'),
    });
  }

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
    await this.correlator.record(key, namespace, m.name, (name, ts) => ({
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
      firstTimestamp: ts,
      lastTimestamp: ts,
    }));
  }
}
