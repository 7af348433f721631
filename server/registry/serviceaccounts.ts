// core/v1 serviceaccounts: nothing beyond metadata to validate upstream; printServiceAccount.
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, type Stored } from './core-helpers.js';

const serviceaccounts: ResourceDefinition<Stored<ServiceAccount>> = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  strategy: {
    validate: () => [],
  },
  table: {
    columns: [NAME_COLUMN, col('Secrets', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COLUMN],
    row: (sa) => [sa.metadata?.name, (sa.secrets ?? []).length, age(sa.metadata?.creationTimestamp)],
  },
};

export default serviceaccounts;
