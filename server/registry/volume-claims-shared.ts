// What PersistentVolumes and PersistentVolumeClaims share: access modes (validation and the
// RWO/ROX/RWX/RWOP cell), volume modes and the storage class name as printed.
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain } from '../../apimachinery/validation.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const VOLUME_MODES = ['Block', 'Filesystem'];

export function accessModesErrors(modes: string[] | undefined, path: string, requiredDetail = ''): FieldError[] {
  const list = modes ?? [];
  if (list.length === 0) return [fieldErrors.required(path, requiredDetail)];
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const m of list) {
    if (!ACCESS_MODES.includes(m)) errs.push(fieldErrors.notSupported(path, m, ACCESS_MODES));
    else if (m === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(fieldErrors.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** helper.GetAccessModesAsString: each mode once, in a fixed order. */
export function accessModesString(modes: string[] | undefined): string {
  const have = new Set(modes ?? []);
  return [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']]
    .filter(([m]) => have.has(m)).map(([, short]) => short).join(',');
}

export function volumeModeErrors(mode: string | undefined, path: string): FieldError[] {
  return mode != null && !VOLUME_MODES.includes(mode) ? [fieldErrors.notSupported(path, mode, VOLUME_MODES)] : [];
}

export function classNameErrors(name: string | undefined, path: string): FieldError[] {
  return name ? isDNS1123Subdomain(name).map((m) => fieldErrors.invalid(path, name, m)) : [];
}

/** The beta annotation still wins over the field, as helper.GetPersistentVolume(Claim)Class. */
export function storageClassOf(annotations: Record<string, string> | undefined, field: string | undefined): string {
  return annotations?.['volume.beta.kubernetes.io/storage-class'] ?? field ?? '';
}
