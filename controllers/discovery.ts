// Server discovery for controllers that act on every resource type (namespace deletion,
// garbage collection), as client-go's ServerPreferredResources: the preferred version of
// each group, top-level resources only.
import type { APIGroupList, APIResourceList, APIVersions } from 'kubernetes-types/meta/v1.js';
import type { ApiClient } from './framework/client.js';

export interface DiscoveredResource {
  group: string;
  version: string;
  /** Plural resource name, e.g. "replicasets". */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export const groupVersion = (r: { group: string; version: string }): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The collection path, cluster-wide or in a namespace. */
export function resourcePath(r: DiscoveredResource, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return namespace && r.namespaced ? `${base}/namespaces/${namespace}/${r.resource}` : `${base}/${r.resource}`;
}

/** Resolves with what could be discovered and the group versions that failed. */
export async function discoverResources(client: ApiClient): Promise<{ resources: DiscoveredResource[]; failed: string[] }> {
  const gvs: { group: string; version: string }[] = [];
  const core = await client.get<APIVersions>('/api');
  if (core.versions.includes('v1')) gvs.push({ group: '', version: 'v1' });
  const groups = await client.get<APIGroupList>('/apis');
  for (const g of groups.groups) {
    const v = g.preferredVersion?.version ?? g.versions[0]?.version;
    if (v) gvs.push({ group: g.name, version: v });
  }
  const resources: DiscoveredResource[] = [];
  const failed: string[] = [];
  await Promise.all(
    gvs.map(async (gv) => {
      try {
        const list = await client.get<APIResourceList>(gv.group ? `/apis/${gv.group}/${gv.version}` : `/api/${gv.version}`);
        for (const r of list.resources) {
          if (r.name.includes('/')) continue;
          resources.push({ group: gv.group, version: gv.version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: [...(r.verbs ?? [])] });
        }
      } catch {
        failed.push(groupVersion(gv));
      }
    }),
  );
  return { resources, failed };
}
