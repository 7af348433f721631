// authorization.k8s.io/v1: the access and rules reviews. Create-only and never stored; each
// create is answered by the matching function in auth/reviews/access-reviews.ts.
import type {
  LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
} from 'kubernetes-types/authorization/v1.js';
import {
  AUTHORIZATION_GROUP, localSubjectAccessReview, selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview,
} from '../auth/reviews/access-reviews.js';
import { erase, type ResourceDefinition, type Stored } from './types.js';
import { reviewDefinition } from './review-definition.js';

function review<T>(kind: string, plural: string, namespaced: boolean, answer: NonNullable<ResourceDefinition<Stored<T>>['review']>): ResourceDefinition<Stored<T>> {
  return reviewDefinition<Stored<T>>({ group: AUTHORIZATION_GROUP, version: 'v1', kind, plural, namespaced }, answer);
}

const asStored = <T>(v: T) => v as Stored<T>;

export const authorizationResources: ResourceDefinition[] = [
  erase(review<LocalSubjectAccessReview>('LocalSubjectAccessReview', 'localsubjectaccessreviews', true,
    (obj, ctx) => asStored(localSubjectAccessReview(obj, ctx)))),
  erase(review<SelfSubjectAccessReview>('SelfSubjectAccessReview', 'selfsubjectaccessreviews', false,
    (obj, ctx) => asStored(selfSubjectAccessReview(obj, ctx)))),
  erase(review<SelfSubjectRulesReview>('SelfSubjectRulesReview', 'selfsubjectrulesreviews', false,
    (obj, ctx) => asStored(selfSubjectRulesReview(obj, ctx)))),
  erase(review<SubjectAccessReview>('SubjectAccessReview', 'subjectaccessreviews', false,
    (obj, ctx) => asStored(subjectAccessReview(obj, ctx)))),
];
