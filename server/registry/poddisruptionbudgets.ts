// policy/v1 PodDisruptionBudget: ValidatePodDisruptionBudget{Spec,Status}, the zeroed status a
// new budget starts with, and the printer.
import type { PodDisruptionBudget, PodDisruptionBudgetSpec } from 'kubernetes-types/policy/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goValue, invalidRaw } from './go-format.js';
import { validateLabelSelector } from './label-selector-validation.js';
import { type Stored, nonNegativeFields, notMoreThan100Percent, setStatus, validatePositiveIntOrPercent } from './workload-helpers.js';

type Obj = Stored<PodDisruptionBudget>;

function validateSpec(spec: PodDisruptionBudgetSpec | undefined, path: string): FieldError[] {
  const s = spec ?? {};
  const out: FieldError[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) {
    out.push(invalidRaw(path, goValue(s), 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const k of ['minAvailable', 'maxUnavailable'] as const) {
    if (s[k] === undefined) continue;
    out.push(...validatePositiveIntOrPercent(s[k], `${path}.${k}`), ...notMoreThan100Percent(s[k], `${path}.${k}`));
  }
  out.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const policy = s.unhealthyPodEvictionPolicy;
  if (policy !== undefined && policy !== 'AlwaysAllow' && policy !== 'IfHealthyBudget') {
    out.push(fieldErrors.notSupported(`${path}.unhealthyPodEvictionPolicy`, policy, ['AlwaysAllow', 'IfHealthyBudget']));
  }
  return out;
}

const intOrNA = (v: number | string | undefined) => (v === undefined ? 'N/A' : String(v));

const poddisruptionbudgets: ResourceDefinition<Obj> = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  generation: true,
  subresources: { status: true },
  strategy: {
    defaults(obj) {
      obj.spec ??= {};
    },
    prepareForCreate(obj) {
      setStatus(obj, { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
    },
    validate: (obj) => validateSpec(obj.spec, 'spec'),
    validateStatusUpdate: (obj) => nonNegativeFields(obj.status, 'status', ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available.' },
      { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable.' },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.' },
      AGE_COLUMN,
    ],
    row: (obj) => [
      obj.metadata?.name ?? '',
      intOrNA(obj.spec?.minAvailable),
      intOrNA(obj.spec?.maxUnavailable),
      obj.status?.disruptionsAllowed ?? 0,
      age(obj.metadata?.creationTimestamp),
    ],
  },
};

export default poddisruptionbudgets;
