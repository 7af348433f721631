// Request authorization (upstream's WithAuthorization filter and union authorizer): the
// attributes of a request, the chain of authorizers it meets, and the 403 it gets.
import { StatusError, forbidden } from '../../apimachinery/errors.js';
import type { ResourceRequest } from '../http/request-info.js';
import type { Attributes, AuthorizationResult, Authorizer, UserInfo } from './types.js';

/** Every request allowed (upstream's --authorization-mode=AlwaysAllow). */
export const alwaysAllow: Authorizer = { authorize: () => ({ decision: 'allow', reason: '' }) };

/** The first authorizer with an opinion decides; none allowing is a denial (upstream's union authorizer). */
export class AuthorizerChain implements Authorizer {
  constructor(private readonly authorizers: Authorizer[]) {}

  authorize(a: Attributes): AuthorizationResult {
    const reasons: string[] = [];
    for (const authorizer of this.authorizers) {
      const result = authorizer.authorize(a);
      if (result.decision !== 'no-opinion') return result;
      if (result.reason) reasons.push(result.reason);
    }
    return { decision: 'no-opinion', reason: reasons.join('\n') };
  }
}

/** Attributes of a resource request, as upstream's RequestInfo resolver fills them. */
export function resourceAttributes(user: UserInfo, info: ResourceRequest): Attributes {
  return {
    user,
    verb: info.verb,
    namespace: info.namespace,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
    resourceRequest: true,
    path: '',
  };
}

/** Non-resource paths (discovery, /version, /openapi/…) authorize the lower-case HTTP method as the verb. */
export function nonResourceAttributes(user: UserInfo, method: string, path: string): Attributes {
  const verb = method === 'HEAD' ? 'get' : method.toLowerCase();
  return { user, verb, namespace: '', apiGroup: '', resource: '', subresource: '', name: '', resourceRequest: false, path };
}

/** upstream's responsewriters.Forbidden, word for word. */
export function forbiddenRequest(a: Attributes, reason: string): StatusError {
  let message: string;
  if (!a.resourceRequest) {
    message = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  } else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
    message = `User ${JSON.stringify(a.user.name)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  }
  if (reason) message += `: ${reason}`;
  if (!a.resourceRequest) return new StatusError(403, 'Forbidden', `forbidden: ${message}`, {});
  return forbidden({ group: a.apiGroup, resource: a.resource }, a.name, message);
}
