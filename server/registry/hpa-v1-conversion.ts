// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler, as upstream's conversion: v1 has
// only targetCPUUtilizationPercentage; everything else v2 knows (other metrics, current
// metrics, conditions, behavior) rides in round-trip annotations so v1 clients do not lose it.
import type { HorizontalPodAutoscaler as HPAv1Type } from 'kubernetes-types/autoscaling/v1.js';
import type {
  CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerSpec,
  MetricSpec, MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { cpuUtilizationMetric, type HPAv2 } from './hpa-common.js';
import { type Stored, clone } from './workload-helpers.js';

export type HPAv1 = Stored<HPAv1Type>;

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP = [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

// The annotations carry autoscaling/v1's unserved MetricSpec/MetricStatus shapes, which
// kubernetes-types does not model.
interface V1ResourceSource { name: string; container?: string; targetAverageUtilization?: number; targetAverageValue?: string }
interface V1ResourceStatus { name: string; container?: string; currentAverageUtilization?: number; currentAverageValue?: string }
interface V1MetricSpec {
  type: string;
  resource?: V1ResourceSource;
  containerResource?: V1ResourceSource;
  pods?: { metricName: string; targetAverageValue?: string; selector?: LabelSelector };
  object?: { target: CrossVersionObjectReference; metricName: string; targetValue?: string; selector?: LabelSelector; averageValue?: string };
  external?: { metricName: string; metricSelector?: LabelSelector; targetValue?: string; targetAverageValue?: string };
}
interface V1MetricStatus {
  type: string;
  resource?: V1ResourceStatus;
  containerResource?: V1ResourceStatus;
  pods?: { metricName: string; currentAverageValue?: string; selector?: LabelSelector };
  object?: { target: CrossVersionObjectReference; metricName: string; currentValue?: string; selector?: LabelSelector; averageValue?: string };
  external?: { metricName: string; metricSelector?: LabelSelector; currentValue?: string; currentAverageValue?: string };
}
/** Upstream marshals the internal behavior type, which has no JSON tags: Go field names. */
interface GoScalingRules { StabilizationWindowSeconds?: number | null; SelectPolicy?: string | null; Policies?: { Type: string; Value: number; PeriodSeconds: number }[] | null }
interface GoBehavior { ScaleUp?: GoScalingRules | null; ScaleDown?: GoScalingRules | null }

function metricToV1(m: MetricSpec): V1MetricSpec {
  const out: V1MetricSpec = { type: m.type };
  const r = m.resource ?? m.containerResource;
  const rv1 = r && { name: r.name, targetAverageUtilization: r.target.averageUtilization, targetAverageValue: r.target.averageValue };
  if (m.resource && rv1) out.resource = rv1;
  if (m.containerResource && rv1) out.containerResource = { ...rv1, container: m.containerResource.container };
  if (m.pods) out.pods = { metricName: m.pods.metric.name, selector: m.pods.metric.selector, targetAverageValue: m.pods.target.averageValue };
  if (m.object) {
    out.object = {
      target: m.object.describedObject, metricName: m.object.metric.name, selector: m.object.metric.selector,
      targetValue: m.object.target.value, averageValue: m.object.target.averageValue,
    };
  }
  if (m.external) {
    out.external = {
      metricName: m.external.metric.name, metricSelector: m.external.metric.selector,
      targetValue: m.external.target.value, targetAverageValue: m.external.target.averageValue,
    };
  }
  return out;
}

function metricFromV1(m: V1MetricSpec): MetricSpec {
  const out: MetricSpec = { type: m.type };
  const resourceTarget = (r: V1ResourceSource) => ({
    type: r.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization',
    averageUtilization: r.targetAverageUtilization, averageValue: r.targetAverageValue,
  });
  if (m.resource) out.resource = { name: m.resource.name, target: resourceTarget(m.resource) };
  if (m.containerResource) {
    out.containerResource = { name: m.containerResource.name, container: m.containerResource.container ?? '', target: resourceTarget(m.containerResource) };
  }
  if (m.pods) out.pods = { metric: { name: m.pods.metricName, selector: m.pods.selector }, target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue } };
  if (m.object) {
    out.object = {
      describedObject: m.object.target, metric: { name: m.object.metricName, selector: m.object.selector },
      target: { type: m.object.averageValue === undefined ? 'Value' : 'AverageValue', value: m.object.targetValue, averageValue: m.object.averageValue },
    };
  }
  if (m.external) {
    out.external = {
      metric: { name: m.external.metricName, selector: m.external.metricSelector },
      target: { type: m.external.targetValue === undefined ? 'AverageValue' : 'Value', value: m.external.targetValue, averageValue: m.external.targetAverageValue },
    };
  }
  return out;
}

function statusToV1(s: MetricStatus): V1MetricStatus {
  const out: V1MetricStatus = { type: s.type };
  const r = s.resource ?? s.containerResource;
  const rv1 = r && { name: r.name, currentAverageUtilization: r.current.averageUtilization, currentAverageValue: r.current.averageValue };
  if (s.resource && rv1) out.resource = rv1;
  if (s.containerResource && rv1) out.containerResource = { ...rv1, container: s.containerResource.container };
  if (s.pods) out.pods = { metricName: s.pods.metric.name, selector: s.pods.metric.selector, currentAverageValue: s.pods.current.averageValue };
  if (s.object) {
    out.object = {
      target: s.object.describedObject, metricName: s.object.metric.name, selector: s.object.metric.selector,
      currentValue: s.object.current.value, averageValue: s.object.current.averageValue,
    };
  }
  if (s.external) {
    out.external = {
      metricName: s.external.metric.name, metricSelector: s.external.metric.selector,
      currentValue: s.external.current.value, currentAverageValue: s.external.current.averageValue,
    };
  }
  return out;
}

function statusFromV1(s: V1MetricStatus): MetricStatus {
  const out: MetricStatus = { type: s.type };
  const current = (r: V1ResourceStatus) => ({ averageUtilization: r.currentAverageUtilization, averageValue: r.currentAverageValue });
  if (s.resource) out.resource = { name: s.resource.name, current: current(s.resource) };
  if (s.containerResource) out.containerResource = { name: s.containerResource.name, container: s.containerResource.container ?? '', current: current(s.containerResource) };
  if (s.pods) out.pods = { metric: { name: s.pods.metricName, selector: s.pods.selector }, current: { averageValue: s.pods.currentAverageValue } };
  if (s.object) {
    out.object = {
      describedObject: s.object.target, metric: { name: s.object.metricName, selector: s.object.selector },
      current: { value: s.object.currentValue, averageValue: s.object.averageValue },
    };
  }
  if (s.external) {
    out.external = {
      metric: { name: s.external.metricName, selector: s.external.metricSelector },
      current: { value: s.external.currentValue, averageValue: s.external.currentAverageValue },
    };
  }
  return out;
}

const rulesToGo = (r: HPAScalingRules | undefined): GoScalingRules | null => (!r ? null : {
  StabilizationWindowSeconds: r.stabilizationWindowSeconds ?? null,
  SelectPolicy: r.selectPolicy ?? null,
  Policies: r.policies ? r.policies.map((p) => ({ Type: p.type, Value: p.value, PeriodSeconds: p.periodSeconds })) : null,
});

function rulesFromGo(r: GoScalingRules | null | undefined): HPAScalingRules | undefined {
  if (!r) return undefined;
  const out: HPAScalingRules = {};
  if (r.StabilizationWindowSeconds !== null && r.StabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = r.StabilizationWindowSeconds;
  if (r.SelectPolicy) out.selectPolicy = r.SelectPolicy;
  if (r.Policies) out.policies = r.Policies.map((p) => ({ type: p.Type, value: p.Value, periodSeconds: p.PeriodSeconds }));
  return out;
}

function parseJSON<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

const isCPUUtilization = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.averageUtilization !== undefined;

/** Stored v2 -> served v1. */
export function hpaToV1(obj: HPAv2): HPAv1 {
  const spec = obj.spec ?? ({} as HorizontalPodAutoscalerSpec);
  const metrics = spec.metrics ?? [];
  const cpu = metrics.find(isCPUUtilization);
  const others = metrics.filter((m) => m !== cpu);
  const metadata = clone(obj.metadata ?? {});
  const annotations: Record<string, string> = { ...(metadata.annotations ?? {}) };
  for (const k of ROUND_TRIP) delete annotations[k];
  const st = obj.status;
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others.map(metricToV1));
  if (st?.currentMetrics?.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(st.currentMetrics.map(statusToV1));
  if (spec.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify({ ScaleUp: rulesToGo(spec.behavior.scaleUp), ScaleDown: rulesToGo(spec.behavior.scaleDown) });
  if (st?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(st.conditions);
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const cpuStatus = st?.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization !== undefined);
  const out: HPAv1 = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: clone(spec.scaleTargetRef),
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target.averageUtilization,
    },
  };
  if (st) {
    out.status = {
      observedGeneration: st.observedGeneration,
      lastScaleTime: st.lastScaleTime,
      currentReplicas: st.currentReplicas ?? 0,
      desiredReplicas: st.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuStatus?.resource?.current.averageUtilization,
    };
  }
  return clone(out);
}

/** Served v1 -> stored v2 (before v2 defaults, which the caller applies). */
export function hpaFromV1(obj: HPAv1): HPAv2 {
  const spec = obj.spec;
  const metadata = clone(obj.metadata ?? {});
  const given = metadata.annotations ?? {};
  const annotations: Record<string, string> = { ...given };
  for (const k of ROUND_TRIP) delete annotations[k];
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  // Metrics from the annotation come first and the CPU target last, as upstream orders them.
  const metrics = (parseJSON<V1MetricSpec[]>(given[METRICS_ANNOTATION]) ?? []).map(metricFromV1);
  if (spec?.targetCPUUtilizationPercentage !== undefined) metrics.push(cpuUtilizationMetric(spec.targetCPUUtilizationPercentage));
  const goBehavior = parseJSON<GoBehavior>(given[BEHAVIOR_ANNOTATION]);
  const behavior: HorizontalPodAutoscalerBehavior | undefined = goBehavior
    ? { scaleUp: rulesFromGo(goBehavior.ScaleUp), scaleDown: rulesFromGo(goBehavior.ScaleDown) }
    : undefined;
  const out: HPAv2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: clone(spec?.scaleTargetRef) ?? { kind: '', name: '' },
      minReplicas: spec?.minReplicas,
      maxReplicas: spec?.maxReplicas ?? 0,
      metrics,
      behavior,
    },
  };
  const st = obj.status;
  if (st) {
    let currentMetrics: MetricStatus[] | undefined = (parseJSON<V1MetricStatus[]>(given[CURRENT_METRICS_ANNOTATION]))?.map(statusFromV1);
    if (!currentMetrics && st.currentCPUUtilizationPercentage !== undefined) {
      currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } }];
    }
    out.status = {
      observedGeneration: st.observedGeneration,
      lastScaleTime: st.lastScaleTime,
      currentReplicas: st.currentReplicas,
      desiredReplicas: st.desiredReplicas ?? 0,
      currentMetrics,
      conditions: parseJSON<HorizontalPodAutoscalerCondition[]>(given[CONDITIONS_ANNOTATION]),
    };
  }
  // clone() also drops the members left undefined above.
  return clone(out);
}
