// The shape every review kind shares (TokenReview, SelfSubjectReview, the access and rules
// reviews): create only, computed per request, never stored, nothing for the store to validate.
import type { KubeObject, ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';

export interface ReviewKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export function reviewDefinition<T extends KubeObject>(k: ReviewKind, review: NonNullable<ResourceDefinition<T>['review']>): ResourceDefinition<T> {
  return {
    ...k,
    singular: k.plural.replace(/s$/, ''),
    verbs: ['create'],
    strategy: { validate: () => [] },
    table: { columns: [NAME_COLUMN, AGE_COLUMN], row: (obj) => [obj.metadata?.name ?? '', age(obj.metadata?.creationTimestamp)] },
    review,
  };
}
