// apps/v1 Deployment: defaults (SetDefaults_Deployment), validation (ValidateDeployment*),
// strategy (generation also follows annotations, which are copied to ReplicaSets) and printer.
import type { Deployment, DeploymentSpec, DeploymentStrategy } from 'kubernetes-types/apps/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { goLabelSelector, goValue, invalidRaw, notSupportedRaw } from './go-format.js';
import { isParseableSelector, selectorString } from './label-selector-validation.js';
import {
  CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, containerCells, deepEqual, immutableSelector, intOrPercentValue, nonNegative,
  nonNegativeFields, notMoreThan100Percent, replicasScale, selectorColumn, setGeneration, validateControllerTemplate,
  validatePositiveIntOrPercent, validateRequiredSelector,
} from './workload-helpers.js';

type Obj = Stored<Deployment>;

function defaults(obj: Obj): void {
  const spec = (obj.spec ??= { template: {} } as DeploymentSpec);
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ||= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    ru.maxUnavailable ??= '25%';
    ru.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function validateStrategy(strategy: DeploymentStrategy | undefined, path: string): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate ? [fieldErrors.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      if (!s.rollingUpdate) return [fieldErrors.required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const ru = s.rollingUpdate;
      const p = `${path}.rollingUpdate`;
      const out = [
        ...validatePositiveIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`),
        ...validatePositiveIntOrPercent(ru.maxSurge, `${p}.maxSurge`),
      ];
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        out.push(invalidRaw(`${p}.maxUnavailable`, goValue(ru.maxUnavailable ?? 0), 'may not be 0 when `maxSurge` is 0'));
      }
      out.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.maxUnavailable`));
      return out;
    }
    default:
      return [notSupportedRaw(path, `apps.DeploymentStrategy{Type:${goValue(s.type ?? '')}, RollingUpdate:${s.rollingUpdate ? '&apps.RollingUpdateDeployment{...}' : '(*apps.RollingUpdateDeployment)(nil)'}}`, ['Recreate', 'RollingUpdate'])];
  }
}

/** ValidateDeploymentSpec. */
export function validateDeploymentSpec(spec: DeploymentSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({} as DeploymentSpec);
  const out: FieldError[] = [...nonNegative(`${path}.replicas`, s.replicas)];
  out.push(...validateRequiredSelector(s.selector, `${path}.selector`, 'deployment'));
  if (!isParseableSelector(s.selector)) out.push(invalidRaw(`${path}.selector`, goLabelSelector(s.selector), 'invalid label selector'));
  else out.push(...validateControllerTemplate(s.template, s.selector, `${path}.template`, 'ReplicaSet'));
  out.push(...validateStrategy(s.strategy, `${path}.strategy`));
  out.push(...nonNegative(`${path}.minReadySeconds`, s.minReadySeconds));
  out.push(...nonNegative(`${path}.revisionHistoryLimit`, s.revisionHistoryLimit));
  if (s.progressDeadlineSeconds !== undefined) {
    out.push(...nonNegative(`${path}.progressDeadlineSeconds`, s.progressDeadlineSeconds));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
      out.push(fieldErrors.invalid(`${path}.progressDeadlineSeconds`, s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return out;
}

function validateStatus(obj: Obj, old: Obj): FieldError[] {
  const st = obj.status ?? {};
  const out = nonNegativeFields(st, 'status', ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount']);
  const msg = 'cannot be greater than status.replicas';
  const replicas = st.replicas ?? 0;
  if ((st.updatedReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.updatedReplicas', st.updatedReplicas, msg));
  if ((st.readyReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.readyReplicas', st.readyReplicas, msg));
  if ((st.availableReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, msg));
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) {
    out.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, 'cannot be greater than readyReplicas'));
  }
  const oldCount = old.status?.collisionCount;
  if (oldCount !== undefined && (st.collisionCount === undefined || st.collisionCount < oldCount)) {
    out.push(fieldErrors.invalid('status.collisionCount', st.collisionCount ?? 'null', 'cannot be decremented'));
  }
  return out;
}

const deployments: ResourceDefinition<Obj> = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  generation: true,
  subresources: { status: true, scale: replicasScale },
  strategy: {
    defaults,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate(obj, old) {
      // Annotations are copied onto the ReplicaSets, so changing them is a new generation too.
      if (!deepEqual(obj.metadata?.annotations ?? {}, old.metadata?.annotations ?? {})) {
        setGeneration(obj, (old.metadata?.generation ?? 0) + 1);
      }
    },
    // Upstream's deploymentStatusStrategy resets spec and labels only: the controller records
    // the revision annotation with its status write, without bumping the generation.
    prepareForStatusUpdate(obj, next) {
      const annotations = next.metadata?.annotations;
      if (annotations) obj.metadata!.annotations = annotations;
    },
    validate: (obj) => validateDeploymentSpec(obj.spec, 'spec'),
    // apps/v1 made the selector immutable (extensions/v1beta1 allowed changing it).
    validateUpdate: (obj, old) => immutableSelector('spec.selector', obj.spec?.selector, old.spec?.selector),
    validateStatusUpdate: validateStatus,
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Ready', type: 'string', description: 'Number of the pod with ready state' },
      { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.' },
      { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.' },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      selectorColumn('Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.'),
    ],
    row(obj) {
      const st = obj.status ?? {};
      const [containers, images] = containerCells(obj.spec?.template?.spec);
      return [
        obj.metadata?.name ?? '',
        `${st.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        st.updatedReplicas ?? 0,
        st.availableReplicas ?? 0,
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
        selectorString(obj.spec?.selector),
      ];
    },
  },
};

export default deployments;
