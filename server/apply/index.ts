// Server-side apply and managed fields: the store calls recordUpdate on every non-apply write and
// serverSideApply for PATCH with application/apply-patch+yaml.
export { FieldSet, FieldSetError, fieldSetOf, pathString } from './fieldpath.js';
export { compareObjects, type Comparison } from './compare.js';
export { rootShape, type SchemaRef, type Shape } from './schema.js';
export {
  decodeManagedFields, encodeManagedFields, managerIdentifier, recordUpdate,
  type Managed, type ManagerEntry, type Operation, type UpdateOptions,
} from './managed-fields.js';
export { conflictError, decodeApplyBody, LAST_APPLIED, serverSideApply, type ApplyOptions, type Conflict } from './apply.js';
