// metrics.k8s.io/v1beta1 (metrics-server's API, served here directly): NodeMetrics and
// PodMetrics built from each node agent's last resource usage sample, fetched per request.
import type { ServerResponse } from 'node:http';
import type { Node } from 'kubernetes-types/core/v1.js';
import { notFound } from '../../apimachinery/errors.js';
import type { Registry } from '../generic/registry.js';
import type { ResourceSummary } from '../../node-agent/metrics-collector.js';
import type { NodeProxy } from './node-proxy.js';
import type { ResourceRequest } from './request-info.js';
import { sendJson } from './respond.js';

const GROUP_VERSION = 'metrics.k8s.io/v1beta1';

/** Quantities as metrics-server writes them: CPU in nanocores, memory in Ki. */
function usage(u: { cpuUsageNanoCores?: number; memoryWorkingSetBytes?: number }): { cpu: string; memory: string } {
  return { cpu: `${Math.round(u.cpuUsageNanoCores ?? 0)}n`, memory: `${Math.round((u.memoryWorkingSetBytes ?? 0) / 1024)}Ki` };
}

export class MetricsService {
  constructor(private readonly registry: Registry, private readonly nodes: NodeProxy) {}

  private async summaries(): Promise<{ node: Node; summary: ResourceSummary }[]> {
    const nodes = [...(await this.registry.store('', 'nodes').fresh()).entries()].map(([, entry]) => entry.object as Node);
    const all = await Promise.all(nodes.map(async (node) => {
      // An agent that nobody has asked for a while takes two samples (Docker stats, a second apart) first.
      const summary = await this.nodes.nodeJson<ResourceSummary>(node, '/metrics/resource', 20_000);
      return summary ? { node, summary } : undefined;
    }));
    return all.filter((x): x is { node: Node; summary: ResourceSummary } => x !== undefined);
  }

  async serve(res: ServerResponse, info: ResourceRequest): Promise<void> {
    const all = await this.summaries();
    if (info.resource === 'nodes') {
      const items = all.filter((s) => s.summary.node.cpuUsageNanoCores !== undefined).map(({ node, summary }) => ({
        metadata: { name: node.metadata?.name, creationTimestamp: summary.timestamp, labels: node.metadata?.labels },
        timestamp: summary.timestamp,
        window: `${summary.windowSeconds}s`,
        usage: usage(summary.node),
      }));
      if (info.name) {
        const one = items.find((i) => i.metadata.name === info.name);
        if (!one) throw notFound({ group: 'metrics.k8s.io', resource: 'nodes' }, info.name);
        return sendJson(res, 200, { kind: 'NodeMetrics', apiVersion: GROUP_VERSION, ...one });
      }
      return sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items: items.map((i) => ({ kind: 'NodeMetrics', apiVersion: GROUP_VERSION, ...i })) });
    }
    const items = all.flatMap(({ summary }) => summary.pods
      .filter((p) => !info.namespace || p.namespace === info.namespace)
      .map((p) => ({
        kind: 'PodMetrics',
        apiVersion: GROUP_VERSION,
        metadata: { name: p.name, namespace: p.namespace, creationTimestamp: summary.timestamp },
        timestamp: summary.timestamp,
        window: `${summary.windowSeconds}s`,
        containers: p.containers.map((c) => ({ name: c.name, usage: usage(c) })),
      })));
    if (info.name) {
      const one = items.find((i) => i.metadata.name === info.name);
      if (!one) throw notFound({ group: 'metrics.k8s.io', resource: 'pods' }, info.name);
      return sendJson(res, 200, one);
    }
    return sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: GROUP_VERSION, metadata: {}, items });
  }
}
