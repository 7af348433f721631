// core/v1 persistentvolumeclaims: defaults, the claim strategy, ValidatePersistentVolumeClaim
// (and its update rules) and printPersistentVolumeClaim.
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, immutable, keyPath, type Stored } from './core-helpers.js';
import { quantityValueErrors } from './container-validation.js';
import { compareQuantity, parseQuantity } from './quantity.js';
import { accessModesErrors, accessModesString, classNameErrors, storageClassOf, volumeModeErrors } from './volume-claims-shared.js';

type ClaimObject = Stored<PersistentVolumeClaim>;

export function validateClaim(pvc: PersistentVolumeClaim): FieldError[] {
  const spec = pvc.spec ?? {};
  const errs = accessModesErrors(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const storagePath = keyPath('spec.resources', 'storage');
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) errs.push(fieldErrors.required(storagePath));
  else if ((parseQuantity(storage) ?? 1) <= 0) errs.push(fieldErrors.invalid(storagePath, String(storage), 'must be greater than zero'));
  else errs.push(...quantityValueErrors('storage', storage, storagePath));
  errs.push(...classNameErrors(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...volumeModeErrors(spec.volumeMode, 'spec.volumeMode'));
  return errs;
}

export function validateClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  const next = structuredClone(pvc.spec ?? {});
  const prev = structuredClone(old.spec ?? {});
  // The binder sets volumeName once; a bound claim may grow.
  if (!prev.volumeName) prev.volumeName = next.volumeName;
  if (pvc.status?.phase === 'Bound' && next.resources?.requests) next.resources.requests.storage = old.spec?.resources?.requests?.storage ?? '';
  if (!prev.storageClassName && old.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] === next.storageClassName) {
    prev.storageClassName = next.storageClassName;
  }
  // RetroactiveDefaultStorageClass (GA in 1.28): a claim created without a class may be given one once.
  if (prev.storageClassName == null && next.storageClassName && !old.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class']) {
    prev.storageClassName = next.storageClassName;
  }
  if (!deepEqual(next, prev)) {
    errs.push(fieldErrors.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  if (compareQuantity(pvc.spec?.resources?.requests?.storage, old.spec?.resources?.requests?.storage) < 0) {
    errs.push(fieldErrors.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  errs.push(...immutable(pvc.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
  return errs;
}

const claims: ResourceDefinition<ClaimObject> = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: { status: true },
  strategy: {
    defaults(pvc) {
      (pvc.spec ??= {}).volumeMode ??= 'Filesystem';
      (pvc.status ??= {}).phase ||= 'Pending';
    },
    prepareForCreate(pvc) {
      pvc.status = { phase: 'Pending' };
    },
    prepareForUpdate(pvc, old) {
      pvc.status = old.status;
    },
    validate: validateClaim,
    validateUpdate: validateClaimUpdate,
    validateStatusUpdate(pvc) {
      return Object.entries(pvc.status?.capacity ?? {}).flatMap(([name, q]) =>
        (parseQuantity(q) ?? 0) < 0 ? [fieldErrors.invalid(keyPath('status.capacity', name), parseQuantity(q), 'must be a valid resource quantity')] : []);
    },
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      col('StorageClass', 'StorageClass of the pvc'),
      col('VolumeAttributesClass', 'VolumeAttributesClass of the pvc'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', { priority: 1 }),
    ],
    row(pvc) {
      const phase = pvc.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '';
      const bound = !!pvc.spec?.volumeName;
      return [
        pvc.metadata?.name, phase, pvc.spec?.volumeName ?? '',
        bound ? String(pvc.status?.capacity?.storage ?? '0') : '',
        bound ? accessModesString(pvc.status?.accessModes) : '',
        storageClassOf(pvc.metadata?.annotations, pvc.spec?.storageClassName),
        pvc.spec?.volumeAttributesClassName ?? '<unset>',
        age(pvc.metadata?.creationTimestamp),
        pvc.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
};

export default claims;
