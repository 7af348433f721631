// apps/v1 ReplicaSet: defaults, ValidateReplicaSet*, status rules, `status.replicas` field
// selector and the printer, as upstream.
import type { ReplicaSet, ReplicaSetSpec } from 'kubernetes-types/apps/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { defaultPodTemplateSpec } from './pod-spec.js';
import { goLabelSelector, invalidRaw } from './go-format.js';
import { formatSelector, isParseableSelector } from './label-selector-validation.js';
import {
  CONTAINERS_COLUMN, IMAGES_COLUMN, type Stored, containerCells, immutableSelector, nonNegative, nonNegativeFields,
  replicasScale, selectorColumn, setStatus, validateControllerTemplate, validateRequiredSelector,
} from './workload-helpers.js';

type Obj = Stored<ReplicaSet>;

function validateSpec(spec: ReplicaSetSpec | undefined, path: string): FieldError[] {
  const s = spec ?? ({} as ReplicaSetSpec);
  const out = [...nonNegative(`${path}.replicas`, s.replicas), ...nonNegative(`${path}.minReadySeconds`, s.minReadySeconds)];
  // Upstream's message says "deployment" here too.
  out.push(...validateRequiredSelector(s.selector, `${path}.selector`, 'deployment'));
  if (!isParseableSelector(s.selector)) out.push(invalidRaw(`${path}.selector`, goLabelSelector(s.selector), 'invalid label selector'));
  else out.push(...validateControllerTemplate(s.template, s.selector, `${path}.template`, 'ReplicaSet'));
  return out;
}

function validateStatus(obj: Obj): FieldError[] {
  const st = obj.status ?? { replicas: 0 };
  const out = nonNegativeFields(st, 'status', ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']);
  const msg = 'cannot be greater than status.replicas';
  const replicas = st.replicas ?? 0;
  if ((st.fullyLabeledReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.fullyLabeledReplicas', st.fullyLabeledReplicas, msg));
  if ((st.readyReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.readyReplicas', st.readyReplicas, msg));
  if ((st.availableReplicas ?? 0) > replicas) out.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, msg));
  if ((st.availableReplicas ?? 0) > (st.readyReplicas ?? 0)) {
    out.push(fieldErrors.invalid('status.availableReplicas', st.availableReplicas, 'cannot be greater than readyReplicas'));
  }
  return out;
}

const replicasets: ResourceDefinition<Obj> = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  generation: true,
  subresources: { status: true, scale: replicasScale },
  fieldSelectors: { 'status.replicas': (obj) => String(obj.status?.replicas ?? 0) },
  strategy: {
    defaults(obj) {
      const spec = (obj.spec ??= { template: {} } as ReplicaSetSpec);
      spec.replicas ??= 1;
      defaultPodTemplateSpec((spec.template ??= {}));
    },
    prepareForCreate(obj) {
      setStatus(obj, { replicas: 0 });
    },
    validate: (obj) => validateSpec(obj.spec, 'spec'),
    validateUpdate: (obj, old) => immutableSelector('spec.selector', obj.spec?.selector, old.spec?.selector),
    validateStatusUpdate: (obj) => validateStatus(obj),
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Desired', type: 'integer', description: 'Replicas is the number of desired replicas.' },
      { name: 'Current', type: 'integer', description: 'Replicas is the most recently observed number of replicas.' },
      { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.' },
      AGE_COLUMN,
      CONTAINERS_COLUMN,
      IMAGES_COLUMN,
      selectorColumn('Selector is a label query over pods that should match the replica count.'),
    ],
    row(obj) {
      const [containers, images] = containerCells(obj.spec?.template?.spec);
      return [
        obj.metadata?.name ?? '',
        obj.spec?.replicas ?? 0,
        obj.status?.replicas ?? 0,
        obj.status?.readyReplicas ?? 0,
        age(obj.metadata?.creationTimestamp),
        containers,
        images,
        formatSelector(obj.spec?.selector),
      ];
    },
  },
};

export default replicasets;
