// Pure parts of the HorizontalPodAutoscaler controller (upstream pkg/controller/podautoscaler):
// the resource-utilization replica calculation with its tolerance and missing/unready pod
// handling, the stabilization windows and the scaling policies of spec.behavior.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2.js';

/** upstream --horizontal-pod-autoscaler-tolerance */
export const TOLERANCE = 0.1;
/** upstream --horizontal-pod-autoscaler-cpu-initialization-period / initial-readiness-delay */
const CPU_INITIALIZATION_MS = 5 * 60_000;
const INITIAL_READINESS_DELAY_MS = 30_000;

export interface PodMetric {
  /** usage in milli-units (milli-CPU) */
  value: number;
  timestampMs: number;
  windowMs: number;
}

function milli(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return Math.round(q * 1000);
  const m = /^([0-9.]+)(m|n|u|k|M|G)?$/.exec(q.trim());
  if (!m) return 0;
  const base = Number(m[1]);
  const mult: Record<string, number> = { '': 1000, m: 1, n: 1e-6, u: 1e-3, k: 1e6, M: 1e9, G: 1e12 };
  return Math.ceil(base * mult[m[2] ?? '']);
}
export const cpuMilli = milli;

/** Sum of the containers' requests for a resource, or undefined when one container has none. */
export function podRequest(pod: Pod, resource: string): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = c.resources?.requests?.[resource];
    if (r === undefined) return undefined;
    sum += milli(r);
  }
  return sum;
}

const isReady = (pod: Pod): boolean => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** upstream groupPods: which pods count, which are unready (CPU only) or missing metrics, which are ignored. */
export function groupPods(pods: Pod[], metrics: Map<string, PodMetric>, resource: string, now: number) {
  const ready = new Set<string>();
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
      ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const start = Date.parse(pod.status?.startTime ?? '') || 0;
      const readyCond = pod.status?.conditions?.find((c) => c.type === 'Ready');
      const transition = Date.parse(readyCond?.lastTransitionTime ?? '') || 0;
      let unreadyPod: boolean;
      if (start + CPU_INITIALIZATION_MS > now) {
        unreadyPod = !isReady(pod) || metric.timestampMs < transition + metric.windowMs;
      } else {
        unreadyPod = !isReady(pod) && start + INITIAL_READINESS_DELAY_MS > transition;
      }
      if (unreadyPod) {
        unready.add(name);
        continue;
      }
    }
    ready.add(name);
  }
  return { ready, unready, missing, ignored };
}

/** upstream GetResourceUtilizationRatio: (ratio, utilization %, raw average milli). */
export function utilizationRatio(metrics: Map<string, PodMetric>, requests: Map<string, number>, target: number) {
  let usage = 0;
  let request = 0;
  for (const [name, m] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    usage += m.value;
    request += r;
  }
  if (request === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((usage * 100) / request);
  return { ratio: utilization / target, utilization, average: Math.trunc(usage / metrics.size) };
}

export interface ReplicaResult {
  replicas: number;
  utilization: number;
  averageValue: number;
}

/** upstream ReplicaCalculator.GetResourceReplicas. Throws when no pod's request is known. */
export function resourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  pods: Pod[],
  podMetrics: Map<string, PodMetric>,
  now: number,
): ReplicaResult {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const requests = new Map<string, number>();
  for (const p of pods) {
    const r = podRequest(p, resource);
    if (r === undefined) throw new Error(`missing request for ${resource} in container of pod ${p.metadata?.name}`);
    requests.set(p.metadata?.name ?? '', r);
  }
  const { ready, unready, missing, ignored } = groupPods(pods, podMetrics, resource, now);
  const metrics = new Map([...podMetrics].filter(([n]) => !ignored.has(n) && !unready.has(n) && requests.has(n)));
  if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const first = utilizationRatio(metrics, requests, targetUtilization);
  const scaleUpWithUnready = unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= TOLERANCE) return { replicas: currentReplicas, utilization: first.utilization, averageValue: first.average };
    return { replicas: Math.ceil(first.ratio * ready.size), utilization: first.utilization, averageValue: first.average };
  }
  // Missing pods count as using their full request on scale down and nothing on scale up;
  // unready pods count as using nothing on scale up.
  for (const name of missing) {
    metrics.set(name, { value: first.ratio < 1 ? requests.get(name)! : 0, timestampMs: now, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const name of unready) metrics.set(name, { value: 0, timestampMs: now, windowMs: 0 });
  const second = utilizationRatio(metrics, requests, targetUtilization);
  const unchanged = { replicas: currentReplicas, utilization: first.utilization, averageValue: first.average };
  if (Math.abs(1 - second.ratio) <= TOLERANCE || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return unchanged;
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return unchanged;
  return { replicas, utilization: first.utilization, averageValue: first.average };
}

// ---- behavior ----

export interface Recommendation {
  replicas: number;
  timestampMs: number;
}
export interface ScaleEvent {
  /** replicas added (positive) or removed (negative) */
  change: number;
  timestampMs: number;
}

const DEFAULT_SCALE_UP: Required<Pick<HPAScalingRules, 'stabilizationWindowSeconds' | 'selectPolicy'>> & { policies: { type: string; value: number; periodSeconds: number }[] } = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
const DEFAULT_SCALE_DOWN = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

/** upstream GenerateHPAScaleUpRules / ScaleDownRules: the API server's defaults for spec.behavior. */
export function effectiveRules(behavior: HorizontalPodAutoscalerBehavior | undefined, direction: 'up' | 'down') {
  const d = direction === 'up' ? DEFAULT_SCALE_UP : DEFAULT_SCALE_DOWN;
  const r = direction === 'up' ? behavior?.scaleUp : behavior?.scaleDown;
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy ?? d.selectPolicy,
    policies: r?.policies?.length ? r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })) : d.policies,
  };
}

