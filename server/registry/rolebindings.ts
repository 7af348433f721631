// rbac.authorization.k8s.io/v1 RoleBinding: grants a Role or ClusterRole within its namespace
// (ValidateRoleBinding/ValidateRoleBindingUpdate, SetDefaults_RoleBinding, printRoleBinding).
import type { RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { ResourceDefinition, Stored } from './types.js';
import {
  RBAC_GROUP, bindingColumns, bindingRow, defaultBinding, validateRBACName, validateRoleRef, validateRoleRefUpdate, validateSubjects,
} from './rbac-validation.js';

type Obj = Stored<RoleBinding>;

const rolebindings: ResourceDefinition<Obj> = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  nameValidator: validateRBACName,
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => [...validateRoleRef(obj.roleRef, ['Role', 'ClusterRole']), ...validateSubjects(obj.subjects, true)],
    validateUpdate: (obj, old) => validateRoleRefUpdate(obj.roleRef, old.roleRef),
  },
  table: { columns: bindingColumns('roleBinding'), row: bindingRow },
};

export default rolebindings;
