// Which node a requester is (upstream's nodeidentifier.NewDefaultNodeIdentifier): a user in group
// system:nodes whose name is system:node:<nodeName>. Shared by the Node authorizer and the
// NodeRestriction admission plugin, so both agree on who counts as a node.
import { GROUP_NODES, NODE_USER_PREFIX, type UserInfo } from '../types.js';

/**
 * undefined when the user is not a node. A node with an empty name (the user is exactly
 * "system:node:") is still a node, so callers refuse it rather than fall through to RBAC.
 */
export function nodeIdentity(user: UserInfo | undefined): { nodeName: string } | undefined {
  if (!user || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  if (!user.groups.includes(GROUP_NODES)) return undefined;
  return { nodeName: user.name.slice(NODE_USER_PREFIX.length) };
}
