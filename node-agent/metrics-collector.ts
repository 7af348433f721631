// Resource usage for metrics.k8s.io (upstream: the kubelet's /metrics/resource, scraped by
// metrics-server every 15 s): sampled from the runtime on that cadence, so a request is answered
// from the last sample at once rather than waiting for Docker's two-sample stats.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import type { Runtime } from './runtime/types.js';

const log = logger('metrics-collector');
const INTERVAL_MS = 15_000;

export interface Usage { cpuUsageNanoCores?: number; memoryWorkingSetBytes?: number }

/** What the agent endpoint's /metrics/resource answers (JSON; the API server turns it into NodeMetrics and PodMetrics). */
export interface ResourceSummary {
  timestamp: string;
  windowSeconds: number;
  node: Usage;
  pods: { namespace: string; name: string; uid: string; containers: (Usage & { name: string })[] }[];
}

export class ResourceMetricsCollector {
  private last?: ResourceSummary;
  private timer?: NodeJS.Timeout;

  constructor(private readonly runtime: Runtime, private readonly podOf: (uid: string) => Pod | undefined) {}

  /** Two samples a second apart first: CPU is a rate and needs a previous reading. */
  async start(): Promise<void> {
    await this.sample();
    setTimeout(() => void this.sample(), 1000).unref();
    this.timer = setInterval(() => void this.sample(), INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  latest(): ResourceSummary | undefined {
    return this.last;
  }

  private async sample(): Promise<void> {
    if (!this.runtime.stats) return;
    const started = Date.now();
    try {
      const stats = await this.runtime.stats();
      const pods: ResourceSummary['pods'] = [];
      for (const p of stats.pods) {
        const pod = this.podOf(p.uid);
        if (!pod) continue;
        pods.push({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: p.uid, containers: p.containers ?? [] });
      }
      this.last = { timestamp: new Date(started).toISOString().replace(/\.\d{3}Z$/, 'Z'), windowSeconds: INTERVAL_MS / 1000, node: stats.node, pods };
    } catch (err) {
      log.v(1, 'sampling resource usage failed', { error: (err as Error).message });
    }
  }
}
