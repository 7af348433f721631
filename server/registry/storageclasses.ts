// storage.k8s.io/v1 StorageClass (cluster-scoped): SetDefaults_StorageClass,
// ValidateStorageClass{,Update} (provisioner, parameters and reclaim policy are fixed) and the
// printer, which marks the default class.
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isQualifiedName, isValidLabelValue } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { goValue } from './go-format.js';
import { type Stored, deepEqual, immutable } from './workload-helpers.js';

type Obj = Stored<StorageClass>;

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

function validate(obj: Obj): FieldError[] {
  const out: FieldError[] = [];
  const provisioner = obj.provisioner ?? '';
  if (!provisioner) out.push(fieldErrors.required('provisioner'));
  else for (const m of isQualifiedName(provisioner.toLowerCase())) out.push(fieldErrors.invalid('provisioner', provisioner.toLowerCase(), m));
  const params = obj.parameters ?? {};
  const keys = Object.keys(params);
  if (keys.length > MAX_PARAMETERS) {
    out.push(fieldErrors.tooLong('parameters', MAX_PARAMETERS));
  } else {
    let size = 0;
    for (const k of keys) {
      if (k.length < 1) out.push(fieldErrors.invalid('parameters', k, 'field can not be empty.'));
      size += k.length + (params[k] ?? '').length;
    }
    if (size > MAX_PARAMETERS_SIZE) out.push(fieldErrors.tooLong('parameters', MAX_PARAMETERS_SIZE));
  }
  const reclaim = obj.reclaimPolicy ?? '';
  if (reclaim && reclaim !== 'Delete' && reclaim !== 'Retain') out.push(fieldErrors.notSupported('reclaimPolicy', reclaim, ['Delete', 'Retain']));
  if (obj.volumeBindingMode === undefined) out.push(fieldErrors.required('volumeBindingMode'));
  else if (!['Immediate', 'WaitForFirstConsumer'].includes(obj.volumeBindingMode)) {
    out.push(fieldErrors.notSupported('volumeBindingMode', obj.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  }
  (obj.allowedTopologies ?? []).forEach((term, i) => {
    const p = `allowedTopologies[${i}]`;
    const exprs = term.matchLabelExpressions ?? [];
    if (exprs.length === 0) out.push(fieldErrors.required(`${p}.matchLabelExpressions`, 'must have at least one label selector requirement'));
    const seen = new Set<string>();
    exprs.forEach((e, j) => {
      const ep = `${p}.matchLabelExpressions[${j}]`;
      for (const m of isQualifiedName(e.key)) out.push(fieldErrors.invalid(`${ep}.key`, e.key, m));
      if (seen.has(e.key)) out.push(fieldErrors.duplicate(`${ep}.key`, e.key));
      seen.add(e.key);
      if (!e.values?.length) out.push(fieldErrors.required(`${ep}.values`, 'must specify as least one value'));
      (e.values ?? []).forEach((v, k) => {
        for (const m of isValidLabelValue(v)) out.push(fieldErrors.invalid(`${ep}.values[${k}]`, v, m));
      });
    });
  });
  return out;
}

function validateUpdate(obj: Obj, old: Obj): FieldError[] {
  const out: FieldError[] = [];
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) out.push(fieldErrors.forbidden('parameters', 'updates to parameters are forbidden.'));
  if (obj.provisioner !== old.provisioner) out.push(fieldErrors.forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if ((obj.reclaimPolicy ?? '') !== (old.reclaimPolicy ?? '')) out.push(fieldErrors.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  out.push(...immutable('volumeBindingMode', obj.volumeBindingMode, old.volumeBindingMode, goValue));
  return out;
}

function isDefaultClass(obj: Obj): boolean {
  const a = obj.metadata?.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

const storageclasses: ResourceDefinition<Obj> = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  strategy: {
    defaults(obj) {
      obj.reclaimPolicy ??= 'Delete';
      obj.volumeBindingMode ??= 'Immediate';
    },
    validate,
    validateUpdate,
  },
  table: {
    columns: [
      NAME_COLUMN,
      { name: 'Provisioner', type: 'string', description: 'provisioner indicates the type of the provisioner.' },
      { name: 'ReclaimPolicy', type: 'string', description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.' },
      { name: 'VolumeBindingMode', type: 'string', description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.' },
      { name: 'AllowVolumeExpansion', type: 'string', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.' },
      AGE_COLUMN,
    ],
    row: (obj) => [
      `${obj.metadata?.name ?? ''}${isDefaultClass(obj) ? ' (default)' : ''}`,
      obj.provisioner ?? '',
      obj.reclaimPolicy ?? 'Delete',
      obj.volumeBindingMode ?? 'Immediate',
      obj.allowVolumeExpansion ?? false,
      age(obj.metadata?.creationTimestamp),
    ],
  },
};

export default storageclasses;
