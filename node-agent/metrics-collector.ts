// Resource usage for metrics.k8s.io (upstream: the kubelet's /metrics/resource, scraped by
// metrics-server every 15 s): sampled from the runtime on that cadence while it is being read,
// so a request is answered from the last sample rather than waiting for Docker's two-sample stats.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../apimachinery/log.js';
import type { Runtime } from './runtime/types.js';

const log = logger('metrics-collector');
const INTERVAL_MS = 15_000;
/** Sampling stops when nobody has read a sample for this long (four of metrics-server's scrapes). */
const IDLE_AFTER_MS = 60_000;

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
  private warming?: Promise<void>;
  private lastAskedMs = 0;

  constructor(private readonly runtime: Runtime, private readonly podOf: (uid: string) => Pod | undefined) {}

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The last sample. Sampling costs a Docker stats call per container, which was half of an idle
   * agent's Docker traffic with 30 pods, so it runs only while someone reads it (metrics-server
   * upstream; here `kubectl top` and the HPA through the API server) and stops after
   * IDLE_AFTER_MS without a reader. The first read after a pause waits for two samples a second
   * apart, because CPU is a rate.
   */
  async latest(): Promise<ResourceSummary | undefined> {
    this.lastAskedMs = Date.now();
    if (!this.timer) {
      this.warming ??= this.warmUp().finally(() => (this.warming = undefined));
      await this.warming;
    }
    return this.last;
  }

  private async warmUp(): Promise<void> {
    await this.sample();
    await new Promise((r) => setTimeout(r, 1000));
    await this.sample();
    this.timer = setInterval(() => {
      if (Date.now() - this.lastAskedMs > IDLE_AFTER_MS) return this.stop();
      void this.sample();
    }, INTERVAL_MS);
    this.timer.unref();
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
