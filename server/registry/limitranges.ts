// core/v1 limitranges: ValidateLimitRange (min <= defaultRequest <= default <= max per
// resource, ratios) and the default table upstream serves for them (Name, Created At).
import type { LimitRange } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isQualifiedName } from '../../apimachinery/validation.js';
import type { ResourceDefinition } from './types.js';
import { NAME_COLUMN } from './printing.js';
import { col, duplicateValue, invalidStringer, isOvercommitAllowed, keyPath, type Stored } from './core-helpers.js';
import { containerResourceNameErrors, resourceNameErrors } from './container-validation.js';
import { compareQuantity, parseQuantity } from './quantity.js';

type LimitRangeObject = Stored<LimitRange>;

function typeErrors(type: string, path: string): FieldError[] {
  const errs = isQualifiedName(type).map((m) => fieldErrors.invalid(path, type, m));
  if (errs.length === 0 && !type.includes('/') && !['Pod', 'Container', 'PersistentVolumeClaim'].includes(type)) {
    errs.push(fieldErrors.invalid(path, type, 'must be a standard limit type or fully qualified'));
  }
  return errs;
}

export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  (lr.spec?.limits ?? []).forEach((limit, i) => {
    const p = `spec.limits[${i}]`;
    errs.push(...typeErrors(limit.type, `${p}.type`));
    if (types.has(limit.type)) errs.push(duplicateValue(`${p}.type`, limit.type));
    types.add(limit.type);
    const nameErrs = (name: string, path: string) =>
      limit.type === 'Pod' || limit.type === 'Container' ? containerResourceNameErrors(name, path) : resourceNameErrors(name, path);
    const keys = new Set<string>();
    const collect = (field: 'max' | 'min' | 'default' | 'defaultRequest' | 'maxLimitRequestRatio') => {
      for (const k of Object.keys(limit[field] ?? {})) {
        errs.push(...nameErrs(k, keyPath(`${p}.${field}`, k)));
        keys.add(k);
      }
    };
    collect('max');
    collect('min');
    if (limit.type === 'Pod') {
      if (Object.keys(limit.default ?? {}).length) errs.push(fieldErrors.forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(limit.defaultRequest ?? {}).length) errs.push(fieldErrors.forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (limit.type === 'PersistentVolumeClaim' && !limit.min?.storage && !limit.max?.storage) {
      errs.push(fieldErrors.required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    collect('maxLimitRequestRatio');
    const dflt = limit.type === 'Pod' ? {} : limit.default ?? {};
    const dreq = limit.type === 'Pod' ? {} : limit.defaultRequest ?? {};
    for (const k of keys) {
      const min = limit.min?.[k];
      const max = limit.max?.[k];
      const d = dflt[k];
      const dr = dreq[k];
      const ratio = limit.maxLimitRequestRatio?.[k];
      const gt = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && compareQuantity(a, b) > 0;
      if (gt(min, max)) errs.push(invalidStringer(keyPath(`${p}.min`, k), min!, `min value ${min} is greater than max value ${max}`));
      if (gt(min, dr)) errs.push(invalidStringer(keyPath(`${p}.defaultRequest`, k), dr!, `min value ${min} is greater than default request value ${dr}`));
      if (gt(dr, max)) errs.push(invalidStringer(keyPath(`${p}.defaultRequest`, k), dr!, `default request value ${dr} is greater than max value ${max}`));
      if (gt(dr, d)) errs.push(invalidStringer(keyPath(`${p}.defaultRequest`, k), dr!, `default request value ${dr} is greater than default limit value ${d}`));
      if (gt(min, d)) errs.push(invalidStringer(keyPath(`${p}.default`, k), min!, `min value ${min} is greater than default value ${d}`));
      if (gt(d, max)) errs.push(invalidStringer(keyPath(`${p}.default`, k), max!, `default value ${d} is greater than max value ${max}`));
      if (ratio !== undefined && compareQuantity(ratio, 1) < 0) errs.push(invalidStringer(keyPath(`${p}.maxLimitRequestRatio`, k), ratio, `ratio ${ratio} is less than 1`));
      if (ratio !== undefined && min !== undefined && max !== undefined) {
        const bound = (parseQuantity(max) ?? 0) / (parseQuantity(min) ?? 1);
        if ((parseQuantity(ratio) ?? 0) > bound) {
          errs.push(invalidStringer(keyPath(`${p}.maxLimitRequestRatio`, k), ratio, `ratio ${ratio} is greater than max/min = ${bound.toFixed(6)}`));
        }
      }
      if (!isOvercommitAllowed(k) && d !== undefined && dr !== undefined && compareQuantity(d, dr) !== 0) {
        errs.push(invalidStringer(keyPath(`${p}.defaultRequest`, k), dr, `default value ${d} must equal to defaultRequest value ${dr} in ${k}`));
      }
    }
  });
  return errs;
}

const limitranges: ResourceDefinition<LimitRangeObject> = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  singular: 'limitrange',
  namespaced: true,
  shortNames: ['limits'],
  strategy: {
    validate: validateLimitRange,
  },
  table: {
    // Upstream has no printer for LimitRanges: the default table's Name and Created At.
    columns: [NAME_COLUMN, col('Created At', 'CreationTimestamp is a timestamp representing the server time when this object was created.', { type: 'date' })],
    row: (lr) => [lr.metadata?.name, lr.metadata?.creationTimestamp],
  },
};

export default limitranges;
