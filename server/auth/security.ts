// Assembles what guards the API server from its options: the authenticators, the authorization
// chain (--authorization-mode), the admission plugins that belong to them (NodeRestriction,
// RBAC escalation), service-account token issuing and the audit log.
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { AuthorizationMode } from '../../cmd/flags.js';
import type { AdmissionPlugin } from '../admission/types.js';
import { nodeRestriction } from '../admission/node-restriction.js';
import { rbacEscalation } from '../admission/rbac-escalation.js';
import { csrSignerAuthorization } from '../admission/csr-approval.js';
import type { Registry } from '../generic/registry.js';
import type { KubeObject } from '../registry/types.js';
import type { Cacher } from '../storage/cacher.js';
import { AuditLog } from '../http/audit.js';
import type { RequestSecurity } from '../http/request-security.js';
import { RBACAuthorizer } from './rbac/authorizer.js';
import { CachedRbacSource } from './rbac/cache-source.js';
import { NodeAuthorizer } from './node/node-authorizer.js';
import { WatchCacheNodeGraph } from './node/node-graph.js';
import { AuthorizerChain, alwaysAllow } from './authorization.js';
import { GROUP_MASTERS, type Authorizer, type SubjectRules } from './types.js';
import { RequestAuthenticator } from './authn/authenticator.js';
import { StaticTokenAuthenticator } from './authn/token-file.js';
import { ensureServiceAccountKey, ServiceAccountTokens, type LiveObject, type ServiceAccountKey, type ServiceAccountLookup } from './authn/service-account-token.js';
import { hasImpersonationHeaders, impersonate } from './authn/impersonation.js';
import { requestServiceAccountToken } from './token-request.js';

export interface SecurityOptions {
  authorizationModes: AuthorizationMode[];
  anonymousAuth: boolean;
  tokenAuthFile?: string;
  serviceAccountIssuer: string;
  auditLogPath?: string;
  dataDir?: string;
}

export interface Security {
  request: RequestSecurity;
  /** Admission plugins the chosen authorization modes bring. */
  admission: AdmissionPlugin[];
  close(): Promise<void>;
}

/** Builds over the registry and its caches; nothing runs until requests arrive. */
export function createSecurity(opts: SecurityOptions, registry: Registry, cacher: Cacher): Security {
  const rbacSource = CachedRbacSource.fromCacher(cacher);
  const rbac = new RBACAuthorizer(rbacSource);
  const nodeGraph = new WatchCacheNodeGraph(cacher.cache('core/pods'), cacher.cache('core/persistentvolumeclaims'));
  const authorizer = authorizerFor(opts.authorizationModes, rbac, nodeGraph);
  const admission: AdmissionPlugin[] = [];
  if (opts.authorizationModes.includes('Node')) admission.push(nodeRestriction);
  if (opts.authorizationModes.includes('RBAC')) admission.push(rbacEscalation(rbac));
  // upstream's CertificateApproval/CertificateSigning: on by default, whatever the authorization modes.
  admission.push(csrSignerAuthorization(authorizer));

  const tokens = new ServiceAccountTokens(serviceAccountKey(opts.dataDir), { issuer: opts.serviceAccountIssuer });
  const authenticator = new RequestAuthenticator({
    staticTokens: opts.tokenAuthFile ? StaticTokenAuthenticator.fromFile(opts.tokenAuthFile) : undefined,
    serviceAccountTokens: tokens,
    lookup: cacheLookup(cacher),
    anonymous: opts.anonymousAuth,
  });
  const audit = opts.auditLogPath ? new AuditLog(opts.auditLogPath) : undefined;
  const request: RequestSecurity = {
    authenticate: (req) => authenticator.authenticate(req),
    // headersDistinct: node joins repeated headers with ", ", which would merge --as-group values.
    // It builds a fresh object on every access, so only requests that impersonate pay for it.
    impersonate: (req, requester) => (hasImpersonationHeaders(req.headers) ? impersonate(req.headersDistinct, requester, authorizer) : undefined),
    authorizer,
    audit,
    services: {
      authorizer,
      rulesFor: (user, namespace) => (opts.authorizationModes.includes('RBAC') ? rbac.rulesFor(user, namespace) : ALL_RULES),
      authenticateToken: (token, audiences) => authenticator.authenticateToken(token, audiences),
      requestToken: (namespace, name, body) => requestServiceAccountToken(registry, tokens, namespace, name, body as KubeObject),
    },
  };
  return {
    request,
    admission,
    async close() {
      rbacSource.close();
      nodeGraph.close();
      await audit?.close();
    },
  };
}

/** upstream's --authorization-mode, behind the system:masters short cut upstream always puts first. */
function authorizerFor(modes: AuthorizationMode[], rbac: RBACAuthorizer, graph: WatchCacheNodeGraph): Authorizer {
  const chain: Authorizer[] = [privilegedGroup];
  for (const mode of modes) {
    if (mode === 'AlwaysAllow') chain.push(alwaysAllow);
    else if (mode === 'Node') chain.push(new NodeAuthorizer(graph));
    else chain.push(rbac);
  }
  return new AuthorizerChain(chain);
}

const privilegedGroup: Authorizer = {
  authorize: (a) => (a.user.groups.includes(GROUP_MASTERS) ? { decision: 'allow', reason: '' } : { decision: 'no-opinion', reason: '' }),
};

/** What SelfSubjectRulesReview reports when every request is allowed. */
const ALL_RULES: SubjectRules = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

/** The objects service-account tokens name, as the watch caches hold them now. */
function cacheLookup(cacher: Cacher): ServiceAccountLookup {
  const live = (type: string, key: string): LiveObject | undefined => {
    const meta = cacher.cache(type).get(key)?.object.metadata;
    return meta ? { uid: meta.uid, deletionTimestamp: meta.deletionTimestamp } : undefined;
  };
  return {
    serviceAccount: (ns, name) => live('core/serviceaccounts', `${ns}/${name}`),
    pod: (ns, name) => live('core/pods', `${ns}/${name}`),
    secret: (ns, name) => live('core/secrets', `${ns}/${name}`),
    node: (name) => live('core/nodes', name),
  };
}

/**
 * The key service-account tokens are signed with: DIR/pki/sa.key for a cluster with a data
 * directory; otherwise (tests) one made for this process, so its tokens die with it.
 */
function serviceAccountKey(dataDir: string | undefined): ServiceAccountKey {
  if (dataDir) return ensureServiceAccountKey(join(dataDir, 'pki'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
