// upstream's WithImpersonation filter as a function: Impersonate-User / -Group / -Uid /
// -Extra-<key> headers switch the request's user, each requested attribute checked as the
// verb "impersonate" on users, groups, serviceaccounts, uids or userextras.
import type { IncomingHttpHeaders } from 'node:http';
import { forbidden, internalError } from '../../../apimachinery/errors.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../../../apimachinery/validation.js';
import {
  ANONYMOUS_USER, GROUP_AUTHENTICATED, GROUP_UNAUTHENTICATED, SERVICE_ACCOUNT_USER_PREFIX,
  type Attributes, type Authorizer, type UserInfo,
} from '../types.js';
import { serviceAccountGroups } from './service-account-token.js';

const USER_HEADER = 'impersonate-user';
const GROUP_HEADER = 'impersonate-group';
const UID_HEADER = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';
const AUTHENTICATION_GROUP = 'authentication.k8s.io';

/**
 * Headers as node gives them. Pass `req.headersDistinct` where possible: plain `req.headers`
 * joins a repeated Impersonate-Group into one "a, b" string, which is then taken as one group.
 */
export type ImpersonationHeaders = IncomingHttpHeaders | Record<string, string | string[] | undefined>;

/** One thing the requester asks to act as (upstream builds a v1.ObjectReference per header value). */
interface ImpersonationRequest {
  kind: 'User' | 'ServiceAccount' | 'Group' | 'UserExtra' | 'UID';
  namespace: string;
  name: string;
  /** The extra key, for UserExtra (upstream keeps it in ObjectReference.FieldPath). */
  fieldPath: string;
  apiVersion: string;
}

function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** http.Header.Get: the first value, "" when absent. */
function first(v: string | string[] | undefined): string {
  return all(v)[0] ?? '';
}

/** upstream's serviceaccount.SplitUsername: [namespace, name] or undefined when it is not a valid SA username. */
export function splitServiceAccountUsername(username: string): [string, string] | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts;
  if (isDNS1123Label(namespace).length > 0 || isDNS1123Subdomain(name).length > 0) return undefined;
  return [namespace, name];
}

/** url.PathUnescape, keeping the raw key when it is malformed (upstream records it anyway). */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** Go's %v of a v1.ObjectReference, for upstream's error text. */
function goRef(r: ImpersonationRequest): string {
  return `{${[r.kind, r.namespace, r.name, '', r.apiVersion, '', r.fieldPath].join(' ')}}`;
}

function buildRequests(headers: ImpersonationHeaders): ImpersonationRequest[] {
  const requests: ImpersonationRequest[] = [];
  const base = { namespace: '', fieldPath: '', apiVersion: '' };
  const requestedUser = first(headers[USER_HEADER]);
  const hasUser = requestedUser.length > 0;
  if (hasUser) {
    const sa = splitServiceAccountUsername(requestedUser);
    if (sa) requests.push({ ...base, kind: 'ServiceAccount', namespace: sa[0], name: sa[1] });
    else requests.push({ ...base, kind: 'User', name: requestedUser });
  }
  const groups = all(headers[GROUP_HEADER]);
  for (const group of groups) requests.push({ ...base, kind: 'Group', name: group });
  let hasExtra = false;
  for (const [header, value] of Object.entries(headers)) {
    const lower = header.toLowerCase();
    if (!lower.startsWith(EXTRA_PREFIX)) continue;
    hasExtra = true;
    const key = unescapeExtraKey(lower.slice(EXTRA_PREFIX.length));
    for (const v of all(value)) requests.push({ ...base, kind: 'UserExtra', name: v, fieldPath: key, apiVersion: `${AUTHENTICATION_GROUP}/v1` });
  }
  const requestedUid = first(headers[UID_HEADER]);
  const hasUid = requestedUid.length > 0;
  if (hasUid) requests.push({ ...base, kind: 'UID', name: requestedUid, apiVersion: `${AUTHENTICATION_GROUP}/v1` });
  if ((groups.length > 0 || hasExtra || hasUid) && !hasUser) {
    // upstream answers this with InternalError (500), not a 400.
    throw internalError(`requested [${requests.map(goRef).join(' ')}] without impersonating a user`);
  }
  return requests;
}

/** upstream's responsewriters.forbiddenMessage for a resource request. */
function forbiddenMessage(a: Attributes): string {
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${a.user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}`;
}

/**
 * The user the request acts as, or undefined when it carries no Impersonate-* header. Throws a
 * 403 StatusError for the first attribute the requester may not impersonate, and a 500 for
 * groups, extras or a uid without a user, as upstream.
 */
export function impersonate(headers: ImpersonationHeaders, requester: UserInfo, authorizer: Authorizer): UserInfo | undefined {
  const requests = buildRequests(headers);
  if (requests.length === 0) return undefined;
  // Given groups are the whole truth (system:authenticated aside); without any, a service
  // account gets its fixed groups.
  const groupsSpecified = all(headers[GROUP_HEADER]).length > 0;
  let username = '';
  let uid: string | undefined;
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs: Attributes = {
      user: requester, verb: 'impersonate', namespace: r.namespace, apiGroup: '', apiVersion: '',
      resource: '', subresource: '', name: r.name, resourceRequest: true, path: '',
    };
    switch (r.kind) {
      case 'ServiceAccount':
        attrs.resource = 'serviceaccounts';
        username = `${SERVICE_ACCOUNT_USER_PREFIX}${r.namespace}:${r.name}`;
        if (!groupsSpecified) groups = serviceAccountGroups(r.namespace);
        break;
      case 'User':
        attrs.resource = 'users';
        username = r.name;
        break;
      case 'Group':
        attrs.resource = 'groups';
        groups.push(r.name);
        break;
      case 'UserExtra':
        attrs.apiGroup = AUTHENTICATION_GROUP;
        attrs.apiVersion = 'v1';
        attrs.resource = 'userextras';
        attrs.subresource = r.fieldPath;
        (extra[r.fieldPath] ??= []).push(r.name);
        break;
      case 'UID':
        attrs.apiGroup = AUTHENTICATION_GROUP;
        attrs.apiVersion = 'v1';
        attrs.resource = 'uids';
        uid = r.name;
        break;
    }
    const { decision, reason } = authorizer.authorize(attrs);
    if (decision !== 'allow') {
      const msg = forbiddenMessage(attrs);
      throw forbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, reason ? `${msg}: ${reason}` : msg);
    }
  }
  if (username !== ANONYMOUS_USER) {
    if (!groups.includes(GROUP_AUTHENTICATED) && !groups.includes(GROUP_UNAUTHENTICATED)) groups.push(GROUP_AUTHENTICATED);
  } else if (!groups.includes(GROUP_UNAUTHENTICATED)) {
    groups.push(GROUP_UNAUTHENTICATED);
  }
  const user: UserInfo = { name: username, groups };
  if (uid !== undefined) user.uid = uid;
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}

/** True when any Impersonate-* header is present (callers may skip the call otherwise). */
export function hasImpersonationHeaders(headers: ImpersonationHeaders): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase().startsWith('impersonate-'));
}
