// core/v1 secrets: SetDefaults_Secret, the v1 conversion that folds stringData into data,
// ValidateSecret / ValidateSecretUpdate (per-type required keys) and printSecret.
import type { Secret } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, immutable, keyPath, type Stored } from './core-helpers.js';
import { configMapKeyErrors } from './container-validation.js';
import { MAX_DATA_SIZE } from './configmaps.js';

type SecretObject = Stored<Secret>;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decoded(data: Record<string, string> | undefined, key: string): Buffer | undefined {
  const v = data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64');
}

function jsonKeyErrors(secret: Secret, key: string): FieldError[] {
  const bytes = decoded(secret.data, key);
  if (bytes === undefined) return [fieldErrors.required(keyPath('data', key))];
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
    return [];
  } catch (e) {
    return [fieldErrors.invalid(keyPath('data', key), '<secret contents redacted>', (e as Error).message)];
  }
}

export function validateSecret(secret: Secret): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    errs.push(...configMapKeyErrors(key).map((m) => fieldErrors.invalid(keyPath('data', key), key, m)));
    // Like Go's base64 decoder for JSON []byte, line breaks are ignored.
    if (!BASE64.test((value ?? '').replace(/[\r\n]/g, ''))) errs.push(fieldErrors.invalid(keyPath('data', key), '<secret contents redacted>', 'illegal base64 data'));
    size += Buffer.from(value ?? '', 'base64').length;
  }
  if (size > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('data', MAX_DATA_SIZE));
  const data = secret.data ?? {};
  switch (secret.type) {
    case 'kubernetes.io/service-account-token':
      // Only the account name is needed; the token controller fills in the rest.
      if (!secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(fieldErrors.required(keyPath('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...jsonKeyErrors(secret, '.dockercfg'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...jsonKeyErrors(secret, '.dockerconfigjson'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) {
        errs.push(fieldErrors.required(keyPath('data', 'username')), fieldErrors.required(keyPath('data', 'password')));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!decoded(data, 'ssh-privatekey')?.length) errs.push(fieldErrors.required(keyPath('data', 'ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!('tls.crt' in data)) errs.push(fieldErrors.required(keyPath('data', 'tls.crt')));
      if (!('tls.key' in data)) errs.push(fieldErrors.required(keyPath('data', 'tls.key')));
      break;
  }
  return errs;
}

export function validateSecretUpdate(secret: Secret, old: Secret): FieldError[] {
  const errs = immutable(secret.type, old.type, 'type');
  if (old.immutable) {
    const why = 'field is immutable when `immutable` is set';
    if (!secret.immutable) errs.push(fieldErrors.forbidden('immutable', why));
    if (!deepEqual(secret.data, old.data)) errs.push(fieldErrors.forbidden('data', why));
  }
  return errs;
}

const secrets: ResourceDefinition<SecretObject> = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  fieldSelectors: { type: (s) => s.type ?? '' },
  strategy: {
    defaults(secret) {
      secret.type ||= 'Opaque';
      // stringData is write-only: it overwrites data and is never stored.
      if (secret.stringData) {
        const data = (secret.data ??= {});
        for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(v ?? '', 'utf8').toString('base64');
        delete secret.stringData;
      }
    },
    validate: validateSecret,
    validateUpdate: validateSecretUpdate,
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'Used to facilitate programmatic handling of secret data.'),
      col('Data', 'Data contains the secret data.'),
      AGE_COLUMN,
    ],
    row: (s) => [s.metadata?.name, s.type ?? '', Object.keys(s.data ?? {}).length, age(s.metadata?.creationTimestamp)],
  },
};

export default secrets;