/** upstream stabilizeRecommendationWithBehaviors: the most conservative recommendation within each window. */
export function stabilize(desired: number, current: number, history: Recommendation[], behavior: HorizontalPodAutoscalerBehavior | undefined, now: number): number {
  const upCutoff = now - effectiveRules(behavior, 'up').stabilizationWindowSeconds * 1000;
  const downCutoff = now - effectiveRules(behavior, 'down').stabilizationWindowSeconds * 1000;
  let up = desired;
  let down = desired;
  for (const r of history) {
    if (r.timestampMs > upCutoff) up = Math.min(up, r.replicas);
    if (r.timestampMs > downCutoff) down = Math.max(down, r.replicas);
  }
  let rec = current;
  if (rec < up) rec = up;
  if (rec > down) rec = down;
  return rec;
}

const changeInPeriod = (events: ScaleEvent[], periodSeconds: number, now: number, sign: 1 | -1): number =>
  events.filter((e) => e.timestampMs > now - periodSeconds * 1000 && Math.sign(e.change) === sign).reduce((s, e) => s + Math.abs(e.change), 0);

/**
 * upstream convertDesiredReplicasWithBehaviorRate: the policies' limit on how far one step may
 * go, then min/max replicas. Returns the replicas and the limiting condition reason.
 */
export function applyRateAndBounds(
  desired: number,
  current: number,
  min: number,
  max: number,
  behavior: HorizontalPodAutoscalerBehavior | undefined,
  events: ScaleEvent[],
  now: number,
): { replicas: number; reason: string; message: string } {
  if (desired > current) {
    const rules = effectiveRules(behavior, 'up');
    if (rules.selectPolicy === 'Disabled') return { replicas: current, reason: 'ScalingDisabled', message: 'scaling is disabled by the scaleUp policy' };
    let limit = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
    for (const p of rules.policies) {
      const start = current - changeInPeriod(events, p.periodSeconds, now, 1);
      const l = p.type === 'Percent' ? Math.ceil(start * (1 + p.value / 100)) : start + p.value;
      limit = rules.selectPolicy === 'Min' ? Math.min(limit, l) : Math.max(limit, l);
    }
    const upper = Math.min(limit, max);
    if (desired > upper) {
      return upper === max
        ? { replicas: max, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }
        : { replicas: upper, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
    }
  } else if (desired < current) {
    const rules = effectiveRules(behavior, 'down');
    if (rules.selectPolicy === 'Disabled') return { replicas: current, reason: 'ScalingDisabled', message: 'scaling is disabled by the scaleDown policy' };
    let limit = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
    for (const p of rules.policies) {
      const start = current + changeInPeriod(events, p.periodSeconds, now, -1);
      const l = p.type === 'Percent' ? Math.ceil(start * (1 - p.value / 100)) : start - p.value;
      limit = rules.selectPolicy === 'Min' ? Math.max(limit, l) : Math.min(limit, l);
    }
    const lower = Math.max(limit, min);
    if (desired < lower) {
      return lower === min
        ? { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }
        : { replicas: lower, reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
    }
  }
  if (desired > max) return { replicas: max, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  if (desired < min) return { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}
