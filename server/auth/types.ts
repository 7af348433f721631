// The shapes authentication and authorization share (upstream's user.Info and
// authorizer.Attributes): who is asking, and what they ask to do.

/** An authenticated (or anonymous) requester, as upstream's user.Info. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ANONYMOUS_USER = 'system:anonymous';
export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const GROUP_MASTERS = 'system:masters';
export const GROUP_NODES = 'system:nodes';
export const GROUP_SERVICE_ACCOUNTS = 'system:serviceaccounts';
export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const NODE_USER_PREFIX = 'system:node:';

/** What a request asks to do, as upstream's authorizer.Attributes. */
export interface Attributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection, or impersonate/bind/escalate/…; for non-resource paths the lower-case HTTP method mapped as upstream (get, post, put, …). */
  verb: string;
  namespace: string;
  apiGroup: string;
  apiVersion?: string;
  resource: string;
  subresource: string;
  name: string;
  resourceRequest: boolean;
  /** The URL path, for non-resource requests. */
  path: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';
export interface AuthorizationResult { decision: Decision; reason: string }

export interface Authorizer {
  authorize(a: Attributes): AuthorizationResult;
}

/** SelfSubjectRulesReview's answer (authorization.k8s.io/v1 SubjectRulesReviewStatus). */
export interface SubjectRules {
  resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[];
  nonResourceRules: { verbs: string[]; nonResourceURLs?: string[] }[];
  incomplete: boolean;
  evaluationError?: string;
}

/** What the review resources (TokenReview, *AccessReview, *RulesReview) consult. */
export interface AuthServices {
  /** The whole authorization chain the server enforces (Node, then RBAC). */
  authorizer: Authorizer;
  /** Every rule the user holds in the namespace ("" = cluster-wide bindings only). */
  rulesFor(user: UserInfo, namespace: string): SubjectRules;
  /** Authenticates a bearer token as a request would be; undefined when it is not valid. */
  authenticateToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined>;
  /** serviceaccounts/token: a TokenRequest answered with a signed token. */
  requestToken(namespace: string, serviceAccount: string, body: object): Promise<object>;
}
