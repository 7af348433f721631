// Shared informers: every controller watching the same path shares one cache and one
// watch connection, as client-go's SharedInformerFactory.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { ApiClient } from './client.js';
import { Informer } from './informer.js';

export class InformerFactory {
  private readonly informers = new Map<string, Informer<any>>();
  private signal?: AbortSignal;

  constructor(
    private readonly client: ApiClient,
    private readonly resyncMs?: number,
  ) {}

  for<T extends { metadata?: ObjectMeta }>(listPath: string): Informer<T> {
    let inf = this.informers.get(listPath);
    if (!inf) {
      inf = new Informer<T>(this.client, listPath, { resyncMs: this.resyncMs });
      this.informers.set(listPath, inf);
      // An informer asked for after startAll starts at once, like a late factory.Start().
      if (this.signal) void inf.start(this.signal);
    }
    return inf as Informer<T>;
  }

  async startAll(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    await Promise.all([...this.informers.values()].map((i) => i.start(signal)));
  }

  /** Waits until every informer requested so far has listed once. */
  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start(signal)));
  }
}
