// rbac.authorization.k8s.io/v1 Role: namespaced rules (ValidateRole). Upstream registers no
// printer for roles, so tables come from the default convertor: NAME and CREATED AT.
import type { Role } from 'kubernetes-types/rbac/v1.js';
import type { ResourceDefinition, Stored } from './types.js';
import { NAME_COLUMN } from './printing.js';
import { CREATED_AT_COLUMN, RBAC_GROUP, createdAt, validateRBACName, validateRules } from './rbac-validation.js';

type Obj = Stored<Role>;

const roles: ResourceDefinition<Obj> = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  nameValidator: validateRBACName,
  strategy: {
    validate: (obj) => validateRules(obj.rules, true),
  },
  table: {
    columns: [NAME_COLUMN, CREATED_AT_COLUMN],
    row: (obj) => [obj.metadata?.name ?? '', createdAt(obj.metadata?.creationTimestamp)],
  },
};

export default roles;
