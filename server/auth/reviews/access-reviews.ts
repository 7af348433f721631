// The authorization.k8s.io/v1 reviews (upstream pkg/registry/authorization/*): ask the
// server's authorizer whether a user may do something (SubjectAccessReview and its Self and
// Local forms), or list what a user may do in a namespace (SelfSubjectRulesReview, which
// `kubectl auth can-i --list` prints). Each is computed per request and never stored.
import type {
  LocalSubjectAccessReview, NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview, SelfSubjectRulesReview,
  SubjectAccessReview, SubjectAccessReviewSpec, SubjectAccessReviewStatus,
} from 'kubernetes-types/authorization/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { badRequest, invalid, type FieldError } from '../../../apimachinery/errors.js';
import type { ReviewContext } from '../../registry/types.js';
import type { Attributes, AuthServices, UserInfo } from '../types.js';

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
const API_VERSION = 'authorization.k8s.io/v1';

const goQuote = (s: string) => JSON.stringify(s);

/** ResourceAttributesFrom: an empty version means every version. */
export function resourceAttributesFrom(user: UserInfo, ra: ResourceAttributes): Attributes {
  return {
    user,
    verb: ra.verb ?? '',
    namespace: ra.namespace ?? '',
    apiGroup: ra.group ?? '',
    apiVersion: ra.version || '*',
    resource: ra.resource ?? '',
    subresource: ra.subresource ?? '',
    name: ra.name ?? '',
    resourceRequest: true,
    path: '',
  };
}

/** NonResourceAttributesFrom. */
export function nonResourceAttributesFrom(user: UserInfo, nra: NonResourceAttributes): Attributes {
  return { user, verb: nra.verb ?? '', namespace: '', apiGroup: '', resource: '', subresource: '', name: '', resourceRequest: false, path: nra.path ?? '' };
}

/** The authorizer's decision as a SubjectAccessReviewStatus (denied and reason omitted when empty, as Go's omitempty). */
export function statusFor(auth: AuthServices, attrs: Attributes): SubjectAccessReviewStatus {
  const { decision, reason } = auth.authorizer.authorize(attrs);
  const status: { allowed: boolean; denied?: boolean; reason?: string } = { allowed: decision === 'allow' };
  if (decision === 'deny') status.denied = true;
  if (reason) status.reason = reason;
  return status;
}

/** %#v of the internal NonResourceAttributes that upstream's field error prints. */
const goNonResource = (n: NonResourceAttributes | undefined) =>
  n ? `authorization.NonResourceAttributes{Path:${goQuote(n.path ?? '')}, Verb:${goQuote(n.verb ?? '')}}` : '"null"';

/** The exactly-one-of check every access review's spec shares (ValidateSubjectAccessReviewSpec, v1.32 wording). */
function validateAttributesUnion(spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes }): FieldError[] {
  const out: FieldError[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    out.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', detail: `Invalid value: ${goNonResource(spec.nonResourceAttributes)}: cannot be specified in combination with resourceAttributes` });
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    // upstream passes the nil nonResourceAttributes pointer, which the error prints as "null"
    out.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes', detail: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' });
  }
  return out;
}

export function validateSubjectAccessReviewSpec(spec: SubjectAccessReviewSpec): FieldError[] {
  const out = validateAttributesUnion(spec);
  if (!spec.user && !spec.groups?.length) {
    out.push({ type: 'FieldValueInvalid', field: 'spec.user', detail: `Invalid value: ${goQuote(spec.user ?? '')}: at least one of user or group must be specified` });
  }
  return out;
}

