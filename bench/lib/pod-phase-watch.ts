// One watch on a namespace's pods that records, per pod name, when the stream first showed it
// Running (status.phase) and Ready (the Ready condition True), and when it was deleted. Times
// are performance.now() at the event's arrival, so they include the API server's delivery.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { performance } from 'node:perf_hooks';
import type { ApiClient } from '../../controllers/framework/client.js';

export type Milestone = 'running' | 'ready' | 'gone';

export interface PodTimes {
  running?: number;
  ready?: number;
  gone?: number;
}

export class PodPhaseWatch {
  readonly times = new Map<string, PodTimes>();
  events = 0;
  private readonly abort = new AbortController();
  private failure?: Error;
  private readonly waiters = new Set<() => void>();
  private stream?: Promise<void>;

  constructor(private readonly client: ApiClient, private readonly namespace: string) {}

  /** Lists for a resourceVersion and opens the watch from it; resolves once the watch is requested. */
  async start(): Promise<void> {
    const path = `/api/v1/namespaces/${this.namespace}/pods`;
    const list = await this.client.list<Pod>(path);
    for (const p of list.items) this.note('ADDED', p);
    this.stream = this.client
      .watch(path, { resourceVersion: list.metadata.resourceVersion }, (type, obj) => this.note(type, obj as Pod), this.abort.signal)
      .then(
        () => {
          if (!this.abort.signal.aborted) this.fail(new Error(`the pod watch on ${this.namespace} ended after ${this.events} events`));
        },
        (err: Error) => this.fail(new Error(`the pod watch on ${this.namespace} failed: ${err.message}`)),
      );
  }

  private note(type: string, p: Pod): void {
    const now = performance.now();
    this.events++;
    if (type === 'ERROR') {
      this.fail(new Error(`the pod watch on ${this.namespace} sent an ERROR event: ${JSON.stringify(p).slice(0, 300)}`));
      return;
    }
    const name = p.metadata?.name;
    if (!name) return;
    let t = this.times.get(name);
    if (!t) this.times.set(name, (t = {}));
    if (type === 'DELETED') t.gone ??= now;
    else {
      if (p.status?.phase === 'Running') t.running ??= now;
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) t.ready ??= now;
    }
    for (const w of this.waiters) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters) w();
  }

  /** Resolves once every named pod has reached `what`; rejects on timeout or a broken watch. */
  waitFor(names: string[], what: Milestone, timeoutMs: number, describe?: () => string): Promise<void> {
    const done = (): boolean => names.every((n) => this.times.get(n)?.[what] !== undefined);
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (this.failure) finish(this.failure);
        else if (done()) finish();
      };
      const timer = setTimeout(() => {
        const missing = names.filter((n) => this.times.get(n)?.[what] === undefined);
        finish(new Error(`timed out after ${timeoutMs} ms waiting for ${missing.length} pod(s) to be ${what} (${missing.slice(0, 5).join(', ')})${describe ? `: ${describe()}` : ''}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.stream;
  }
}
