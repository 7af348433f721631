// The HorizontalPodAutoscaler controller (upstream horizontal-pod-autoscaler-controller) for
// autoscaling/v2: every 15 s read the target's scale subresource, compute the desired
// replicas from resource metrics (metrics.k8s.io, once something serves it), stabilize and
// rate-limit them per spec.behavior, write the scale, and report status and conditions.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { HorizontalPodAutoscaler, MetricSpec } from 'kubernetes-types/autoscaling/v2.js';
import { parseLabelSelector, matchesLabels } from '../apimachinery/labels.js';
import { ApiError, isNotFound, type ApiClient } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import type { EventRecorder } from './framework/events.js';
import { keyOf, splitKey, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { applyRateAndBounds, cpuMilli, resourceReplicas, stabilize, type PodMetric, type Recommendation, type ScaleEvent } from './horizontal-pod-autoscaler-logic.js';

/** upstream --horizontal-pod-autoscaler-sync-period */
export const HPA_SYNC_MS = 15_000;
const now8601 = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Where pod metrics come from; the default reads metrics.k8s.io through the API server. */
export interface MetricsSource {
  podMetrics(namespace: string, selector: string, resource: string): Promise<Map<string, PodMetric>>;
}

export class ResourceMetricsApi implements MetricsSource {
  constructor(private readonly client: ApiClient) {}

  async podMetrics(namespace: string, selector: string, resource: string): Promise<Map<string, PodMetric>> {
    let list: { items: any[] };
    try {
      list = await this.client.list<any>(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods`, selector ? { labelSelector: selector } : undefined);
    } catch (e) {
      const why = isNotFound(e) || (e instanceof ApiError && e.code === 503)
        ? 'the server could not find the requested resource (get pods.metrics.k8s.io)'
        : (e as Error).message;
      throw new Error(`unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${why}`);
    }
    const out = new Map<string, PodMetric>();
    for (const item of list.items ?? []) {
      let sum = 0;
      for (const c of item.containers ?? []) sum += cpuMilli(c.usage?.[resource]);
      const window = /^(\d+(?:\.\d+)?)s$/.exec(item.window ?? '');
      out.set(item.metadata?.name, { value: sum, timestampMs: Date.parse(item.timestamp ?? '') || Date.now(), windowMs: window ? Number(window[1]) * 1000 : 60_000 });
    }
    if (out.size === 0) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    return out;
  }
}

interface Scale {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

function scalePath(ns: string, ref: { apiVersion?: string; kind: string; name: string }): string {
  const gv = ref.apiVersion ?? 'v1';
  const base = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
  return `${base}/namespaces/${ns}/${ref.kind.toLowerCase()}s/${ref.name}/scale`;
}

type Condition = { type: string; status: string; reason: string; message: string; lastTransitionTime?: string };

function setCondition(conds: Condition[], type: string, status: string, reason: string, message: string): void {
  const i = conds.findIndex((c) => c.type === type);
  const prev = conds[i];
  const next = { type, status, reason, message, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now8601() };
  if (i >= 0) conds[i] = next;
  else conds.push(next);
}

export class HorizontalPodAutoscalerController implements Controller {
  readonly name = 'horizontalpodautoscaling';
  private readonly queue = new WorkQueue();
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleEvents = new Map<string, ScaleEvent[]>();
  private client!: ApiClient;
  private recorder!: EventRecorder;
  private hpas!: Informer<HorizontalPodAutoscaler>;
  private pods!: Informer<Pod>;

  constructor(private readonly metrics?: MetricsSource) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.client = ctx.client;
    this.recorder = ctx.recorder('horizontal-pod-autoscaler');
    const metrics = this.metrics ?? new ResourceMetricsApi(ctx.client);
    this.hpas = ctx.informers.for<HorizontalPodAutoscaler>('/apis/autoscaling/v2/horizontalpodautoscalers');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.hpas.on('add', (h) => this.queue.add(keyOf(h)));
    this.hpas.on('update', (h, old?: HorizontalPodAutoscaler) => {
      // Our own status writes come back as updates; only spec changes warrant an immediate sync.
      if (!old || old.metadata?.generation !== h.metadata?.generation) this.queue.add(keyOf(h));
    });
    this.hpas.on('delete', (h) => {
      this.recommendations.delete(keyOf(h));
      this.scaleEvents.delete(keyOf(h));
    });
    await Promise.all([this.hpas.start(ctx.signal), this.pods.start(ctx.signal)]);
    await runWorkers(
      this.queue,
      workers,
      async (key) => {
        try {
          await this.sync(key, metrics);
        } finally {
          if (this.hpas.get(key)) this.queue.addAfter(key, HPA_SYNC_MS);
        }
      },
      ctx.signal,
      ctx.log,
    );
  }

  private async sync(key: string, metrics: MetricsSource): Promise<void> {
    const hpa = this.hpas.get(key);
    if (!hpa || hpa.metadata?.deletionTimestamp) return;
    const { namespace } = splitKey(key);
    const ref = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: hpa.metadata };
    const spec = hpa.spec!;
    const status = structuredClone(hpa.status ?? {}) as any;
    const conds: Condition[] = structuredClone(status.conditions ?? []);
    const target = spec.scaleTargetRef;
    let scale: Scale;
    try {
      scale = await this.client.get<Scale>(scalePath(namespace!, target));
    } catch (e) {
      const msg = `the HPA controller was unable to get the target's current scale: ${(e as Error).message}`;
      setCondition(conds, 'AbleToScale', 'False', 'FailedGetScale', msg);
      this.recorder.event(ref, 'Warning', 'FailedGetScale', (e as Error).message);
      await this.writeStatus(hpa, { ...status, conditions: conds });
      return;
    }
    setCondition(conds, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current = scale.spec?.replicas ?? 0;
    status.currentReplicas = scale.status?.replicas ?? 0;
    const min = spec.minReplicas ?? 1;
    const max = spec.maxReplicas;
    const now = Date.now();
    let desired: number;
    let reason = '';
    if (current === 0 && min !== 0) {
      desired = 0;
      setCondition(conds, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > max) {
      desired = max;
      reason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (current < min) {
      desired = min;
      reason = 'Current number of replicas below Spec.MinReplicas';
    } else {
      const computed = await this.computeMetrics(hpa, namespace!, current, scale.status?.selector ?? '', metrics, now);
      if ('error' in computed) {
        setCondition(conds, 'ScalingActive', 'False', computed.reason, `the HPA was unable to compute the replica count: ${computed.error}`);
        this.recorder.event(ref, 'Warning', computed.reason, computed.error);
        this.recorder.event(ref, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (1 invalid out of ${(spec.metrics ?? []).length || 1}), first error is: failed to get cpu resource metric value: ${computed.error}`);
        await this.writeStatus(hpa, { ...status, currentMetrics: computed.currentMetrics, conditions: conds });
        return;
      }
      status.currentMetrics = computed.currentMetrics;
      setCondition(conds, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${computed.metricName}`);
      const history = (this.recommendations.get(key) ?? []).filter((r) => r.timestampMs > now - 3600_000);
      const stabilized = stabilize(computed.replicas, current, history, spec.behavior, now);
      history.push({ replicas: computed.replicas, timestampMs: now });
      this.recommendations.set(key, history);
      const events = (this.scaleEvents.get(key) ?? []).filter((e) => e.timestampMs > now - 3600_000);
      const bounded = applyRateAndBounds(stabilized, current, min, max, spec.behavior, events, now);
      desired = bounded.replicas;
      setCondition(conds, 'ScalingLimited', bounded.reason === 'DesiredWithinRange' ? 'False' : 'True', bounded.reason, bounded.message);
      if (desired !== current) reason = `${computed.metricName} ${desired > current ? 'above' : 'below'} target`;
      if (stabilized !== computed.replicas) {
        setCondition(conds, 'AbleToScale', 'True', stabilized > computed.replicas ? 'ScaleDownStabilized' : 'ScaleUpStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
      }
    }
    if (desired !== current && reason) {
      try {
        await this.client.patch(scalePath(namespace!, target), { spec: { replicas: desired } }, 'merge');
      } catch (e) {
        setCondition(conds, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(e as Error).message}`);
        this.recorder.event(ref, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${(e as Error).message}`);
        await this.writeStatus(hpa, { ...status, conditions: conds });
        throw e;
      }
      const events = this.scaleEvents.get(key) ?? [];
      events.push({ change: desired - current, timestampMs: now });
      this.scaleEvents.set(key, events);
      setCondition(conds, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.recorder.event(ref, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      status.lastScaleTime = now8601();
    } else if (conds.find((c) => c.type === 'AbleToScale')?.reason === 'SucceededGetScale') {
      setCondition(conds, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    status.desiredReplicas = desired;
    status.conditions = conds;
    await this.writeStatus(hpa, status);
  }

  /** computeReplicasForMetrics for the Resource metrics (utilization targets) we support. */
  private async computeMetrics(hpa: HorizontalPodAutoscaler, ns: string, current: number, selector: string, source: MetricsSource, now: number):
    Promise<{ replicas: number; metricName: string; currentMetrics: unknown[] } | { error: string; reason: string; currentMetrics: unknown[] }> {
    const specs: MetricSpec[] = hpa.spec?.metrics?.length ? [...hpa.spec.metrics] : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    let best: { replicas: number; metricName: string } | undefined;
    const currentMetrics: unknown[] = [];
    let firstError: { error: string; reason: string } | undefined;
    for (const m of specs) {
      if (m.type !== 'Resource' || !m.resource) {
        firstError ??= { error: `unsupported metric source type "${m.type}"`, reason: `FailedGet${m.type}Metric` };
        currentMetrics.push({ type: '' });
        continue;
      }
      const resource = m.resource.name;
      try {
        if (m.resource.target.type !== 'Utilization' || m.resource.target.averageUtilization === undefined) {
          throw new Error(`unsupported target type "${m.resource.target.type}" for resource ${resource}`);
        }
        const sel = parseLabelSelector(selector);
        const pods = this.pods.list(ns).filter((p) => matchesLabels(sel, p.metadata?.labels ?? {}));
        const podMetrics = await source.podMetrics(ns, selector, resource);
        const r = resourceReplicas(current, m.resource.target.averageUtilization, resource, pods, podMetrics, now);
        currentMetrics.push({ type: 'Resource', resource: { name: resource, current: { averageUtilization: r.utilization, averageValue: `${r.averageValue}m` } } });
        const metricName = `${resource} resource utilization (percentage of request)`;
        if (!best || r.replicas > best.replicas) best = { replicas: r.replicas, metricName };
      } catch (e) {
        firstError ??= { error: `failed to get ${resource} utilization: ${(e as Error).message}`, reason: 'FailedGetResourceMetric' };
        currentMetrics.push({ type: '' });
      }
    }
    if (!best) return { ...firstError!, currentMetrics };
    return { ...best, currentMetrics };
  }

  private async writeStatus(hpa: HorizontalPodAutoscaler, status: any): Promise<void> {
    if (status.currentMetrics?.every((m: any) => !m.type)) delete status.currentMetrics;
    if (status.desiredReplicas === undefined) status.desiredReplicas = hpa.status?.desiredReplicas ?? 0;
    if (status.currentReplicas === undefined) status.currentReplicas = hpa.status?.currentReplicas ?? 0;
    if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
    if (JSON.stringify(status) === JSON.stringify(hpa.status ?? {})) return;
    const next = { ...structuredClone(hpa), status } as any;
    const ns = hpa.metadata!.namespace!;
    await this.client.update(`/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${hpa.metadata!.name}/status`, next);
  }
}
