// HorizontalPodAutoscaler logic shared by autoscaling/v2 and autoscaling/v1 (which is stored as
// v2): SetDefaults for v2 (default CPU metric, behavior rules), upstream's
// validateHorizontalPodAutoscalerSpec, and the printer (formatHPAMetrics for Targets).
import type {
  CrossVersionObjectReference, HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricStatus, MetricTarget,
} from 'kubernetes-types/autoscaling/v2.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { TableColumn } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { validateLabelSelector } from './label-selector-validation.js';
import { isValidPathSegmentName } from './net-validation.js';
import type { Stored } from './workload-helpers.js';

export type HPAv2 = Stored<HorizontalPodAutoscaler>;

export const HPA_STORAGE_KEY = 'autoscaling/horizontalpodautoscalers';
export const DEFAULT_CPU_UTILIZATION = 80;

/** The CPU utilization metric autoscaling/v1 expresses as targetCPUUtilizationPercentage. */
export const cpuUtilizationMetric = (averageUtilization: number): MetricSpec => ({
  type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } },
});

const scaleUpRules = (): HPAScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
});

// The scale-down window stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
const scaleDownRules = (): HPAScalingRules => ({
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
});

function fillRules(given: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  if (!given) return defaults;
  return {
    ...defaults,
    ...(given.selectPolicy !== undefined ? { selectPolicy: given.selectPolicy } : {}),
    ...(given.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: given.stabilizationWindowSeconds } : {}),
    ...(given.policies !== undefined ? { policies: given.policies } : {}),
  };
}

/** autoscaling/v2 SetDefaults_HorizontalPodAutoscaler. */
export function defaultHPAv2(obj: HPAv2): void {
  const spec = (obj.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } } as HorizontalPodAutoscalerSpec);
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) spec.metrics = [cpuUtilizationMetric(DEFAULT_CPU_UTILIZATION)];
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, scaleUpRules());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, scaleDownRules());
  }
}

// ---- validation ----

/** Sign of a resource.Quantity string: -1, 0 or 1 (NaN-ish input counts as 0). */
function quantitySign(q: string | undefined): number {
  const m = /^([+-]?)(\d+\.?\d*|\.\d+)/.exec(String(q ?? '').trim());
  if (!m || Number(m[2]) === 0) return 0;
  return m[1] === '-' ? -1 : 1;
}

function validateReference(ref: CrossVersionObjectReference | undefined, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (!ref?.kind) out.push(fieldErrors.required(`${path}.kind`));
  else for (const m of isValidPathSegmentName(ref.kind)) out.push(fieldErrors.invalid(`${path}.kind`, ref.kind, m));
  if (!ref?.name) out.push(fieldErrors.required(`${path}.name`));
  else for (const m of isValidPathSegmentName(ref.name)) out.push(fieldErrors.invalid(`${path}.name`, ref.name, m));
  return out;
}

