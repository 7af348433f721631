// A reflector plus indexer in one: list, then watch from the list's resourceVersion with
// bookmarks; a 410 Gone (or any broken watch we cannot resume) re-lists and diffs the
// cache against the new list so handlers see the deletes they missed, as client-go's
// DeltaFIFO Replace does. Handlers run synchronously; they should only enqueue keys.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { logger } from '../../apimachinery/log.js';
import { ApiClient, ApiError } from './client.js';

type Handler<T> = (obj: T, old?: T) => void;

export function keyOf(obj: { metadata?: ObjectMeta }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

const log = logger('informer');
const WATCH_TIMEOUT_SECONDS = 300;

export class Informer<T extends { metadata?: ObjectMeta }> {
  private readonly store = new Map<string, T>();
  private readonly owners = new Map<string, Set<string>>();
  private readonly handlers: { add: Handler<T>[]; update: Handler<T>[]; delete: Handler<T>[] } = { add: [], update: [], delete: [] };
  private synced = false;
  private started?: Promise<void>;
  private resourceVersion = '';

  constructor(
    private readonly client: ApiClient,
    readonly listPath: string,
    private readonly opts: { resyncMs?: number; labelSelector?: string; fieldSelector?: string } = {},
  ) {}

  on(event: 'add' | 'update' | 'delete', fn: Handler<T>): void {
    this.handlers[event].push(fn);
    // Late registrants (a controller started after the informer) still see the current state.
    if (event === 'add' && this.synced) for (const o of this.store.values()) fn(o);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  byOwner(uid: string): T[] {
    const keys = this.owners.get(uid);
    if (!keys) return [];
    return [...keys].map((k) => this.store.get(k)).filter((o): o is T => o !== undefined);
  }

  start(signal: AbortSignal): Promise<void> {
    if (!this.started) {
      this.started = new Promise((resolveSynced) => {
        void this.loop(signal, resolveSynced);
        if (this.opts.resyncMs) {
          const t = setInterval(() => {
            for (const o of this.store.values()) this.emit('update', o, o);
          }, this.opts.resyncMs);
          t.unref?.();
          signal.addEventListener('abort', () => clearInterval(t), { once: true });
        }
      });
    }
    return this.started;
  }

  private selectorQuery(): Record<string, string> {
    const q: Record<string, string> = {};
    if (this.opts.labelSelector) q.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector) q.fieldSelector = this.opts.fieldSelector;
    return q;
  }

  private async loop(signal: AbortSignal, onSynced: () => void): Promise<void> {
    let backoff = 200;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          if (!this.synced) {
            this.synced = true;
            onSynced();
          }
          needList = false;
        }
        let gone = false;
        await this.client.watch(
          this.listPath,
          { ...this.selectorQuery(), resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_TIMEOUT_SECONDS) },
          (type, obj) => {
            if (type === 'ERROR') {
              if (obj?.code === 410) gone = true;
              else log.warn('watch error event', { path: this.listPath, status: obj });
              return;
            }
            const rv = obj?.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (type === 'ADDED' || type === 'MODIFIED') this.upsert(obj as T);
            else if (type === 'DELETED') this.remove(obj as T);
          },
          signal,
        );
        if (gone) needList = true;
        backoff = 200;
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && e.code === 410) {
          needList = true;
          continue;
        }
        log.v(2, 'list/watch failed, retrying', { path: this.listPath, error: (e as Error).message, backoffMs: backoff });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 30_000);
        // A watch that failed for any other reason may have missed events; list again.
        needList = true;
      }
    }
  }

  private async relist(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.list<T>(this.listPath, { ...this.selectorQuery(), limit: '500', ...(cont ? { continue: cont } : {}) });
      // List responses omit kind/apiVersion on items; watch events carry them. Nothing here needs them.
      items.push(...page.items);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.resourceVersion = rv;
    const seen = new Set<string>();
    for (const o of items) {
      seen.add(keyOf(o));
      this.upsert(o);
    }
    for (const [k, o] of [...this.store]) if (!seen.has(k)) this.remove(o);
  }

  private indexOwners(key: string, obj: T | undefined, add: boolean): void {
    for (const ref of obj?.metadata?.ownerReferences ?? []) {
      let set = this.owners.get(ref.uid);
      if (add) {
        if (!set) this.owners.set(ref.uid, (set = new Set()));
        set.add(key);
      } else if (set) {
        set.delete(key);
        if (set.size === 0) this.owners.delete(ref.uid);
      }
    }
  }

  private upsert(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.indexOwners(key, old, false);
    this.store.set(key, obj);
    this.indexOwners(key, obj, true);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (!old) return;
    this.indexOwners(key, old, false);
    this.store.delete(key);
    this.emit('delete', obj.metadata?.resourceVersion ? obj : old);
  }

  private emit(event: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers[event]) {
      try {
        h(obj, old);
      } catch (e) {
        log.error('informer handler threw', { path: this.listPath, event, error: (e as Error).message });
      }
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
