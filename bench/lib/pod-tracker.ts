// Follows the bench namespace's pods through the controllers' own informer (list + watch), so
// "all pods Ready" is the moment the last pod's Ready condition arrives, not when a Deployment
// status poll happens to see it, and the progress lines can say at which stage the rest wait
// without listing 3000 pods over and over.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { performance } from 'node:perf_hooks';
import type { ApiClient } from '../../controllers/framework/client.js';
import { Informer } from '../../controllers/framework/informer.js';

export type Stage = 'unscheduled' | 'bound' | 'running' | 'ready' | 'terminating';
const STAGES: Stage[] = ['unscheduled', 'bound', 'running', 'ready', 'terminating'];

function stageOf(p: Pod): Stage {
  if (p.metadata?.deletionTimestamp) return 'terminating';
  if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return 'ready';
  if (p.status?.phase === 'Running') return 'running';
  return p.spec?.nodeName ? 'bound' : 'unscheduled';
}

export class PodTracker {
  private readonly stages = new Map<string, Stage>();
  private readonly counts = new Map<Stage, number>(STAGES.map((s) => [s, 0]));
  private readonly abort = new AbortController();
  private readonly informer: Informer<Pod>;
  /** performance.now() of the first pod seen, and when Ready reached each of these counts. */
  firstSeenAt?: number;
  readonly readyAt = new Map<number, number>();
  private readonly milestones: number[];

  constructor(client: ApiClient, namespace: string, readonly want: number) {
    this.informer = new Informer<Pod>(client, `/api/v1/namespaces/${namespace}/pods`);
    this.milestones = [1, Math.ceil(want / 2), want];
    const set = (p: Pod): void => this.set(p.metadata?.name ?? '', stageOf(p));
    this.informer.on('add', set);
    this.informer.on('update', set);
    this.informer.on('delete', (p) => this.set(p.metadata?.name ?? '', undefined));
  }

  private set(name: string, stage: Stage | undefined): void {
    const before = this.stages.get(name);
    if (before === stage) return;
    if (before) this.counts.set(before, this.counts.get(before)! - 1);
    if (stage) {
      this.stages.set(name, stage);
      this.counts.set(stage, this.counts.get(stage)! + 1);
      this.firstSeenAt ??= performance.now();
    } else this.stages.delete(name);
    const ready = this.counts.get('ready')!;
    for (const m of this.milestones) if (ready >= m && !this.readyAt.has(m)) this.readyAt.set(m, performance.now());
  }

  /** Resolves once the initial list is in. */
  start(): Promise<void> {
    return this.informer.start(this.abort.signal);
  }

  stop(): void {
    this.abort.abort();
  }

  get total(): number {
    return this.stages.size;
  }

  get ready(): number {
    return this.counts.get('ready')!;
  }

  /** Pods not yet marked for deletion. */
  get live(): number {
    return this.total - this.counts.get('terminating')!;
  }

  get allReadyAt(): number | undefined {
    return this.readyAt.get(this.want);
  }

  describe(): string {
    return `${this.total} pods: ${STAGES.map((s) => `${this.counts.get(s)} ${s}`).join(', ')}`;
  }
}
