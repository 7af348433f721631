// The front of every request (upstream's WithAuthentication, WithImpersonation, WithAudit and
// WithAuthorization filters): who is asking, as whom, and whether they may.
import type { IncomingMessage } from 'node:http';
import { isStatusError } from '../../apimachinery/errors.js';
import type { AuditLog, AuditRecord, AuditedResponse } from './audit.js';
import type { ResourceRequest } from './request-info.js';
import { forbiddenRequest, nonResourceAttributes, resourceAttributes } from '../auth/authorization.js';
import type { AuthServices, Authorizer, UserInfo } from '../auth/types.js';
import { ANONYMOUS_USER, GROUP_UNAUTHENTICATED } from '../auth/types.js';

export interface RequestSecurity {
  /** Throws a 401 Status for bad credentials, or for none when anonymous requests are off. */
  authenticate(req: IncomingMessage): Promise<UserInfo>;
  /** The user to act as when the request carries Impersonate-* headers (403 when not allowed). */
  impersonate(req: IncomingMessage, requester: UserInfo): UserInfo | undefined;
  authorizer: Authorizer;
  /** What the review resources consult. */
  services: AuthServices;
  audit?: AuditLog;
}

/** Health and version answer anyone, so probes and `kubectl version` need no credentials. */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
const isPublic = (path: string): boolean => PUBLIC_PATHS.has(path) || /^\/(healthz|livez|readyz)\//.test(path);

const ANONYMOUS: UserInfo = { name: ANONYMOUS_USER, groups: [GROUP_UNAUTHENTICATED] };

/**
 * Authenticates, applies impersonation and authorizes one request. Resolves with the user the
 * request acts as; throws the 401/403 Status that ends it otherwise.
 */
export async function admitRequest(security: RequestSecurity, req: IncomingMessage, res: AuditedResponse, path: string, info: ResourceRequest | undefined): Promise<UserInfo> {
  const record: AuditRecord = security.audit?.begin(req, res) ?? {};
  let user: UserInfo;
  try {
    user = await security.authenticate(req);
  } catch (err) {
    // Without credentials, the public paths are still served; bad credentials are refused everywhere.
    if (!(isPublic(path) && isStatusError(err) && err.code === 401 && !req.headers.authorization)) throw err;
    user = ANONYMOUS;
  }
  record.user = user;
  const acting = security.impersonate(req, user);
  if (acting) {
    record.impersonatedUser = acting;
    user = acting;
  }
  const attributes = info ? resourceAttributes(user, info) : nonResourceAttributes(user, req.method ?? 'GET', path);
  record.attributes = attributes;
  if (isPublic(path)) return user;
  const result = security.authorizer.authorize(attributes);
  record.decision = result.decision === 'allow' ? 'allow' : 'forbid';
  record.reason = result.reason;
  if (result.decision !== 'allow') throw forbiddenRequest(attributes, result.reason);
  return user;
}