function validateTarget(t: MetricTarget | undefined, path: string): FieldError[] {
  const out: FieldError[] = [];
  const type = t?.type ?? '';
  if (!type) out.push(fieldErrors.required(`${path}.type`, 'must specify a metric target type'));
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') {
    out.push(fieldErrors.invalid(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  }
  if (t?.value !== undefined && quantitySign(t.value) !== 1) out.push(fieldErrors.invalid(`${path}.value`, t.value, 'must be positive'));
  if (t?.averageValue !== undefined && quantitySign(t.averageValue) !== 1) out.push(fieldErrors.invalid(`${path}.averageValue`, t.averageValue, 'must be positive'));
  if (t?.averageUtilization !== undefined && t.averageUtilization < 1) out.push(fieldErrors.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  return out;
}

/** Resource and ContainerResource sources: a resource name and exactly one of utilization or value. */
function validateResourceTarget(name: string | undefined, t: MetricTarget | undefined, path: string): FieldError[] {
  const out: FieldError[] = [];
  if (!name) out.push(fieldErrors.required(`${path}.name`, 'must specify a resource name'));
  out.push(...validateTarget(t, `${path}.target`));
  if (t?.averageUtilization === undefined && t?.averageValue === undefined) {
    out.push(fieldErrors.required(`${path}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  }
  if (t?.averageUtilization !== undefined && t.averageValue !== undefined) {
    out.push(fieldErrors.forbidden(`${path}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  return out;
}

function validateMetricIdentifier(id: { name?: string; selector?: Parameters<typeof validateLabelSelector>[0] } | undefined, path: string): FieldError[] {
  const out = id?.name ? [] : [fieldErrors.required(`${path}.name`, 'must specify a metric name')];
  return [...out, ...validateLabelSelector(id?.selector, `${path}.selector`)];
}

const SOURCE_TYPES: Record<string, keyof MetricSpec> = {
  ContainerResource: 'containerResource', External: 'external', Object: 'object', Pods: 'pods', Resource: 'resource',
};

function validateMetric(m: MetricSpec, path: string): FieldError[] {
  const out: FieldError[] = [];
  const supported = Object.keys(SOURCE_TYPES);
  if (!m.type) out.push(fieldErrors.required(`${path}.type`, 'must specify a metric source type'));
  const expected = SOURCE_TYPES[m.type];
  if (!expected) out.push(fieldErrors.notSupported(`${path}.type`, m.type ?? '', supported));
  else if (!m[expected]) out.push(fieldErrors.required(`${path}.${expected}`, 'must populate information for the given metric source'));
  const present = Object.values(SOURCE_TYPES).filter((k) => m[k] !== undefined);
  const first = present[0];
  if (first === 'resource' && m.resource) out.push(...validateResourceTarget(m.resource.name, m.resource.target, `${path}.resource`));
  if (first === 'containerResource' && m.containerResource) {
    out.push(...validateResourceTarget(m.containerResource.name, m.containerResource.target, `${path}.containerResource`));
    if (!m.containerResource.container) out.push(fieldErrors.required(`${path}.containerResource.container`, 'must specify a container'));
  }
  if (first === 'pods' && m.pods) {
    out.push(...validateMetricIdentifier(m.pods.metric, `${path}.pods.metric`), ...validateTarget(m.pods.target, `${path}.pods.target`));
    if (m.pods.target?.averageValue === undefined) out.push(fieldErrors.required(`${path}.pods.target.averageValue`, 'must specify a positive target averageValue'));
  }
  if (first === 'object' && m.object) {
    out.push(...validateReference(m.object.describedObject, `${path}.object.describedObject`));
    out.push(...validateMetricIdentifier(m.object.metric, `${path}.object.metric`), ...validateTarget(m.object.target, `${path}.object.target`));
    if (m.object.target?.value === undefined && m.object.target?.averageValue === undefined) {
      out.push(fieldErrors.required(`${path}.object.target.averageValue`, 'must set either a target value or averageValue'));
    }
  }
  if (first === 'external' && m.external) {
    out.push(...validateMetricIdentifier(m.external.metric, `${path}.external.metric`), ...validateTarget(m.external.target, `${path}.external.target`));
    const t = m.external.target;
    if (t?.value === undefined && t?.averageValue === undefined) out.push(fieldErrors.required(`${path}.external.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
    if (t?.value !== undefined && t.averageValue !== undefined) out.push(fieldErrors.forbidden(`${path}.external.target.value`, 'may not set both a target value for metric and a per-pod target'));
  }
  if (present.length > 1) {
    for (const k of present) if (k !== expected) out.push(fieldErrors.forbidden(`${path}.${k}`, 'must populate the given metric source only'));
  }
  return out;
}

function validateScalingRules(r: HPAScalingRules | undefined, path: string): FieldError[] {
  if (!r) return [];
  const out: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && w < 0) out.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (w !== undefined && w > 3600) out.push(fieldErrors.invalid(`${path}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  if (r.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(r.selectPolicy)) {
    out.push(fieldErrors.notSupported(`${path}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  if (!r.policies?.length) out.push(fieldErrors.required(`${path}.policies`, 'must specify at least one Policy'));
  (r.policies ?? []).forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (p.type !== 'Pods' && p.type !== 'Percent') out.push(fieldErrors.notSupported(`${pp}.type`, p.type ?? '', ['Percent', 'Pods']));
    if (!(p.value > 0)) out.push(fieldErrors.invalid(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    if (!(p.periodSeconds > 0)) out.push(fieldErrors.invalid(`${pp}.periodSeconds`, p.periodSeconds ?? 0, 'must be greater than zero'));
    if (p.periodSeconds > 1800) out.push(fieldErrors.invalid(`${pp}.periodSeconds`, p.periodSeconds, 'must be less than or equal to 1800'));
  });
  return out;
}

/** validateHorizontalPodAutoscalerSpec (minReplicas 0 needs the alpha HPAScaleToZero gate: off). */
export function validateHPAv2(obj: HPAv2): FieldError[] {
  const spec = obj.spec ?? ({} as HorizontalPodAutoscalerSpec);
  const out: FieldError[] = [];
  if (spec.minReplicas !== undefined && spec.minReplicas < 1) out.push(fieldErrors.invalid('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  const max = spec.maxReplicas ?? 0;
  if (max < 1) out.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (spec.minReplicas !== undefined && max < spec.minReplicas) out.push(fieldErrors.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  out.push(...validateReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  (spec.metrics ?? []).forEach((m, i) => out.push(...validateMetric(m, `spec.metrics[${i}]`)));
  out.push(...validateScalingRules(spec.behavior?.scaleUp, 'spec.behavior.scaleUp'));
  out.push(...validateScalingRules(spec.behavior?.scaleDown, 'spec.behavior.scaleDown'));
  return out;
}

export function validateHPAStatus(obj: HPAv2): FieldError[] {
  const st = obj.status;
  const out: FieldError[] = [];
  if ((st?.currentReplicas ?? 0) < 0) out.push(fieldErrors.invalid('status.currentReplicas', st?.currentReplicas, 'must be greater than or equal to 0'));
  if ((st?.desiredReplicas ?? 0) < 0) out.push(fieldErrors.invalid('status.desiredReplicas', st?.desiredReplicas, 'must be greater than or equal to 0'));
  return out;
}

// ---- printer ----

function metricCell(spec: MetricSpec, status: MetricStatus | undefined): string {
  const unknown = '<unknown>';
  switch (spec.type) {
    case 'External': {
      const t = spec.external?.target;
      if (t?.averageValue !== undefined) return `${status?.external?.current?.averageValue ?? unknown}/${t.averageValue} (avg)`;
      return `${status?.external ? status.external.current?.value ?? '0' : unknown}/${t?.value ?? '0'}`;
    }
    case 'Pods':
      return `${status?.pods ? status.pods.current?.averageValue ?? '0' : unknown}/${spec.pods?.target?.averageValue ?? '0'}`;
    case 'Object': {
      const t = spec.object?.target;
      if (t?.averageValue !== undefined) return `${status?.object?.current?.averageValue ?? unknown}/${t.averageValue} (avg)`;
      return `${status?.object ? status.object.current?.value ?? '0' : unknown}/${t?.value ?? '0'}`;
    }
    case 'Resource':
    case 'ContainerResource': {
      const src = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const cur = (spec.type === 'Resource' ? status?.resource : status?.containerResource)?.current;
      const t = src?.target;
      if (t?.averageValue !== undefined) return `${src?.name}: ${cur ? cur.averageValue ?? '0' : unknown}/${t.averageValue}`;
      const current = cur?.averageUtilization !== undefined ? `${cur.averageUtilization}%` : unknown;
      const target = t?.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>';
      return `${src?.name}: ${current}/${target}`;
    }
    default:
      return '<unknown type>';
  }
}

/** formatHPAMetrics: two targets, then "+ N more...". */
export function targetsCell(obj: HPAv2): string {
  const specs = obj.spec?.metrics ?? [];
  if (specs.length === 0) return '<none>';
  const statuses = obj.status?.currentMetrics ?? [];
  const list = specs.map((s, i) => metricCell(s, statuses[i]));
  const max = 2;
  return list.length > max ? `${list.slice(0, max).join(', ')} + ${list.length - max} more...` : list.join(', ');
}

export const HPA_COLUMNS: TableColumn[] = [
  NAME_COLUMN,
  { name: 'Reference', type: 'string', description: 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.' },
  { name: 'Targets', type: 'string', description: 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).' },
  { name: 'MinPods', type: 'string', description: 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.' },
  { name: 'MaxPods', type: 'string', description: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.' },
  { name: 'Replicas', type: 'string', description: 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.' },
  AGE_COLUMN,
];

export function hpaRow(obj: HPAv2): unknown[] {
  const spec = obj.spec;
  return [
    obj.metadata?.name ?? '',
    `${spec?.scaleTargetRef?.kind ?? ''}/${spec?.scaleTargetRef?.name ?? ''}`,
    targetsCell(obj),
    spec?.minReplicas !== undefined ? String(spec.minReplicas) : '<unset>',
    spec?.maxReplicas ?? 0,
    obj.status?.currentReplicas ?? 0,
    age(obj.metadata?.creationTimestamp),
  ];
}
