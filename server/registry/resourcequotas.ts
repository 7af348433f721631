// core/v1 resourcequotas: ValidateResourceQuota (quota resource names, values, scopes), the
// strategy (status is the quota controller's) and printResourceQuota.
import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, keyPath, type Stored } from './core-helpers.js';
import { quantityValueErrors, resourceNameErrors } from './container-validation.js';

type QuotaObject = Stored<ResourceQuota>;

const QUOTA_RESOURCES = ['cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets',
  'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers'];
const SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];

function quotaResourceErrors(name: string, path: string): FieldError[] {
  const errs = resourceNameErrors(name, path);
  if (!name.includes('/') && !QUOTA_RESOURCES.includes(name) && !/^(requests\.)?hugepages-/.test(name)) {
    errs.push(fieldErrors.invalid(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

function resourceListErrors(list: Record<string, string> | undefined, path: string): FieldError[] {
  return Object.entries(list ?? {}).flatMap(([name, q]) => [...quotaResourceErrors(name, keyPath(path, name)), ...quantityValueErrors(name, q, keyPath(path, name))]);
}

export function validateQuota(q: ResourceQuota): FieldError[] {
  const errs = resourceListErrors(q.spec?.hard, 'spec.hard');
  (q.spec?.scopes ?? []).forEach((s) => {
    if (!SCOPES.includes(s)) errs.push(fieldErrors.notSupported('spec.scopes', s, SCOPES));
  });
  const scopes = new Set(q.spec?.scopes ?? []);
  if ((scopes.has('Terminating') && scopes.has('NotTerminating')) || (scopes.has('BestEffort') && scopes.has('NotBestEffort'))) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.scopes', detail: `Invalid value: ${JSON.stringify(q.spec?.scopes)}: conflicting scopes` });
  }
  errs.push(...resourceListErrors(q.status?.hard, 'status.hard'), ...resourceListErrors(q.status?.used, 'status.used'));
  return errs;
}

/** printResourceQuota: `name: used/hard` for every hard limit, requests and limits apart, sorted by name. */
export function quotaCells(q: ResourceQuota): [string, string] {
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(q.status?.hard ?? {}).sort()) {
    const text = `${name}: ${q.status?.used?.[name] ?? '0'}/${q.status!.hard![name]}`;
    (name.split('.').length > 1 && name.startsWith('limits.') ? limit : request).push(text);
  }
  return [request.join(', '), limit.join(', ')];
}

const quotas: ResourceDefinition<QuotaObject> = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  singular: 'resourcequota',
  namespaced: true,
  shortNames: ['quota'],
  subresources: { status: true },
  strategy: {
    prepareForCreate(q) {
      q.status = {};
    },
    prepareForUpdate(q, old) {
      q.status = old.status;
    },
    validate: validateQuota,
    validateStatusUpdate: validateQuota,
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      col('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
      AGE_COLUMN,
    ],
    row(q) {
      const [request, limit] = quotaCells(q);
      return [q.metadata?.name, request, limit, age(q.metadata?.creationTimestamp)];
    },
  },
};

export default quotas;
