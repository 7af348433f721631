// authentication.k8s.io SelfSubjectReview (v1 and v1beta1): "who am I", answered from the
// authenticated (or impersonated) user of the request itself; created, never stored.
import type { SelfSubjectReview } from 'kubernetes-types/authentication/v1.js';
import type { KubeObject, ResourceDefinition, ReviewContext } from './types.js';
import { erase } from './types.js';
import { reviewDefinition } from './review-definition.js';

type Obj = KubeObject & Omit<SelfSubjectReview, 'apiVersion' | 'kind' | 'metadata'>;

/** metav1.Now() as JSON: RFC 3339, whole seconds. */
function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** upstream's SelfSubjectReview REST Create: a fresh object, not the one posted. */
function review(version: string) {
  return (_obj: Obj, ctx: ReviewContext): KubeObject => {
    const { user } = ctx;
    const userInfo: Record<string, unknown> = { username: user.name };
    if (user.uid) userInfo.uid = user.uid;
    if (user.groups.length > 0) userInfo.groups = [...user.groups];
    if (user.extra && Object.keys(user.extra).length > 0) {
      userInfo.extra = Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]]));
    }
    return {
      apiVersion: `authentication.k8s.io/${version}`,
      kind: 'SelfSubjectReview',
      metadata: { creationTimestamp: now() },
      status: { userInfo },
    };
  };
}

function definition(version: string): ResourceDefinition<Obj> {
  return reviewDefinition<Obj>({ group: 'authentication.k8s.io', version, kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false }, review(version));
}

export const selfSubjectReviewsV1 = erase(definition('v1'));
export const selfSubjectReviewsV1beta1 = erase(definition('v1beta1'));
