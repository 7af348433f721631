// Server-side printing: the meta.k8s.io Table kubectl renders for `get`, with
// PartialObjectMetadata row objects so -A and --show-labels work.
import type { KubeObject, ResourceDefinition } from './registry/types.js';
import { logger } from '../apimachinery/log.js';

const log = logger('table');

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function partialObjectMetadata(obj: KubeObject, version = 'v1'): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

export function tableRow(def: ResourceDefinition, obj: KubeObject, include: IncludeObject, version: string): { cells: unknown[]; object?: KubeObject } {
  let cells: unknown[];
  try {
    cells = def.table.row(obj);
  } catch (err) {
    // A printer must never fail a list: show the name and mark the rest unknown.
    log.warn('printer failed', { kind: def.kind, name: obj.metadata?.name, err: (err as Error).message });
    cells = def.table.columns.map((_c, i) => (i === 0 ? obj.metadata?.name : '<unknown>'));
  }
  const row: { cells: unknown[]; object?: KubeObject } = { cells };
  if (include === 'Metadata') row.object = partialObjectMetadata(obj, version);
  else if (include === 'Object') row.object = obj;
  return row;
}

export function toTable(def: ResourceDefinition, objects: KubeObject[], opts: { include: IncludeObject; version: string; resourceVersion?: string; continue?: string; columns?: boolean }): Record<string, unknown> {
  const metadata: Record<string, string> = {};
  if (opts.resourceVersion) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continue) metadata.continue = opts.continue;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata,
    columnDefinitions: opts.columns === false ? [] : def.table.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((o) => tableRow(def, o, opts.include, opts.version)),
  };
}

export function includeObjectParam(value: string | null): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}
