// The RBAC authorizer's view of the cluster, read from the four RBAC watch caches. The
// authorizer runs on every API request, so the source answers its questions from indexes
// (bindings by subject, roles by key) rebuilt lazily after a cache changes, never by
// scanning every object per request.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { Cacher } from '../../storage/cacher.js';
import type { WatchCache } from '../../storage/watch-cache.js';
import type { RbacSource } from './authorizer.js';
import { SERVICE_ACCOUNT_USER_PREFIX, type UserInfo } from '../types.js';

export interface RbacCaches {
  roles: WatchCache;
  clusterRoles: WatchCache;
  roleBindings: WatchCache;
  clusterRoleBindings: WatchCache;
}

/** The storage keys (storageKeyOf) of the four RBAC resources. */
export const RBAC_STORAGE_KEYS = {
  roles: 'rbac.authorization.k8s.io/roles',
  clusterRoles: 'rbac.authorization.k8s.io/clusterroles',
  roleBindings: 'rbac.authorization.k8s.io/rolebindings',
  clusterRoleBindings: 'rbac.authorization.k8s.io/clusterrolebindings',
} as const;

/**
 * The index key a subject is found under: users and service accounts by the user name they
 * authenticate as, groups by group name. Undefined for subjects that can match no one (a
 * ServiceAccount without a namespace in a ClusterRoleBinding, unknown kinds).
 */
function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case 'User': return `u:${s.name}`;
    case 'Group': return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns ? `u:${SERVICE_ACCOUNT_USER_PREFIX}${ns}:${s.name}` : undefined;
    }
    default: return undefined;
  }
}

/** Bindings in list order plus, per subject key, the positions of the bindings naming it. */
export class BindingIndex<T extends { subjects?: Subject[] }> {
  private readonly bySubject = new Map<string, number[]>();

  constructor(readonly all: T[], namespace: string) {
    all.forEach((b, i) => {
      for (const s of b.subjects ?? []) {
        const key = subjectKey(s, namespace);
        if (key === undefined) continue;
        const list = this.bySubject.get(key);
        if (!list) this.bySubject.set(key, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    });
  }

  /** The bindings naming the user or one of its groups, in list order (so reasons name the first, as upstream). */
  for(user: UserInfo): T[] {
    const lists: number[][] = [];
    const byName = this.bySubject.get(`u:${user.name}`);
    if (byName) lists.push(byName);
    for (const g of user.groups) {
      const l = this.bySubject.get(`g:${g}`);
      if (l) lists.push(l);
    }
    if (lists.length === 0) return [];
    if (lists.length === 1) return lists[0].map((i) => this.all[i]);
    const positions = [...new Set(lists.flat())].sort((a, b) => a - b);
    return positions.map((i) => this.all[i]);
  }
}

/** One derived value of a cache, recomputed when the cache has moved on since it was made. */
class Memo<V> {
  private rev = -1;
  private dirty = true;
  private value?: V;
  private readonly unsubscribe: () => void;

  constructor(private readonly cache: WatchCache, private readonly build: (cache: WatchCache) => V) {
    // A listener sees applied events; comparing revisions also catches a reset (relist), which has none.
    this.unsubscribe = cache.subscribe(() => { this.dirty = true; });
  }

  get(): V {
    if (this.dirty || this.rev !== this.cache.rev || this.value === undefined) {
      this.rev = this.cache.rev;
      this.dirty = false;
      this.value = this.build(this.cache);
    }
    return this.value;
  }

  close(): void {
    this.unsubscribe();
  }
}

function objects<T>(cache: WatchCache): T[] {
  const out: T[] = [];
  for (const [, entry] of cache.entries()) out.push(entry.object as T);
  return out;
}

function namespaceOf(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

/** RoleBindings per namespace, each namespace indexed by subject. */
function roleBindingIndexes(cache: WatchCache): Map<string, BindingIndex<RoleBinding>> {
  const byNamespace = new Map<string, RoleBinding[]>();
  for (const [key, entry] of cache.entries()) {
    const ns = namespaceOf(key);
    const list = byNamespace.get(ns);
    const binding = entry.object as unknown as RoleBinding;
    if (list) list.push(binding);
    else byNamespace.set(ns, [binding]);
  }
  const out = new Map<string, BindingIndex<RoleBinding>>();
  for (const [ns, list] of byNamespace) out.set(ns, new BindingIndex(list, ns));
  return out;
}

export class CachedRbacSource implements RbacSource {
  private readonly roles: Memo<Role[]>;
  private readonly clusterRoles: Memo<ClusterRole[]>;
  private readonly roleBindings: Memo<RoleBinding[]>;
  private readonly clusterRoleBindings: Memo<BindingIndex<ClusterRoleBinding>>;
  private readonly roleBindingsByNamespace: Memo<Map<string, BindingIndex<RoleBinding>>>;

  constructor(private readonly caches: RbacCaches) {
    this.roles = new Memo(caches.roles, objects<Role>);
    this.clusterRoles = new Memo(caches.clusterRoles, objects<ClusterRole>);
    this.roleBindings = new Memo(caches.roleBindings, objects<RoleBinding>);
    this.clusterRoleBindings = new Memo(caches.clusterRoleBindings, (c) => new BindingIndex(objects<ClusterRoleBinding>(c), ''));
    this.roleBindingsByNamespace = new Memo(caches.roleBindings, roleBindingIndexes);
  }

  static fromCacher(cacher: Cacher): CachedRbacSource {
    return new CachedRbacSource({
      roles: cacher.cache(RBAC_STORAGE_KEYS.roles),
      clusterRoles: cacher.cache(RBAC_STORAGE_KEYS.clusterRoles),
      roleBindings: cacher.cache(RBAC_STORAGE_KEYS.roleBindings),
      clusterRoleBindings: cacher.cache(RBAC_STORAGE_KEYS.clusterRoleBindings),
    });
  }

  getRoles(): Role[] { return this.roles.get(); }
  getClusterRoles(): ClusterRole[] { return this.clusterRoles.get(); }
  getRoleBindings(): RoleBinding[] { return this.roleBindings.get(); }
  getClusterRoleBindings(): ClusterRoleBinding[] { return this.clusterRoleBindings.get().all; }

  // Roles are looked up straight in the cache: its keys are `namespace/name` and `name`.
  getRole(namespace: string, name: string): Role | undefined {
    return this.caches.roles.get(`${namespace}/${name}`)?.object as Role | undefined;
  }

  getClusterRole(name: string): ClusterRole | undefined {
    return this.caches.clusterRoles.get(name)?.object as ClusterRole | undefined;
  }

  clusterRoleBindingsFor(user: UserInfo): ClusterRoleBinding[] {
    return this.clusterRoleBindings.get().for(user);
  }

  roleBindingsFor(user: UserInfo, namespace: string): RoleBinding[] {
    return this.roleBindingsByNamespace.get().get(namespace)?.for(user) ?? [];
  }

  /** Stops listening to the caches. */
  close(): void {
    for (const m of [this.roles, this.clusterRoles, this.roleBindings, this.clusterRoleBindings, this.roleBindingsByNamespace]) m.close();
  }
}