// Fields the server itself may fill in on the way in; only what a client chose counts against "must be empty".
const SERVER_SET = new Set(['managedFields', 'creationTimestamp', 'uid', 'resourceVersion', 'generation', 'selfLink']);

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** The reviews accept no metadata (but a LocalSubjectAccessReview's namespace). */
function validateEmptyMetadata(meta: ObjectMeta | undefined, allowNamespace: boolean): FieldError[] {
  const set = Object.entries(meta ?? {}).filter(([k, v]) => !SERVER_SET.has(k) && !(allowNamespace && k === 'namespace') && !isZero(v));
  if (set.length === 0) return [];
  const shown = JSON.stringify(Object.fromEntries(set));
  return [{ type: 'FieldValueInvalid', field: 'metadata', detail: `Invalid value: ${shown}: must be empty${allowNamespace ? ' except for namespace' : ''}` }];
}

function userFromSpec(spec: SubjectAccessReviewSpec): UserInfo {
  const user: UserInfo = { name: spec.user ?? '', groups: [...(spec.groups ?? [])] };
  if (spec.uid) user.uid = spec.uid;
  if (spec.extra) user.extra = structuredClone(spec.extra);
  return user;
}

function attributesOf(user: UserInfo, spec: { resourceAttributes?: ResourceAttributes; nonResourceAttributes?: NonResourceAttributes }): Attributes {
  return spec.resourceAttributes ? resourceAttributesFrom(user, spec.resourceAttributes) : nonResourceAttributesFrom(user, spec.nonResourceAttributes ?? {});
}

/** SelfSubjectAccessReview: may the requester do this? */
export function selfSubjectAccessReview(obj: SelfSubjectAccessReview, ctx: ReviewContext): SelfSubjectAccessReview {
  const spec = obj.spec ?? {};
  const errs = [...validateAttributesUnion(spec), ...validateEmptyMetadata(obj.metadata, false)];
  if (errs.length) throw invalid('SelfSubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
  const status = statusFor(ctx.auth, attributesOf(ctx.user, spec));
  return { apiVersion: API_VERSION, kind: 'SelfSubjectAccessReview', metadata: obj.metadata ?? {}, spec, status };
}

/** SubjectAccessReview: may the user described by the spec do this? */
export function subjectAccessReview(obj: SubjectAccessReview, ctx: ReviewContext): SubjectAccessReview {
  const spec = obj.spec ?? {};
  const errs = [...validateSubjectAccessReviewSpec(spec), ...validateEmptyMetadata(obj.metadata, false)];
  if (errs.length) throw invalid('SubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
  const status = statusFor(ctx.auth, attributesOf(userFromSpec(spec), spec));
  return { apiVersion: API_VERSION, kind: 'SubjectAccessReview', metadata: obj.metadata ?? {}, spec, status };
}

/** LocalSubjectAccessReview: a SubjectAccessReview confined to the namespace of the request path. */
export function localSubjectAccessReview(obj: LocalSubjectAccessReview, ctx: ReviewContext): LocalSubjectAccessReview {
  const spec = obj.spec ?? {};
  const given = obj.metadata?.namespace;
  // as the generic create handler does: the body's namespace defaults to, and must agree with, the path's
  if (given && ctx.namespace && given !== ctx.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const namespace = given || ctx.namespace;
  const errs = [...validateSubjectAccessReviewSpec(spec), ...validateEmptyMetadata(obj.metadata, true)];
  if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.resourceAttributes.namespace', detail: `Invalid value: ${goQuote(spec.resourceAttributes.namespace ?? '')}: must match metadata.namespace` });
  }
  if (spec.nonResourceAttributes) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.nonResourceAttributes', detail: `Invalid value: ${goNonResource(spec.nonResourceAttributes)}: disallowed on this kind of request` });
  }
  if (errs.length) throw invalid('LocalSubjectAccessReview', AUTHORIZATION_GROUP, '', errs);
  if (!ctx.namespace) throw badRequest(`namespace is required on this type: ${ctx.namespace}`);
  if (ctx.namespace !== namespace) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${ctx.namespace}`);
  const status = statusFor(ctx.auth, attributesOf(userFromSpec(spec), spec));
  return { apiVersion: API_VERSION, kind: 'LocalSubjectAccessReview', metadata: { ...(obj.metadata ?? {}), namespace }, spec, status };
}

/**
 * SelfSubjectRulesReview: every rule the requester holds in spec.namespace. Upstream answers
 * a fresh object carrying only the status (the spec comes back empty).
 */
export function selfSubjectRulesReview(obj: SelfSubjectRulesReview, ctx: ReviewContext): SelfSubjectRulesReview {
  const namespace = obj.spec?.namespace ?? '';
  if (!namespace) throw badRequest('no namespace on request');
  const rules = ctx.auth.rulesFor(ctx.user, namespace);
  const status: SelfSubjectRulesReview['status'] = {
    resourceRules: rules.resourceRules,
    nonResourceRules: rules.nonResourceRules,
    incomplete: rules.incomplete,
    ...(rules.evaluationError ? { evaluationError: rules.evaluationError } : {}),
  };
  return { apiVersion: API_VERSION, kind: 'SelfSubjectRulesReview', metadata: {}, spec: {}, status };
}
