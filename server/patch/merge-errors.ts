// The strategic merge patch's errors, worded as upstream's mergepatch package, and how the API
// server answers each (interpretStrategicMergePatchError).
import { badRequest, genericServerResponse, type StatusError } from '../../apimachinery/errors.js';
import { goStringVerb, goTypeName, goValue } from './go-json.js';

/** Malformed directives: upstream answers 400 BadRequest. */
export const ErrBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
export const ErrBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
export const ErrBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
/** 422 upstream. */
export const ErrNoListOfLists = 'lists of lists are not supported';

export type MergeErrorClass = 'badRequest' | 'invalid' | 'unknown';

export class MergeError extends Error {
  constructor(message: string, readonly errorClass: MergeErrorClass = 'unknown') {
    super(message);
  }
}

export const badFormat = (message: string) => new MergeError(message, 'badRequest');

export const noMergeKey = (m: unknown, key: string) =>
  new MergeError(`map: ${goValue(m)} does not contain declared merge key: ${key}`);

/** `expected a map[string]interface {}, but received a string` */
export const badArgType = (expected: 'map' | 'list', actual: unknown) =>
  new MergeError(`expected a ${expected === 'map' ? 'map[string]interface {}' : '[]interface {}'}, but received a ${goTypeName(actual)}`);

export const badPatchType = (directive: unknown, m: unknown) =>
  new MergeError(`unknown patch type: ${goStringVerb(directive)} in map: ${goValue(m)}`);

/**
 * The Status the API server sends for a failed strategic merge patch. Upstream answers the errors
 * it does not classify (e.g. "map: ... does not contain declared merge key: name") with a
 * reason-less 500; they are all the client's malformed patch, and Podium never answers bad input
 * with a 500, so they are 400 BadRequest here with upstream's message.
 */
export function toStatusError(e: unknown): StatusError {
  const message = e instanceof Error ? e.message : String(e);
  const errorClass = e instanceof MergeError ? e.errorClass : 'unknown';
  switch (errorClass) {
    case 'badRequest': return badRequest(message);
    case 'invalid': return genericServerResponse(422, message);
    default: return badRequest(message);
  }
}
