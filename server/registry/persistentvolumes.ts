// core/v1 persistentvolumes: SetDefaults_PersistentVolume, the volume strategy (phase and its
// transition time on create), ValidatePersistentVolume(Update) and printPersistentVolume.
import type { PersistentVolume, PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, immutable, invalidValue, keyPath, type Stored } from './core-helpers.js';
import { nowTimestamp } from '../../apimachinery/object-meta.js';
import { parseQuantity } from './quantity.js';
import { accessModesErrors, accessModesString, classNameErrors, storageClassOf, volumeModeErrors } from './volume-claims-shared.js';

type VolumeObject = Stored<PersistentVolume>;

/** Spec fields that are not the volume source (everything else is, and is immutable). */
const NON_SOURCE = new Set(['accessModes', 'capacity', 'claimRef', 'mountOptions', 'nodeAffinity', 'persistentVolumeReclaimPolicy', 'storageClassName', 'volumeMode', 'volumeAttributesClassName']);

const sourceOf = (spec: PersistentVolumeSpec | undefined) =>
  Object.fromEntries(Object.entries(spec ?? {}).filter(([k]) => !NON_SOURCE.has(k)));

export function validateVolume(pv: PersistentVolume): FieldError[] {
  const spec = pv.spec ?? {};
  const errs = accessModesErrors(spec.accessModes, 'spec.accessModes');
  const capacity = spec.capacity ?? {};
  if (Object.keys(capacity).length === 0) errs.push(fieldErrors.required('spec.capacity'));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) {
    errs.push({ type: 'FieldValueNotSupported', field: 'spec.capacity', detail: `Unsupported value: ${JSON.stringify(capacity)}: supported values: "storage"` });
  }
  for (const [name, q] of Object.entries(capacity)) {
    const n = parseQuantity(q);
    if (n === undefined || n <= 0) errs.push(fieldErrors.invalid(keyPath('spec.capacity', name), String(q), 'must be greater than zero'));
  }
  errs.push(...classNameErrors(spec.storageClassName, 'spec.storageClassName'));
  errs.push(...volumeModeErrors(spec.volumeMode, 'spec.volumeMode'));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy && !['Delete', 'Recycle', 'Retain'].includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
  }
  const sources = Object.keys(sourceOf(spec)).filter((k) => (spec as Record<string, unknown>)[k] != null);
  if (sources.length === 0) errs.push(fieldErrors.required('spec', 'must specify a volume type'));
  for (const extra of sources.slice(1)) errs.push(fieldErrors.forbidden(`spec.${extra}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath) {
    if (!spec.hostPath.path) errs.push(fieldErrors.required('spec.hostPath.path'));
    else if (spec.hostPath.path.split('/').includes('..')) errs.push(fieldErrors.invalid('spec.hostPath.path', spec.hostPath.path, "must not contain '..'"));
    if (spec.hostPath.path?.replace(/\/+$/, '') === '' && policy === 'Recycle') {
      errs.push(fieldErrors.forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
    }
  }
  if (spec.local && !spec.nodeAffinity) errs.push(fieldErrors.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  return errs;
}

export function validateVolumeUpdate(pv: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(sourceOf(pv.spec), sourceOf(old.spec))) {
    errs.push(fieldErrors.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  }
  errs.push(...immutable(pv.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
  if (old.spec?.nodeAffinity && !deepEqual(pv.spec?.nodeAffinity, old.spec.nodeAffinity)) {
    errs.push(invalidValue('nodeAffinity', pv.spec?.nodeAffinity ?? null, 'field is immutable'));
  }
  return errs;
}

const volumes: ResourceDefinition<VolumeObject> = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  subresources: { status: true },
  strategy: {
    defaults(pv) {
      const spec = (pv.spec ??= {});
      spec.persistentVolumeReclaimPolicy ||= 'Retain';
      spec.volumeMode ??= 'Filesystem';
      (pv.status ??= {}).phase ||= 'Pending';
    },
    prepareForCreate(pv) {
      pv.status = { phase: 'Pending', lastPhaseTransitionTime: nowTimestamp() };
    },
    prepareForUpdate(pv, old) {
      pv.status = old.status;
    },
    validate: validateVolume,
    validateUpdate: validateVolumeUpdate,
    validateStatusUpdate(pv, old) {
      // The transition time moves with the phase.
      if (pv.status?.phase !== old.status?.phase && pv.status?.lastPhaseTransitionTime === old.status?.lastPhaseTransitionTime) {
        pv.status = { ...pv.status, lastPhaseTransitionTime: nowTimestamp() };
      }
      return [];
    },
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Capacity', 'capacity is the description of the persistent volume\'s resources and capacity.'),
      col('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'StorageClass of the pv'),
      col('VolumeAttributesClass', 'VolumeAttributesClass of the pv'),
      col('Reason', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', { priority: 1 }),
    ],
    row(pv) {
      const spec = pv.spec ?? {};
      const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
      return [
        pv.metadata?.name, String(spec.capacity?.storage ?? '0'), accessModesString(spec.accessModes), spec.persistentVolumeReclaimPolicy ?? '',
        pv.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '', claim,
        storageClassOf(pv.metadata?.annotations, spec.storageClassName), spec.volumeAttributesClassName ?? '<unset>',
        pv.status?.reason ?? '', age(pv.metadata?.creationTimestamp), spec.volumeMode ?? '<unset>',
      ];
    },
  },
};

export default volumes;
