// rbac.authorization.k8s.io/v1 ClusterRole: cluster-wide rules, optionally aggregated from
// other ClusterRoles by label (ValidateClusterRole). Default-convertor table, as upstream.
import type { ClusterRole } from 'kubernetes-types/rbac/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors } from '../../apimachinery/validation.js';
import type { ResourceDefinition, Stored } from './types.js';
import { NAME_COLUMN } from './printing.js';
import { validateLabelSelector } from './label-selector-validation.js';
import { CREATED_AT_COLUMN, RBAC_GROUP, createdAt, validateRBACName, validateRules } from './rbac-validation.js';

type Obj = Stored<ClusterRole>;

function validate(obj: Obj): FieldError[] {
  const out = validateRules(obj.rules, false);
  const agg = obj.aggregationRule;
  if (agg) {
    const selectors = agg.clusterRoleSelectors ?? [];
    if (selectors.length === 0) {
      out.push(fieldErrors.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    selectors.forEach((sel, i) => out.push(...validateLabelSelector(sel, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return out;
}

const clusterroles: ResourceDefinition<Obj> = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  nameValidator: validateRBACName,
  strategy: {
    validate,
  },
  table: {
    columns: [NAME_COLUMN, CREATED_AT_COLUMN],
    row: (obj) => [obj.metadata?.name ?? '', createdAt(obj.metadata?.creationTimestamp)],
  },
};

export default clusterroles;
