// The authentication.k8s.io resources the API server serves from its own authenticators
// (TokenRequest is a serviceaccounts subresource and lives with them).
import type { ResourceDefinition } from './types.js';
import { selfSubjectReviewsV1, selfSubjectReviewsV1beta1 } from './selfsubjectreviews.js';
import tokenReviews from './tokenreviews.js';

export const authenticationResources: ResourceDefinition[] = [tokenReviews, selfSubjectReviewsV1, selfSubjectReviewsV1beta1];
