// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics (what metrics-server serves upstream):
// read-only, answered from the node agents' resource usage, never stored.
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';

const table = { columns: [NAME_COLUMN, AGE_COLUMN], row: (obj: { metadata?: { name?: string; creationTimestamp?: string } }) => [obj.metadata?.name ?? '', age(obj.metadata?.creationTimestamp)] };

const common = { group: 'metrics.k8s.io', version: 'v1beta1', verbs: ['get', 'list'] as ResourceDefinition['verbs'], strategy: { validate: () => [] }, table, external: true as const };

export const metricsResources: ResourceDefinition[] = [
  { ...common, kind: 'NodeMetrics', plural: 'nodes', singular: 'node', namespaced: false },
  { ...common, kind: 'PodMetrics', plural: 'pods', singular: 'pod', namespaced: true },
];
