// authentication.k8s.io/v1 TokenReview: asks the server's own bearer-token authenticators
// whether a token is valid and whom it names (what webhook token authenticators and
// kube-rbac-proxy rely on); created, never stored.
import type { TokenReview, TokenReviewStatus } from 'kubernetes-types/authentication/v1.js';
import { badRequest, internalError } from '../../apimachinery/errors.js';
import type { KubeObject, ReviewContext, Stored } from './types.js';
import { erase } from './types.js';
import { reviewDefinition } from './review-definition.js';

type Obj = Stored<TokenReview>;

/** upstream's TokenReview REST Create. */
async function review(obj: Obj, ctx: ReviewContext): Promise<KubeObject> {
  if (ctx.namespace) throw badRequest(`namespace is not allowed on this type: ${ctx.namespace}`);
  const token = obj.spec?.token ?? '';
  if (!token) throw badRequest('token is required for TokenReview in authentication');
  const wanted = obj.spec?.audiences ?? [];
  const result = await ctx.auth.authenticateToken(token, wanted.length > 0 ? wanted : undefined);
  // upstream serialises status.user even when empty (a struct, not a pointer).
  const status: TokenReviewStatus = { user: {} };
  if (result) {
    // A token authenticator that ignored the requested audiences is a server fault upstream.
    if (wanted.length > 0 && !result.audiences.some((a) => wanted.includes(a))) throw internalError('error validating audiences');
    const { user } = result;
    status.authenticated = true;
    status.user = {
      username: user.name,
      ...(user.uid ? { uid: user.uid } : {}),
      ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
      ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
    };
    if (result.audiences.length > 0) status.audiences = [...result.audiences];
  } else {
    // What upstream's bearer-token authenticator reports when no token authenticator claims the token.
    status.error = 'invalid bearer token';
  }
  return { ...obj, apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { ...(obj.metadata ?? {}) }, spec: { ...obj.spec }, status };
}

const tokenReviews = reviewDefinition<Obj>({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', plural: 'tokenreviews', namespaced: false }, review);

export default erase(tokenReviews);
