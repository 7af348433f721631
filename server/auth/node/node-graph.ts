// What the Node authorizer asks about the cluster: the pods bound to a node and the claims they
// mount. Upstream keeps a whole object graph fed by informers; Podium answers the same
// questions from the API server's own watch caches, with a nodeName -> pods index kept up to
// date from the pod cache's events, because the authorizer runs on every request and must not
// scan every pod each time.
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { CacheEvent, WatchCache } from '../../storage/watch-cache.js';
import type { KubeObject } from '../../registry/types.js';

export interface NodeGraphSource {
  /** Every pod whose spec.nodeName is `nodeName`. */
  podsOnNode(nodeName: string): Pod[];
  pvc(namespace: string, name: string): PersistentVolumeClaim | undefined;
}

interface Indexed {
  node: string;
  /** The cached object indexed; a different object under the key means the index missed a change. */
  object: KubeObject;
}

export class WatchCacheNodeGraph implements NodeGraphSource {
  private readonly byNode = new Map<string, Set<string>>();
  private readonly byKey = new Map<string, Indexed>();
  /** The pod cache revision the index reflects; -1 until first built. */
  private indexedRev = -1;
  private readonly unsubscribe: () => void;

  constructor(private readonly pods: WatchCache, private readonly pvcs: WatchCache) {
    this.unsubscribe = pods.subscribe((events) => this.apply(events));
  }

  close(): void {
    this.unsubscribe();
  }

  podsOnNode(nodeName: string): Pod[] {
    this.ensureCurrent();
    let out = this.collect(nodeName);
    if (!out) {
      // The cache was replaced under the index (WatchCache.reset tells no listener): rebuild once.
      this.rebuild();
      out = this.collect(nodeName) ?? [];
    }
    return out;
  }

  pvc(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.pvcs.get(`${namespace}/${name}`)?.object as PersistentVolumeClaim | undefined;
  }

  /** The pods indexed under the node, or undefined when an entry no longer matches the cache. */
  private collect(nodeName: string): Pod[] | undefined {
    const out: Pod[] = [];
    for (const key of this.byNode.get(nodeName) ?? []) {
      const entry = this.pods.get(key);
      if (!entry || entry.object !== this.byKey.get(key)?.object) return undefined;
      out.push(entry.object as Pod);
    }
    return out;
  }

  /**
   * Events keep the index current; a revision or size that moved without them means the cache
   * was reloaded (initial load, or a relist after falling behind), which no event reports.
   */
  private ensureCurrent(): void {
    if (this.indexedRev !== this.pods.rev || this.byKey.size !== this.pods.size) this.rebuild();
  }

  private rebuild(): void {
    this.byNode.clear();
    this.byKey.clear();
    for (const [key, entry] of this.pods.entries()) this.put(key, entry.object);
    this.indexedRev = this.pods.rev;
  }

  private apply(events: CacheEvent[]): void {
    // Until the first query builds the index there is nothing to keep up to date.
    if (this.indexedRev < 0) return;
    for (const e of events) {
      this.remove(e.key);
      if (e.type !== 'DELETED') this.put(e.key, e.object);
    }
    this.indexedRev = this.pods.rev;
  }

  private put(key: string, object: KubeObject): void {
    const node = (object as Pod).spec?.nodeName ?? '';
    // Unbound pods are indexed under "" so the size check above counts every pod.
    this.byKey.set(key, { node, object });
    let keys = this.byNode.get(node);
    if (!keys) this.byNode.set(node, (keys = new Set()));
    keys.add(key);
  }

  private remove(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    const keys = this.byNode.get(old.node);
    keys?.delete(key);
    if (keys && keys.size === 0) this.byNode.delete(old.node);
  }
}
