// An in-memory ObjectStore for tests of the node's networking parts (pure logic, or a real
// iptables/Docker/socket side fed without an API server): what an informer cache offers, with
// set/remove firing the same add/update/delete handlers.
import type { ObjectStore } from '../../node-agent/network/types.js';

type Named = { metadata?: { name?: string; namespace?: string } };

export class MemoryStore<T extends Named> implements ObjectStore<T> {
  private readonly items = new Map<string, T>();
  private readonly handlers: Record<'add' | 'update' | 'delete', ((obj: T, old?: T) => void)[]> = { add: [], update: [], delete: [] };

  constructor(items: T[] = []) {
    for (const o of items) this.items.set(this.key(o), o);
  }

  private key(o: T): string {
    return o.metadata?.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : (o.metadata?.name ?? '');
  }

  list(namespace?: string): T[] {
    return [...this.items.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  on(event: 'add' | 'update' | 'delete', fn: (obj: T, old?: T) => void): void {
    this.handlers[event].push(fn);
  }

  set(o: T): void {
    const old = this.items.get(this.key(o));
    this.items.set(this.key(o), o);
    for (const fn of this.handlers[old ? 'update' : 'add']) fn(o, old);
  }

  remove(o: T): void {
    const old = this.items.get(this.key(o));
    if (!old) return;
    this.items.delete(this.key(o));
    for (const fn of this.handlers.delete) fn(old);
  }
}
