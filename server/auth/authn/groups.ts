// upstream's group.AuthenticatedGroupAdder: every authenticated identity is also in
// system:authenticated, unless it already names itself authenticated or unauthenticated.
import { GROUP_AUTHENTICATED, GROUP_UNAUTHENTICATED, type UserInfo } from '../types.js';

export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(GROUP_AUTHENTICATED) || user.groups.includes(GROUP_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, GROUP_AUTHENTICATED] };
}
