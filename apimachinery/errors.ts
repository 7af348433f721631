// Kubernetes meta/v1 Status errors. Every failure the API server returns is one of these,
// with the reason, code and details upstream's apimachinery would produce.
import type { Status, StatusCause } from 'kubernetes-types/meta/v1.js';

export interface QualifiedResource { group: string; resource: string }

/** "deployments.apps" or "pods": the form upstream puts in error messages. */
export function qualifiedName(gr: QualifiedResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export class StatusError extends Error {
  constructor(
    public readonly code: number,
    public readonly reason: string,
    message: string,
    public readonly details?: Status['details'],
  ) {
    super(message);
  }

  toStatus(): Status {
    const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) status.details = this.details;
    return status;
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}

export const notFound = (gr: QualifiedResource, name: string) =>
  new StatusError(404, 'NotFound', `${qualifiedName(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });

export const alreadyExists = (gr: QualifiedResource, name: string) =>
  new StatusError(409, 'AlreadyExists', `${qualifiedName(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });

export const conflict = (gr: QualifiedResource, name: string, why: string) =>
  new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(gr)} "${name}": ${why}`, { name, group: gr.group, kind: gr.resource });

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

export const forbidden = (gr: QualifiedResource, name: string, why: string) =>
  new StatusError(403, 'Forbidden', `${qualifiedName(gr)}${name ? ` "${name}"` : ''} is forbidden: ${why}`, { name: name || undefined, group: gr.group, kind: gr.resource });

export const methodNotSupported = (gr: QualifiedResource, verb: string) =>
  new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualifiedName(gr)}"`, { group: gr.group, kind: gr.resource });

export const gone = (message: string) => new StatusError(410, 'Expired', message);

export const tooLarge = (message = 'the server has received a request that is too large') =>
  new StatusError(413, 'RequestEntityTooLarge', message);

export const unsupportedMediaType = (contentType: string) =>
  new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`);

export const notAcceptable = (message: string) => new StatusError(406, 'NotAcceptable', message);

export const serviceUnavailable = (message: string) => new StatusError(503, 'ServiceUnavailable', message);

export const timeout = (message: string) => new StatusError(504, 'Timeout', message);

export const internalError = (message: string) => new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);

/** One invalid field, as upstream's field.Error: type is the cause reason ("FieldValueInvalid", …). */
export interface FieldError {
  type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueDuplicate' | 'FieldValueForbidden' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueTypeInvalid' | 'FieldValueNotFound' | 'InternalError';
  field: string;
  /** The human text after the field path, e.g. `Invalid value: "x": must be ...`. */
  detail: string;
}

/** 422 Invalid, worded as upstream: `Kind.group "name" is invalid: [a, b]`. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const causes: StatusCause[] = errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field }));
  const texts = errors.map((e) => (e.field ? `${e.field}: ${e.detail}` : e.detail));
  const aggregate = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${aggregate}`, { name, group, kind, causes });
}

/**
 * A Status with no reason, as upstream's ErrorToAPIStatus makes of errors that are not API errors
 * (for example a strategic merge patch list item without its merge key). kubectl prints these as
 * "Error from server: <message>".
 */
export const unknownError = (message: string, code = 500) => new StatusError(code, '', message);

/**
 * upstream's NewGenericServerResponse: a fixed message for the code, the server's own text as an
 * `UnexpectedServerResponse` cause (what a failed JSON patch `test` answers with 422).
 */
export function genericServerResponse(code: number, serverMessage: string): StatusError {
  const known: Record<number, [string, string]> = {
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
  };
  const [reason, message] = known[code] ?? ['', `the server responded with the status code ${code} but did not return more information`];
  const details = serverMessage ? { causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }] } : undefined;
  return new StatusError(code, reason, message, details);
}

/** 415 for a PATCH whose Content-Type is not one of the patch types the resource accepts. */
export const unsupportedPatchType = (accepted: string[]) =>
  new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
