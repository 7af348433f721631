// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a ClusterRole everywhere
// (ValidateClusterRoleBinding: ClusterRole only, ServiceAccount subjects name their namespace).
import type { ClusterRoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { ResourceDefinition, Stored } from './types.js';
import {
  RBAC_GROUP, bindingColumns, bindingRow, defaultBinding, validateRBACName, validateRoleRef, validateRoleRefUpdate, validateSubjects,
} from './rbac-validation.js';

type Obj = Stored<ClusterRoleBinding>;

const clusterrolebindings: ResourceDefinition<Obj> = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  nameValidator: validateRBACName,
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => [...validateRoleRef(obj.roleRef, ['ClusterRole']), ...validateSubjects(obj.subjects, false)],
    validateUpdate: (obj, old) => validateRoleRefUpdate(obj.roleRef, old.roleRef),
  },
  table: { columns: bindingColumns('clusterRoleBinding'), row: bindingRow },
};

export default clusterrolebindings;
