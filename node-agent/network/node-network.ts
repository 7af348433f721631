// A Docker node's networking, started once its pod bridge exists: the informer caches every part
// reads, the service proxy (kube-proxy), the cluster DNS server, NetworkPolicy enforcement, the
// ingress controller, and a relay that lets pods reach the API server through the
// default/kubernetes Service when the API server listens on loopback only.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Namespace, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { logger } from '../../apimachinery/log.js';
import { ApiClient } from '../../controllers/framework/client.js';
import { Informer } from '../../controllers/framework/informer.js';
import type { ApiConnection } from '../api.js';
import { ClusterDnsServer } from '../dns/server.js';
import { IngressController } from '../ingress/ingress-controller.js';
import { NetworkPolicyEnforcer } from '../network-policy/network-policy.js';
import { ServiceProxy } from '../proxy/service-proxy.js';
import type { ClusterState, NodeNetworkConfig, ObjectStore } from './types.js';

const log = logger('node-network');

export interface NodeNetworkOptions {
  /** The node's API credentials (the same as its pod and status traffic). */
  connection: ApiConnection;
  config: NodeNetworkConfig;
  /** The ingress controller's HTTP port on every host address; undefined = no ingress controller. */
  ingressPort?: number;
}

export interface NodeNetwork {
  stop(): Promise<void>;
}

/** Secrets are not read by the node's networking (no TLS Ingress), so their store stays empty. */
const noSecrets: ObjectStore<Secret> = { list: () => [], get: () => undefined, on: () => undefined };

export async function startNodeNetwork(o: NodeNetworkOptions): Promise<NodeNetwork> {
  const conn = o.connection;
  const client = new ApiClient(conn.server, { ca: toBuffer(conn.ca), cert: toBuffer(conn.cert), key: toBuffer(conn.key), token: conn.token, rejectUnauthorized: !conn.insecureSkipTlsVerify });
  const informers = {
    services: new Informer<Service>(client, '/api/v1/services'),
    endpointSlices: new Informer<EndpointSlice>(client, '/apis/discovery.k8s.io/v1/endpointslices'),
    pods: new Informer<Pod>(client, '/api/v1/pods'),
    namespaces: new Informer<Namespace>(client, '/api/v1/namespaces'),
    networkPolicies: new Informer<NetworkPolicy>(client, '/apis/networking.k8s.io/v1/networkpolicies'),
    ingresses: new Informer<Ingress>(client, '/apis/networking.k8s.io/v1/ingresses'),
    ingressClasses: new Informer<IngressClass>(client, '/apis/networking.k8s.io/v1/ingressclasses'),
  };
  const state: ClusterState = { ...informers, secrets: noSecrets };
  const abort = new AbortController();
  // Every part starts from a full cache: a proxy syncing from an empty one would drop the rules
  // a restarted agent's pods are using.
  await Promise.all(Object.values(informers).map((i) => i.start(abort.signal)));

  // A part that cannot start (no iptables, port 53 or the ingress port taken) is logged and left
  // out: the node still runs its pods.
  const started = async <T extends { stop(): unknown }>(part: string, make: () => T, start: (p: T) => Promise<unknown>): Promise<T | undefined> => {
    const p = make();
    try {
      await start(p);
      return p;
    } catch (err) {
      log.error(`${part} not started`, { error: (err as Error).message });
      return undefined;
    }
  };
  const proxy = await started('service proxy', () => new ServiceProxy(state, o.config), (p) => p.start());
  const policy = await started('network policy', () => new NetworkPolicyEnforcer(state, o.config), (p) => p.start());
  const dns = await started('cluster DNS', () => new ClusterDnsServer(state, { address: o.config.nodeIP, port: 53, clusterDomain: o.config.clusterDomain }), (p) => p.start());
  const ingressPort = o.ingressPort;
  const ingress = ingressPort === undefined
    ? undefined
    : await started(`ingress controller on port ${ingressPort}`, () => new IngressController(client, state, { port: ingressPort, statusAddress: o.config.nodeIP }), (p) => p.start());
  const relay = await startApiRelay(conn.server, o.config.nodeIP);
  log.info('node networking running', { nodeIP: o.config.nodeIP, bridge: o.config.bridge, ingressPort: ingress ? o.ingressPort : undefined });
  return {
    async stop() {
      abort.abort();
      // Rules stay in place, so pods keep their Services while the agent restarts.
      policy?.stop();
      await proxy?.stop();
      await dns?.stop();
      await ingress?.stop();
      relay?.close();
    },
  };
}

/**
 * Listens on nodeIP at the API server's port and pipes to the API server: the default/kubernetes
 * endpoints point there (podium up passes --advertise-address). Only needed, and only started,
 * when the API server is on a loopback address pods cannot reach.
 */
async function startApiRelay(serverUrl: string, nodeIP: string): Promise<Server | undefined> {
  const url = new URL(serverUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') return undefined;
  const port = Number(url.port || 443);
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect(port, host);
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream).pipe(downstream);
  });
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, nodeIP, () => resolve());
  }).catch((err: Error) => {
    log.error('API relay for pods not started', { address: `${nodeIP}:${port}`, error: err.message });
  });
  return server.listening ? server : undefined;
}

function toBuffer(b: string | Buffer | undefined): Buffer | undefined {
  return b === undefined ? undefined : Buffer.isBuffer(b) ? b : Buffer.from(b);
}
