// One node backed by the local Docker daemon: the pod bridge network (whose gateway is the
// node's InternalIP and the address of the agent's endpoint), the Docker runtime with the
// pod sources it mounts, the host's capacity, and the kubelet-style endpoint the API server
// proxies logs, exec, attach and port-forward to.
import { readFile, statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import Docker from 'dockerode';
import { logger } from '../apimachinery/log.js';
import type { ApiClient, ApiConnection } from './api.js';
import { startNodeNetwork, type NodeNetwork } from './network/node-network.js';
import { enableHairpin } from './proxy/service-proxy.js';
import { AgentServer } from './server.js';
import { NodeHeartbeat, type HeartbeatOptions } from './lease.js';
import { registerNode } from './node-registration.js';
import { PodSourceResolver } from './pod-sources.js';
import { KubeletEventRecorder } from './events.js';
import { PodWorkers } from './pod-workers.js';
import { ResourceMetricsCollector } from './metrics-collector.js';
import { ProberManager } from './prober/manager.js';
import { DockerRuntime } from './runtime/docker.js';
import { ensurePodNetwork } from './runtime/docker/network.js';
import type { BackoffPolicy } from './runtime/pod-actions.js';
import type { StatusManager } from './status-manager.js';

const log = logger('docker-node');

/** Config maps, secrets and tokens mounted in pods follow updates within this (upstream: about a minute). */
const RESYNC_MS = 30_000;

export interface DockerNodeOptions {
  name: string;
  /** Pod volumes and hosts files go under DATA/pods/<uid>. */
  dataDir: string;
  /** The pod network's subnet: the node's podCIDR. */
  subnet: string;
  network?: string;
  /** The node's own client (system:node:<name>). */
  api: ApiClient;
  status: StatusManager;
  /** The endpoint's serving certificate and the CA the API server's client certificate comes from. */
  serving?: { cert: Buffer; key: Buffer; clientCa: Buffer };
  heartbeat?: HeartbeatOptions;
  backoff?: BackoffPolicy;
  /**
   * The node's networking (service proxy, cluster DNS, NetworkPolicy, ingress), with the node's
   * credentials for its caches; off when undefined.
   */
  networking?: { connection: ApiConnection; serviceCIDR: string; clusterDomain: string; ingressPort?: number };
}

export interface DockerNode {
  name: string;
  runtime: DockerRuntime;
  workers: PodWorkers;
  heartbeat: NodeHeartbeat;
  server?: AgentServer;
  metrics: ResourceMetricsCollector;
  network?: NodeNetwork;
}

export async function startDockerNode(o: DockerNodeOptions): Promise<DockerNode> {
  const network = o.network ?? 'podium';
  const docker = new Docker();
  await ensurePodNetwork(docker, { name: network, subnet: o.subnet });
  const info = await docker.getNetwork(network).inspect() as { Id?: string; Options?: Record<string, string>; IPAM?: { Config?: { Gateway?: string; Subnet?: string }[] } };
  const podCIDR = info.IPAM?.Config?.[0]?.Subnet ?? o.subnet;
  // Docker leaves Gateway out of IPAM when a subnet was given without one; it then takes the first address.
  const gateway = info.IPAM?.Config?.[0]?.Gateway ?? firstHost(podCIDR);
  const bridge = bridgeName(info);
  const net = o.networking;

  const sources = new PodSourceResolver(o.api);
  // Kubelet events (Pulled, Created, Started, Killing, BackOff, Unhealthy…) written as this node.
  const recorder = new KubeletEventRecorder(o.api, o.name);
  const runtime = await DockerRuntime.create({
    dataDir: o.dataDir,
    nodeName: o.name,
    docker,
    network,
    subnet: o.subnet,
    hostIP: gateway,
    backoff: o.backoff,
    envResolver: (pod) => sources.env(pod),
    onEvent: (e) => recorder.runtimeEvent(e),
    // The cluster DNS server listens on the node's bridge address, which every pod can reach.
    clusterDNS: net ? { servers: [gateway], hostResolvConf: await readFile('/etc/resolv.conf', 'utf8').catch(() => '') } : undefined,
    onSandboxStarted: net ? async () => void (await enableHairpin(bridge)) : undefined,
  });
  // Probes need exec into and a route to pod IPs: the Docker node has both.
  const prober = new ProberManager({ runtime, events: recorder });
  const workers = new PodWorkers({ nodeName: o.name, hostIP: gateway, api: o.api, runtime, status: o.status, sources, resyncMs: RESYNC_MS, prober });

  const metrics = new ResourceMetricsCollector(runtime, (uid) => workers.byUid(uid));
  let server: AgentServer | undefined;
  let agentPort = 0;
  if (o.serving) {
    server = new AgentServer({ ...o.serving, bindAddress: gateway, port: 0, pod: (ns, name) => workers.find(ns, name), runtimeFor: () => runtime, metrics: () => metrics.latest() });
    agentPort = await server.start();
  }
  const node = await registerNode(o.api, {
    name: o.name,
    internalIP: gateway,
    podCIDR,
    capacity: await hostCapacity(o.dataDir),
    runtimeName: runtime.name,
    runtimeVersion: runtime.version,
    osImage: await osImage(),
    agentPort,
    images: await nodeImages(docker),
  });
  const heartbeat = new NodeHeartbeat(o.api, node, o.heartbeat);
  await heartbeat.start();
  const nodeNetwork = net
    ? await startNodeNetwork({ connection: net.connection, ingressPort: net.ingressPort, config: { nodeName: o.name, nodeIP: gateway, podCIDR, bridge, serviceCIDR: net.serviceCIDR, clusterDomain: net.clusterDomain } })
    : undefined;
  log.info('docker node registered', { node: o.name, internalIP: gateway, podCIDR, agentPort, docker: runtime.version });
  return { name: o.name, runtime, workers, heartbeat, server, metrics, network: nodeNetwork };
}

/** The Linux bridge behind a Docker bridge network: its configured name, else br-<first 12 of the id>. */
function bridgeName(info: { Id?: string; Options?: Record<string, string> }): string {
  return info.Options?.['com.docker.network.bridge.name'] ?? `br-${(info.Id ?? '').slice(0, 12)}`;
}

/** The first host address of an IPv4 CIDR (10.244.0.0/16 -> 10.244.0.1). */
function firstHost(cidr: string): string {
  const [ip] = cidr.split('/');
  const n = ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** What the host has: every CPU, all memory (in Ki, as upstream reports it), the data dir's file system. */
async function hostCapacity(dataDir: string): Promise<{ cpu: string; memory: string; pods: string; ephemeralStorage: string }> {
  const fs = await statfs(dataDir);
  return {
    cpu: String(cpus().length),
    memory: `${Math.floor(totalmem() / 1024)}Ki`,
    pods: '110',
    ephemeralStorage: `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`,
  };
}

/** status.images: every local image by its tags and digests, largest first (upstream caps the list at 50). */
async function nodeImages(docker: Docker): Promise<{ names: string[]; sizeBytes: number }[]> {
  const images = await docker.listImages().catch(() => []);
  return images
    .map((i) => ({ names: [...(i.RepoDigests ?? []), ...(i.RepoTags ?? [])].filter((n) => n !== '<none>:<none>' && n !== '<none>@<none>'), sizeBytes: i.Size }))
    .filter((i) => i.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, 50);
}

async function osImage(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
}
