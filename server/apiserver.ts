// The API server: Redis storage and watch caches, the registry of served resources, admission,
// and the HTTP(S) front that routes discovery, health and resource requests. It is plain
// node:http: express's per-request prototype swapping cost 60 % of GET throughput (bench/api).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { RedisStorage } from './storage/redis-storage.js';
import { Cacher } from './storage/cacher.js';
import { Registry } from './generic/registry.js';
import { Store } from './generic/store.js';
import { coreResources } from './registry/core.js';
import { groupResources } from './registry/groups.js';
import { namespaceLifecycle } from './admission/namespace-lifecycle.js';
import { serviceAccountAdmission } from './admission/service-account.js';
import { serviceAllocation } from './admission/service-allocation.js';
import { createRouter } from './http/router.js';
import { bootstrap } from './bootstrap.js';
import { logger } from '../apimachinery/log.js';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { AuthorizationMode } from '../cmd/flags.js';
import type { AdmissionPlugin } from './admission/types.js';
import { nodeRestriction } from './admission/node-restriction.js';
import { rbacEscalation } from './admission/rbac-escalation.js';
import { authenticationResources } from './registry/authentication.js';
import { authorizationResources } from './registry/authorization.js';
import { rbacResources } from './registry/rbac.js';
import type { KubeObject } from './registry/types.js';
import { RBACAuthorizer } from './auth/rbac/authorizer.js';
import { CachedRbacSource } from './auth/rbac/cache-source.js';
import { reconcileBootstrapPolicy } from './auth/rbac/bootstrap-reconcile.js';
import { NodeAuthorizer } from './auth/node/node-authorizer.js';
import { WatchCacheNodeGraph } from './auth/node/node-graph.js';
import { AuthorizerChain, alwaysAllow } from './auth/authorization.js';
import { GROUP_MASTERS, type Authorizer, type SubjectRules } from './auth/types.js';
import { RequestAuthenticator } from './auth/authn/authenticator.js';
import { StaticTokenAuthenticator } from './auth/authn/token-file.js';
import { ensureServiceAccountKey, ServiceAccountTokens, type LiveObject, type ServiceAccountKey, type ServiceAccountLookup } from './auth/authn/service-account-token.js';
import { impersonate } from './auth/authn/impersonation.js';
import { requestServiceAccountToken } from './auth/token-request.js';
import { AuditLog } from './http/audit.js';
import type { RequestSecurity } from './http/request-security.js';
import { EncryptionTransformer } from './storage/encryption.js';

export interface ApiServerOptions {
  port: number;
  authorizationModes: AuthorizationMode[];
  anonymousAuth: boolean;
  tokenAuthFile?: string;
  serviceAccountIssuer: string;
  auditLogPath?: string;
  encryptionProviderConfig?: string;
  bindAddress: string;
  redisUrl: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  clientCaFile?: string;
  dataDir?: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  eventWindow: number;
}

const log = logger('apiserver');

export async function startApiServer(opts: ApiServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const encryption = await encryptionAtRest(opts);
  const redis = new RedisStorage(opts.redisUrl, opts.eventWindow, encryption);
  const registry = new Registry([...coreResources, ...groupResources, ...authenticationResources, ...authorizationResources, ...rbacResources]);
  const cacher = new Cacher(redis, registry.storageTypes(), opts.eventWindow);
  const services = serviceAllocation(redis.client, opts.serviceClusterIpRange, opts.serviceNodePortRange);
  const rbacSource = CachedRbacSource.fromCacher(cacher);
  const rbac = new RBACAuthorizer(rbacSource);
  const nodeGraph = new WatchCacheNodeGraph(cacher.cache('core/pods'), cacher.cache('core/persistentvolumeclaims'));
  const authorizer = authorizerFor(opts.authorizationModes, rbac, nodeGraph);
  const admission: AdmissionPlugin[] = [namespaceLifecycle, serviceAccountAdmission, services];
  if (opts.authorizationModes.includes('Node')) admission.push(nodeRestriction);
  if (opts.authorizationModes.includes('RBAC')) admission.push(rbacEscalation(rbac));
  for (const def of registry.definitions) registry.stores.set(def, new Store(def, redis, cacher, admission, registry));

  const tokens = new ServiceAccountTokens(serviceAccountKey(opts), { issuer: opts.serviceAccountIssuer });
  const authenticator = new RequestAuthenticator({
    staticTokens: opts.tokenAuthFile ? StaticTokenAuthenticator.fromFile(opts.tokenAuthFile) : undefined,
    serviceAccountTokens: tokens,
    lookup: cacheLookup(cacher),
    anonymous: opts.anonymousAuth,
  });
  const audit = opts.auditLogPath ? new AuditLog(opts.auditLogPath) : undefined;
  const security: RequestSecurity = {
    authenticate: (req) => authenticator.authenticate(req),
    impersonate: (req, requester) => impersonate(req.headersDistinct, requester, authorizer),
    authorizer,
    audit,
    services: {
      authorizer,
      rulesFor: (user, namespace) => (opts.authorizationModes.includes('RBAC') ? rbac.rulesFor(user, namespace) : ALL_RULES),
      authenticateToken: (token, audiences) => authenticator.authenticateToken(token, audiences),
      requestToken: (namespace, name, body) => requestServiceAccountToken(registry, tokens, namespace, name, body as KubeObject),
    },
  };

  await waitForRedis(redis);
  await cacher.start();
  await bootstrap(registry, services.kubernetesServiceIP, opts.port);
  await reconcileBootstrapPolicy(registry);

  const sockets = new Set<Socket>();
  let server: http.Server;
  const router = createRouter({ registry, redis, cacher, security, serverAddress: () => `${opts.bindAddress}:${(server.address() as AddressInfo).port}` });
  if (opts.tlsCertFile && opts.tlsKeyFile) {
    server = https.createServer({
      cert: readFileSync(opts.tlsCertFile),
      key: readFileSync(opts.tlsKeyFile),
      ca: opts.clientCaFile ? readFileSync(opts.clientCaFile) : undefined,
      requestCert: !!opts.clientCaFile,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    }, router);
  } else {
    server = http.createServer(router);
  }
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('clientError', (_err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'); else socket.destroy(); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bindAddress, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('serving', { port, tls: !!opts.tlsCertFile, types: registry.storageTypes().length });
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await cacher.stop();
      await redis.close();
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
function serviceAccountKey(opts: ApiServerOptions): ServiceAccountKey {
  if (opts.dataDir) return ensureServiceAccountKey(join(opts.dataDir, 'pki'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** --encryption-provider-config, else DIR/pki/encryption-config.yaml (made on first start); no data dir: none. */
async function encryptionAtRest(opts: ApiServerOptions): Promise<EncryptionTransformer | undefined> {
  if (opts.encryptionProviderConfig) return EncryptionTransformer.fromFile(opts.encryptionProviderConfig);
  if (opts.dataDir) return EncryptionTransformer.ensureDefault(opts.dataDir);
  log.warn('no --data-dir and no --encryption-provider-config: secrets are stored unencrypted');
  return undefined;
}

async function waitForRedis(redis: RedisStorage): Promise<void> {
  for (let i = 0; ; i++) {
    if (await redis.ping()) return;
    if (i % 10 === 0) log.info('waiting for redis');
    await new Promise((r) => setTimeout(r, 200));
  }
}
