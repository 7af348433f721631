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
import { csrRequester } from './admission/csr-requester.js';
import { csrSubjectRestriction } from './admission/csr-subject-restriction.js';
import { createRouter } from './http/router.js';
import { NodeProxy } from './http/node-proxy.js';
import { bootstrap } from './bootstrap.js';
import { logger } from '../apimachinery/log.js';
import { authenticationResources } from './registry/authentication.js';
import { authorizationResources } from './registry/authorization.js';
import { rbacResources } from './registry/rbac.js';
import { metricsResources } from './registry/metrics.js';
import { reconcileBootstrapPolicy } from './auth/rbac/bootstrap-reconcile.js';
import { createSecurity, type SecurityOptions } from './auth/security.js';
import { EncryptionTransformer } from './storage/encryption.js';
import { EventTtl } from './registry/event-ttl.js';
import { ConsistencyChecker, type DivergenceAction } from './storage/consistency-checker.js';

export interface ApiServerOptions extends SecurityOptions {
  port: number;
  /** How the API server reaches node agents (upstream's --kubelet-client-certificate/-key, --kubelet-certificate-authority). */
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  encryptionProviderConfig?: string;
  bindAddress: string;
  /** Written as the default/kubernetes endpoints, so pods reach this server. */
  advertiseAddress?: string;
  defaultIngressClass?: string;
  redisUrl: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  clientCaFile?: string;
  dataDir?: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  eventWindow: number;
  /** How long an Event lives after its last write (upstream's --event-ttl). */
  eventTtlMs: number;
  /** The watch-cache consistency checker's period in ms (0: off). */
  watchCacheConsistencyCheckIntervalMs?: number;
  watchCacheConsistencyCheckAction?: DivergenceAction;
}

const log = logger('apiserver');

export async function startApiServer(opts: ApiServerOptions): Promise<{ port: number; close(): Promise<void>; checkConsistency?: () => Promise<unknown> }> {
  const encryption = await encryptionAtRest(opts);
  const redis = new RedisStorage(opts.redisUrl, opts.eventWindow, encryption);
  const registry = new Registry([...coreResources, ...groupResources, ...authenticationResources, ...authorizationResources, ...rbacResources, ...metricsResources]);
  const cacher = new Cacher(redis, registry.storageTypes(), opts.eventWindow);
  const services = serviceAllocation(redis.client, opts.serviceClusterIpRange, opts.serviceNodePortRange);
  const security = createSecurity(opts, registry, cacher);
  const admission = [namespaceLifecycle, serviceAccountAdmission, services, csrRequester, csrSubjectRestriction, ...security.admission];
  for (const def of registry.definitions) registry.stores.set(def, new Store(def, redis, cacher, admission, registry));

  await waitForRedis(redis);
  await cacher.start();
  await bootstrap(registry, { kubernetesServiceIP: services.kubernetesServiceIP, apiPort: opts.port, advertiseAddress: opts.advertiseAddress, defaultIngressClass: opts.defaultIngressClass });
  await reconcileBootstrapPolicy(registry);
  const checker = opts.watchCacheConsistencyCheckIntervalMs ? new ConsistencyChecker(cacher, opts.watchCacheConsistencyCheckIntervalMs, opts.watchCacheConsistencyCheckAction ?? 'log') : undefined;
  checker?.start();
  const eventTtl = new EventTtl(cacher, redis, opts.eventTtlMs);
  eventTtl.start();

  const sockets = new Set<Socket>();
  let server: http.Server;
  const nodes = new NodeProxy(registry, {
    cert: opts.kubeletClientCertificate ? readFileSync(opts.kubeletClientCertificate) : undefined,
    key: opts.kubeletClientKey ? readFileSync(opts.kubeletClientKey) : undefined,
    ca: opts.kubeletCertificateAuthority ? readFileSync(opts.kubeletCertificateAuthority) : undefined,
  });
  const router = createRouter({ registry, redis, cacher, security: security.request, nodes, serverAddress: () => `${opts.bindAddress}:${(server.address() as AddressInfo).port}` });
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
  server.on('upgrade', router.upgrade);
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
    checkConsistency: checker && (() => checker.check()),
    async close() {
      checker?.stop();
      await eventTtl.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await cacher.stop();
      await redis.close();
      await security.close();
    },
  };
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
