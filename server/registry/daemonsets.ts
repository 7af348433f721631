// apps/v1 DaemonSet: SetDefaults_DaemonSet, ValidateDaemonSet*, the template generation that
// apps/v1 carries in the `deprecated.daemonset.template.generation` annotation, and the printer.
import type { DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy } from 'kubernetes-types/apps/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { goIntOrString, goLabelSelector, goValue, invalidRaw, notSupportedRaw } from './go-format.js';
import { formatLabels, formatSelector, selectsEverything, validateLabelSelector } from './label-selector-validation.js';
import {
  CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, containerCells, deepEqual, immutableSelector, intOrPercentValue,
  nonNegative, nonNegativeFields, notMoreThan100Percent, selectorColumn, setGeneration, setStatus,
  validateControllerTemplate, validatePositiveIntOrPercent,
} from './workload-helpers.js';

type Obj = Stored<DaemonSet>;

/** apps/v1 stores the internal spec.templateGeneration here; the DaemonSet controller reads it. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= { template: {} } as DaemonSetSpec);
  const us = (spec.updateStrategy ??= {});
  us.type ||= 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = (us.rollingUpdate ??= {});
    ru.maxUnavailable ??= 1;
    ru.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function validateUpdateStrategy(us: DaemonSetUpdateStrategy | undefined, path: string): FieldError[] {
  switch (us?.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (!ru) return [fieldErrors.required(`${path}.rollingUpdate`)];
      const p = `${path}.rollingUpdate`;
      const out = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`),
        ...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...notMoreThan100Percent(ru.maxSurge, `${p}.maxSurge`),
      ];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) out.push(invalidRaw(`${p}.maxSurge`, goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) out.push(fieldErrors.required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return out;
    }
    default:
      return [notSupportedRaw(path, `apps.DaemonSetUpdateStrategy{Type:${goValue(us?.type ?? '')}, RollingUpdate:${us?.rollingUpdate ? '&apps.RollingUpdateDaemonSet{...}' : '(*apps.RollingUpdateDaemonSet)(nil)'}}`, ['RollingUpdate', 'OnDelete'])];
  }
}

function validateSpec(spec: DaemonSetSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({} as DaemonSetSpec);
  const out = validateLabelSelector(s.selector, `${path}.selector`);
  out.push(...validateControllerTemplate(s.template, s.selector, `${path}.template`, 'DaemonSet'));
  if (s.selector && selectsEverything(s.selector)) {
    out.push(invalidRaw(`${path}.selector`, goLabelSelector(s.selector), 'empty selector is invalid for daemonset'));
  }
  out.push(...nonNegative(`${path}.minReadySeconds`, s.minReadySeconds));
  out.push(...validateUpdateStrategy(s.updateStrategy, `${path}.updateStrategy`));
  out.push(...nonNegative(`${path}.revisionHistoryLimit`, s.revisionHistoryLimit));
  return out;
}

function templateGeneration(obj: Obj | undefined): number {
  const v = Number(obj?.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '0');
  return Number.isInteger(v) && v >= 0 ? v : 0;
}

function setTemplateGeneration(obj: Obj, n: number): void {
  const meta = (obj.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(n) };
}

const daemonsets: ResourceDefinition<Obj> = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  generation: true,
  subresources: { status: true },
  strategy: {
    defaults,
    prepareForCreate(obj) {
      setStatus(obj, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
      setTemplateGeneration(obj, 1);
    },
    prepareForUpdate(obj, old) {
      // Users may not set the template generation; it moves only with the template.
      const previous = templateGeneration(old);
      if (!deepEqual(obj.spec?.template, old.spec?.template)) {
        setTemplateGeneration(obj, previous + 1);
        setGeneration(obj, (old.metadata?.generation ?? 0) + 1);
      } else {
        setTemplateGeneration(obj, previous);
      }
    },
    validate: (obj) => validateSpec(obj.spec, 'spec'),
    validateUpdate: (obj, old) => immutableSelector('spec.selector', obj.spec?.selector, old.spec?.selector),
    validateStatusUpdate: (obj) => nonNegativeFields(obj.status, 'status', [
      'currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
      'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount',
    ]),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).' },
      { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.' },
      { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.' },
      { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod' },
      { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)' },
      { name: 'Node Selector', type: 'string', description: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node." },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      selectorColumn('A label query over pods that are managed by the daemon set. Must match in order to be controlled.'),
    ],
    row(obj) {
      const st = obj.status;
      const [containers, images] = containerCells(obj.spec?.template?.spec);
      return [
        obj.metadata?.name ?? '',
        st?.desiredNumberScheduled ?? 0,
        st?.currentNumberScheduled ?? 0,
        st?.numberReady ?? 0,
        st?.updatedNumberScheduled ?? 0,
        st?.numberAvailable ?? 0,
        formatLabels(obj.spec?.template?.spec?.nodeSelector),
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
        formatSelector(obj.spec?.selector),
      ];
    },
  },
};

export default daemonsets;
