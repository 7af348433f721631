// The rbac.authorization.k8s.io/v1 resources for the registry table.
import { erase, type ResourceDefinition } from './types.js';
import roles from './roles.js';
import clusterroles from './clusterroles.js';
import rolebindings from './rolebindings.js';
import clusterrolebindings from './clusterrolebindings.js';

export const rbacResources: ResourceDefinition[] = [
  erase(clusterrolebindings),
  erase(clusterroles),
  erase(rolebindings),
  erase(roles),
];
