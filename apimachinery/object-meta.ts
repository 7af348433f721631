// ObjectMeta rules every resource shares: timestamps, generated names, metadata validation.
import { randomInt } from 'node:crypto';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { FieldError } from './errors.js';
import { fieldErrors, isDNS1123Subdomain, validateAnnotations, validateLabels } from './validation.js';

/** RFC 3339 with second precision, as metav1.Time marshals. */
export const nowTimestamp = (ms = Date.now()) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** upstream's SimpleNameGenerator: the prefix (cut to fit) plus five random characters. */
export function generateName(prefix: string): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return base + suffix;
}

export type NameValidator = (name: string) => string[];

/** upstream's ValidateObjectMeta (the parts a client controls). */
export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean, nameValidator: NameValidator = isDNS1123Subdomain): FieldError[] {
  const errs: FieldError[] = [];
  if (!meta.name && !meta.generateName) errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  if (meta.name) for (const m of nameValidator(meta.name)) errs.push(fieldErrors.invalid('metadata.name', meta.name, m));
  if (meta.generateName && !meta.name) {
    for (const m of nameValidator(meta.generateName.replace(/-$/, 'a'))) errs.push(fieldErrors.invalid('metadata.generateName', meta.generateName, m));
  }
  if (namespaced && !meta.namespace) errs.push(fieldErrors.required('metadata.namespace', ''));
  if (!namespaced && meta.namespace) errs.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
    if (!ref.apiVersion) errs.push(fieldErrors.invalid(`metadata.ownerReferences[${i}].apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(fieldErrors.invalid(`metadata.ownerReferences[${i}].kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(fieldErrors.invalid(`metadata.ownerReferences[${i}].name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(fieldErrors.invalid(`metadata.ownerReferences[${i}].uid`, ref.uid ?? '', 'uid must not be empty'));
  }
  if ((meta.ownerReferences ?? []).filter((r) => r.controller).length > 1) {
    errs.push(fieldErrors.invalid('metadata.ownerReferences', meta.ownerReferences, 'Only one reference can have Controller set to true'));
  }
  for (const [i, f] of (meta.finalizers ?? []).entries()) {
    if (!f.includes('/') && !['kubernetes', 'orphan', 'foregroundDeletion'].includes(f)) {
      errs.push(fieldErrors.invalid(`metadata.finalizers[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

/** upstream's ValidateObjectMetaUpdate: what may never change once set. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.name !== old.name) errs.push(fieldErrors.invalid('metadata.name', meta.name, 'field is immutable'));
  if ((meta.namespace ?? '') !== (old.namespace ?? '')) errs.push(fieldErrors.invalid('metadata.namespace', meta.namespace, 'field is immutable'));
  return errs;
}
