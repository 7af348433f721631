// PATCH bodies: picks the engine by Content-Type, as upstream's patch handler does.
import { unsupportedPatchType } from '../../apimachinery/errors.js';
import { definitionNameFor } from '../../openapi/type-graph.js';
import { applyJsonPatch, decodeJsonPatch, type FieldValidation } from './json-patch.js';
import { applyMergePatch, decodeMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch, decodeStrategicMergePatch, type SchemaReference } from './strategic-merge.js';

export { applyJsonPatch, decodeJsonPatch, MAX_JSON_PATCH_OPERATIONS, type FieldValidation, type JsonPatchOperation } from './json-patch.js';
export { applyMergePatch, decodeMergePatch } from './merge-patch.js';
export { applyStrategicMergePatch, decodeStrategicMergePatch, type SchemaReference } from './strategic-merge.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

export interface PatchOptions {
  /** The request's fieldValidation; it changes how upstream words a malformed body. Default Warn. */
  fieldValidation?: FieldValidation;
}

/** The patch type of a Content-Type header: its media type without parameters (`; charset=utf-8`). */
export function patchTypeOf(contentType: string | undefined): string {
  const value = contentType ?? '';
  const semicolon = value.indexOf(';');
  return (semicolon > 0 ? value.slice(0, semicolon) : value).trim();
}

/**
 * The patch types a kind accepts, for discovery, OpenAPI and 415 answers. Strategic merge patch
 * needs the kind's schema, so kinds the type graph does not know (custom resources) lack it, as
 * upstream. Server-side apply (APPLY_PATCH) is not implemented yet and is not offered.
 */
export function acceptedPatchTypes(schema: SchemaReference): string[] {
  const types = [JSON_PATCH, MERGE_PATCH];
  if (definitionNameFor(schema.group, schema.version, schema.kind)) types.push(STRATEGIC_MERGE_PATCH);
  return types;
}

/**
 * Applies a PATCH body to `original` (which is not modified) and returns the patched object.
 * Throws a StatusError as upstream would answer: 400 for a malformed body, 415 for a Content-Type
 * that is not an accepted patch type, 422 for a JSON patch operation that fails, and what
 * upstream gives for each strategic merge patch error.
 */
export function applyPatch<T extends object>(
  contentType: string,
  original: T,
  patchBody: Buffer | string,
  schema: SchemaReference,
  options: PatchOptions = {},
): T {
  const patchType = patchTypeOf(contentType);
  const accepted = acceptedPatchTypes(schema);
  if (!accepted.includes(patchType)) throw unsupportedPatchType(accepted);
  const body = typeof patchBody === 'string' ? patchBody : patchBody.toString('utf8');
  const fieldValidation = options.fieldValidation ?? 'Warn';
  switch (patchType) {
    case JSON_PATCH: return applyJsonPatch(original, decodeJsonPatch(body, fieldValidation));
    case MERGE_PATCH: return applyMergePatch(original, decodeMergePatch(body, fieldValidation));
    default: return applyStrategicMergePatch(original, decodeStrategicMergePatch(body), schema);
  }
}
