// core/v1 configmaps: ValidateConfigMap / ValidateConfigMapUpdate and printConfigMap.
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, keyPath, type Stored } from './core-helpers.js';
import { configMapKeyErrors } from './container-validation.js';

type ConfigMapObject = Stored<ConfigMap>;

/** core.MaxSecretSize, which bounds ConfigMaps too. */
export const MAX_DATA_SIZE = 1024 * 1024;

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(cm.data ?? {})) {
    errs.push(...configMapKeyErrors(key).map((m) => fieldErrors.invalid(keyPath('data', key), key, m)));
    if (cm.binaryData && key in cm.binaryData) errs.push(fieldErrors.invalid(keyPath('data', key), key, 'duplicate of key present in binaryData'));
    size += Buffer.byteLength(value ?? '');
  }
  for (const [key, value] of Object.entries(cm.binaryData ?? {})) {
    errs.push(...configMapKeyErrors(key).map((m) => fieldErrors.invalid(keyPath('binaryData', key), key, m)));
    if (cm.data && key in cm.data) errs.push(fieldErrors.invalid(keyPath('binaryData', key), key, 'duplicate of key present in data'));
    size += Buffer.from(value ?? '', 'base64').length;
  }
  if (size > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('', MAX_DATA_SIZE));
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable) {
    const why = 'field is immutable when `immutable` is set';
    if (!cm.immutable) errs.push(fieldErrors.forbidden('immutable', why));
    if (!deepEqual(cm.data, old.data)) errs.push(fieldErrors.forbidden('data', why));
    if (!deepEqual(cm.binaryData, old.binaryData)) errs.push(fieldErrors.forbidden('binaryData', why));
  }
  return errs;
}

const configmaps: ResourceDefinition<ConfigMapObject> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  strategy: {
    validate: validateConfigMap,
    validateUpdate: validateConfigMapUpdate,
  },
  table: {
    columns: [NAME_COLUMN, col('Data', 'Data contains the configuration data.'), AGE_COLUMN],
    row: (cm) => [cm.metadata?.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm.metadata?.creationTimestamp)],
  },
};

export default configmaps;
