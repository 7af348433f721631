// Indexes the served ResourceDefinitions by group/version/resource and by storage type, and
// owns one Store per definition.
import type { ResourceDefinition } from '../registry/types.js';
import { storageKeyOf } from '../registry/types.js';
import type { Store } from './store.js';

export class Registry {
  private readonly byPath = new Map<string, ResourceDefinition>();
  readonly stores = new Map<ResourceDefinition, Store>();

  constructor(readonly definitions: ResourceDefinition[]) {
    for (const d of definitions) this.byPath.set(`${d.group}/${d.version}/${d.plural}`, d);
  }

  find(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  storageTypes(): string[] {
    return [...new Set(this.definitions.filter((d) => !d.review && !d.external).map(storageKeyOf))];
  }

  /** The store of a resource, by group and plural (any served version of it). */
  store(group: string, plural: string, version?: string): Store {
    const def = this.definitions.find((d) => d.group === group && d.plural === plural && (!version || d.version === version));
    if (!def) throw new Error(`resource ${plural}.${group} is not served`);
    return this.stores.get(def)!;
  }

  /** Group versions in discovery order, preferred version first within a group. */
  groupVersions(): { group: string; versions: string[] }[] {
    const groups = new Map<string, string[]>();
    for (const d of this.definitions) {
      const vs = groups.get(d.group) ?? [];
      if (!vs.includes(d.version)) vs.push(d.version);
      groups.set(d.group, vs);
    }
    return [...groups].map(([group, versions]) => ({ group, versions }));
  }
}
