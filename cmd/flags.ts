// Flag parsing for the podium subcommands: node:util parseArgs plus validation
// into typed options. Spellings follow the upstream components (kube-apiserver's
// --tls-cert-file, klog's --v) so upstream muscle memory and docs carry over.
import { isIPv4 } from 'node:net';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseHostPort } from '../apimachinery/prometheus.js';

/** A bad command line: podium.ts prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export type Runtime = 'docker' | 'simulated' | 'none';
export type AppendFsync = 'everysec' | 'always' | 'no';

export interface UpFlags {
  dataDir: string;
  port: number;
  redisUrl?: string;
  redisAppendfsync: AppendFsync;
  runtime: Runtime;
  nodes: number;
  ingressPort?: number;
  auditLogPath?: string;
  tokenAuthFile?: string;
  eventTtl?: string;
  verbosity: number;
}

export interface ApiServerFlags {
  port: number;
  bindAddress: string;
  /** The address pods reach this API server at: the default/kubernetes endpoints. */
  advertiseAddress?: string;
  /** An IngressClass (of the node agents' ingress controller) created at start as the cluster default. */
  defaultIngressClass?: string;
  redisUrl: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  clientCaFile?: string;
  dataDir?: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  eventWindow: number;
  /** upstream's --event-ttl: how long an Event lives after its last write. */
  eventTtlMs: number;
  /** Authorizers in order, as upstream's --authorization-mode (AlwaysAllow, Node, RBAC). */
  authorizationModes: AuthorizationMode[];
  anonymousAuth: boolean;
  tokenAuthFile?: string;
  serviceAccountIssuer: string;
  auditLogPath?: string;
  encryptionProviderConfig?: string;
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  /** The watch-cache consistency checker's period in ms; 0 turns it off (the default). */
  watchCacheConsistencyCheckIntervalMs: number;
  /** What a divergence does besides the error log: nothing more, or exit non-zero (what tests run with). */
  watchCacheConsistencyCheckAction: 'log' | 'exit';
  verbosity: number;
}

export type AuthorizationMode = 'AlwaysAllow' | 'Node' | 'RBAC';

export interface ControllerManagerFlags {
  kubeconfig: string;
  /** Where the local-path provisioner puts volumes (<dir>/volumes); default: the kubeconfig's directory. */
  dataDir?: string;
  leaderElect: boolean;
  /** upstream's --controllers list ("*", "name", "-name"). */
  controllers: string[];
  /** upstream's --cluster-signing-cert-file/--cluster-signing-key-file: the CA the csrsigning controller signs with. */
  clusterSigningCertFile?: string;
  clusterSigningKeyFile?: string;
  /**
   * host:port of a plain-HTTP listener for /metrics (the work queues' workqueue_* series and
   * process metrics); none when not given. Upstream serves them on its authenticated secure
   * port (10257); Podium's controller manager has no HTTPS endpoint, so this one is meant for
   * loopback.
   */
  metricsBindAddress?: string;
  verbosity: number;
}

export interface AgentFlags {
  kubeconfig?: string;
  /** A plain base URL instead of a kubeconfig (tests over loopback HTTP). */
  server?: string;
  runtime: 'simulated' | 'docker';
  nodes: number;
  nodeNamePrefix: string;
  firstNodeIndex: number;
  /** The docker runtime's node name (default: the host name) and where its pods' files go. */
  nodeName: string;
  dataDir: string;
  podSubnet: string;
  /** The Docker bridge network pods join (default `podium`); distinct per agent sharing one Docker daemon with different subnets. */
  podNetwork?: string;
  /** The agent endpoint's serving certificate and the CA of its only client, the API server (kubelet's flag names). */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  clientCaFile?: string;
  /**
   * A directory of <nodeName>.crt/<nodeName>.key client certificates (CN system:node:<name>,
   * O system:nodes): each node then talks to the server as itself, over the --kubeconfig's
   * server and CA. Without it every node uses the kubeconfig's credentials.
   */
  nodeCredentialsDir?: string;
  /**
   * The docker runtime's node networking (service proxy, cluster DNS, NetworkPolicy, ingress
   * controller); on by default, as kube-proxy and CoreDNS are on a real cluster.
   */
  networking: boolean;
  serviceClusterIpRange: string;
  clusterDomain: string;
  /** The ingress controller's HTTP port; 0 runs none. */
  /**
   * host:port of a plain-HTTP listener for the kubelet series (/metrics), as kube-proxy's flag
   * of that name: the way to read them from simulated nodes, which serve no HTTPS endpoint.
   * With the docker runtime the same series are also on its HTTPS endpoint (nodes/NODE/proxy/metrics).
   */
  metricsBindAddress?: string;
  ingressPort: number;
  verbosity: number;
}

type Options = NonNullable<ParseArgsConfig['options']>;
const str = { type: 'string' } as const;

function parse(args: string[], options: Options): Record<string, string | undefined> {
  try {
    // klog spells verbosity -v=N as well as --v=N; parseArgs would read "-v=3" as -v with value "=3".
    const normalized = args.map((a) => (a.startsWith('-v=') ? `-${a}` : a));
    const { values } = parseArgs({ args: normalized, options: { ...options, v: str }, strict: true, allowPositionals: false });
    return values as Record<string, string | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function intFlag(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name}: want an integer in [${min}, ${max}], got "${value}"`);
  return n;
}

function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new UsageError(`--${name}: want one of ${choices.join('|')}, got "${value}"`);
  return value as T;
}

function ipv4Flag(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && !isIPv4(value)) throw new UsageError(`--${name}: want an IPv4 address, got "${value}"`);
  return value;
}

function hostPortFlag(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseHostPort(value);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
  return value;
}

function cidrFlag(name: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  const [ip, bits, extra] = v.split('/');
  const n = Number(bits);
  if (extra !== undefined || !ip || !isIPv4(ip) || !/^\d+$/.test(bits ?? '') || n < 8 || n > 30) {
    throw new UsageError(`--${name}: want an IPv4 CIDR such as 10.96.0.0/16, got "${v}"`);
  }
  return v;
}

function portRangeFlag(name: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  const m = /^(\d+)-(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) {
    throw new UsageError(`--${name}: want a port range such as 30000-32767, got "${v}"`);
  }
  return v;
}

export function parseUpFlags(args: string[]): UpFlags {
  const f = parse(args, {
    'data-dir': str,
    port: str,
    'redis-url': str,
    'redis-appendfsync': str,
    runtime: str,
    nodes: str,
    'ingress-port': str,
    'audit-log-path': str,
    'token-auth-file': str,
    'event-ttl': str,
  });
  return {
    // Same default as the .gitignore'd ".podium*/" so a casual `podium up` in a checkout stays untracked.
    dataDir: resolve(f['data-dir'] ?? '.podium'),
    port: intFlag('port', f.port, 6443, 1, 65535),
    redisUrl: f['redis-url'],
    redisAppendfsync: choiceFlag('redis-appendfsync', f['redis-appendfsync'], ['everysec', 'always', 'no'] as const, 'everysec'),
    // docker when a Docker daemon socket is there, as the issue asks; simulated otherwise.
    runtime: choiceFlag('runtime', f.runtime, ['docker', 'simulated', 'none'] as const, existsSync(dockerSocket()) ? 'docker' : 'simulated'),
    nodes: intFlag('nodes', f.nodes, 1, 1, 10000),
    ingressPort: f['ingress-port'] === undefined ? undefined : intFlag('ingress-port', f['ingress-port'], 0, 1, 65535),
    auditLogPath: f['audit-log-path'] === undefined || f['audit-log-path'] === '-' ? f['audit-log-path'] : resolve(f['audit-log-path']),
    tokenAuthFile: f['token-auth-file'] === undefined ? undefined : resolve(f['token-auth-file']),
    // Validated here, passed on as written: the API server parses it again.
    eventTtl: f['event-ttl'] === undefined ? undefined : (durationFlag('event-ttl', f['event-ttl'], 0), f['event-ttl']),
    verbosity: intFlag('v', f.v, 0, 0, 10),
  };
}

export function parseApiServerFlags(args: string[]): ApiServerFlags {
  const f = parse(args, {
    'redis-url': str,
    port: str,
    'bind-address': str,
    'advertise-address': str,
    'default-ingress-class': str,
    'tls-cert-file': str,
    'tls-private-key-file': str,
    'client-ca-file': str,
    'data-dir': str,
    'service-cluster-ip-range': str,
    'service-node-port-range': str,
    'event-window': str,
    'event-ttl': str,
    'authorization-mode': str,
    'anonymous-auth': str,
    'token-auth-file': str,
    'service-account-issuer': str,
    'audit-log-path': str,
    'encryption-provider-config': str,
    'kubelet-client-certificate': str,
    'kubelet-client-key': str,
    'kubelet-certificate-authority': str,
    'watch-cache-consistency-check-interval': str,
    'watch-cache-consistency-check-action': str,
  });
  const redisUrl = f['redis-url'];
  // Upstream's KUBE_WATCHCACHE_CONSISTENCY_CHECKER turns its checker on (and panics on a divergence).
  const checkerEnv = ['true', '1'].includes(process.env.KUBE_WATCHCACHE_CONSISTENCY_CHECKER ?? '');
  if (!redisUrl) throw new UsageError('--redis-url is required (podium up starts a Redis for you)');
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));
  return {
    redisUrl,
    port: intFlag('port', f.port, 6443, 0, 65535),
    bindAddress: f['bind-address'] ?? '127.0.0.1',
    advertiseAddress: ipv4Flag('advertise-address', f['advertise-address']),
    defaultIngressClass: f['default-ingress-class'],
    tlsCertFile: abs(f['tls-cert-file']),
    tlsKeyFile: abs(f['tls-private-key-file']),
    clientCaFile: abs(f['client-ca-file']),
    dataDir: abs(f['data-dir']),
    serviceClusterIpRange: cidrFlag('service-cluster-ip-range', f['service-cluster-ip-range'], '10.96.0.0/16'),
    serviceNodePortRange: portRangeFlag('service-node-port-range', f['service-node-port-range'], '30000-32767'),
    eventWindow: intFlag('event-window', f['event-window'], 10000, 1),
    eventTtlMs: durationFlag('event-ttl', f['event-ttl'], 3_600_000),
    authorizationModes: authorizationModesFlag(f['authorization-mode']),
    // Upstream defaults to true (anonymous requests then meet RBAC as system:anonymous); Podium
    // answers them 401 unless asked, and always serves the health and version endpoints.
    anonymousAuth: choiceFlag('anonymous-auth', f['anonymous-auth'], ['true', 'false'] as const, 'false') === 'true',
    tokenAuthFile: abs(f['token-auth-file']),
    serviceAccountIssuer: f['service-account-issuer'] ?? 'https://kubernetes.default.svc.cluster.local',
    auditLogPath: f['audit-log-path'] === '-' ? '-' : abs(f['audit-log-path']),
    encryptionProviderConfig: abs(f['encryption-provider-config']),
    kubeletClientCertificate: abs(f['kubelet-client-certificate']),
    kubeletClientKey: abs(f['kubelet-client-key']),
    kubeletCertificateAuthority: abs(f['kubelet-certificate-authority']),
    watchCacheConsistencyCheckIntervalMs: durationFlag('watch-cache-consistency-check-interval', f['watch-cache-consistency-check-interval'], checkerEnv ? 5000 : 0),
    watchCacheConsistencyCheckAction: choiceFlag('watch-cache-consistency-check-action', f['watch-cache-consistency-check-action'], ['log', 'exit'] as const, checkerEnv ? 'exit' : 'log'),
    verbosity: intFlag('v', f.v, 0, 0, 10),
  };
}

/** A Go-style duration as upstream's flags take it ("5s", "500ms", "1m", "0"), in milliseconds. */
function durationFlag(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!m || (m[2] === undefined && m[1] !== '0')) throw new UsageError(`--${name}: want a duration such as 5s or 500ms, got "${value}"`);
  return Math.round(Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1));
}

function authorizationModesFlag(value: string | undefined): AuthorizationMode[] {
  const modes = (value ?? 'Node,RBAC').split(',').map((m) => m.trim());
  const known: AuthorizationMode[] = ['AlwaysAllow', 'Node', 'RBAC'];
  for (const m of modes) {
    if (!(known as string[]).includes(m)) throw new UsageError(`--authorization-mode: want a comma-separated list of ${known.join(', ')}, got "${value}"`);
  }
  if (new Set(modes).size !== modes.length) throw new UsageError(`--authorization-mode: "${value}" names a mode twice`);
  return modes as AuthorizationMode[];
}

/** Where dockerd listens: DOCKER_HOST's unix socket, or the default one. */
function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/** The host name as a node name (upstream lower-cases it; the first label if it is not a DNS-1123 subdomain). */
export function defaultNodeName(): string {
  const host = hostname().toLowerCase();
  return /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host) ? host : 'podium-node';
}

export function parseAgentFlags(args: string[]): AgentFlags {
  const f = parse(args, {
    kubeconfig: str,
    server: str,
    runtime: str,
    nodes: str,
    'node-name-prefix': str,
    'first-node-index': str,
    'node-name': str,
    'data-dir': str,
    'pod-subnet': str,
    'pod-network': str,
    'tls-cert-file': str,
    'tls-private-key-file': str,
    'client-ca-file': str,
    'node-credentials-dir': str,
    networking: str,
    'service-cluster-ip-range': str,
    'cluster-domain': str,
    'ingress-port': str,
    'metrics-bind-address': str,
  });
  const kubeconfig = f.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig && !f.server) throw new UsageError('--kubeconfig (or KUBECONFIG) or --server is required');
  const prefix = f['node-name-prefix'] ?? 'sim-';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9-])?$/.test(prefix)) throw new UsageError(`--node-name-prefix: want the start of a DNS-1123 name, got "${prefix}"`);
  return {
    kubeconfig: f.server ? undefined : resolve(kubeconfig!),
    server: f.server,
    runtime: choiceFlag('runtime', f.runtime, ['simulated', 'docker'] as const, 'simulated'),
    nodes: intFlag('nodes', f.nodes, 1, 1, 10000),
    nodeNamePrefix: prefix,
    firstNodeIndex: intFlag('first-node-index', f['first-node-index'], 0, 0, 100000),
    nodeName: f['node-name'] ?? defaultNodeName(),
    dataDir: resolve(f['data-dir'] ?? '.podium/agent'),
    podSubnet: cidrFlag('pod-subnet', f['pod-subnet'], '10.244.0.0/16'),
    podNetwork: f['pod-network'],
    tlsCertFile: f['tls-cert-file'] === undefined ? undefined : resolve(f['tls-cert-file']),
    tlsKeyFile: f['tls-private-key-file'] === undefined ? undefined : resolve(f['tls-private-key-file']),
    clientCaFile: f['client-ca-file'] === undefined ? undefined : resolve(f['client-ca-file']),
    nodeCredentialsDir: f['node-credentials-dir'] ? resolve(f['node-credentials-dir']) : undefined,
    networking: choiceFlag('networking', f.networking, ['true', 'false'] as const, 'true') === 'true',
    serviceClusterIpRange: cidrFlag('service-cluster-ip-range', f['service-cluster-ip-range'], '10.96.0.0/16'),
    clusterDomain: f['cluster-domain'] ?? 'cluster.local',
    ingressPort: intFlag('ingress-port', f['ingress-port'], 80, 0, 65535),
    metricsBindAddress: hostPortFlag('metrics-bind-address', f['metrics-bind-address']),
    verbosity: intFlag('v', f.v, 0, 0, 10),
  };
}

export interface KubeconfigFlags {
  user: string;
  groups: string[];
  dataDir: string;
  server?: string;
  out?: string;
}

export function parseKubeconfigFlags(args: string[]): KubeconfigFlags {
  let values: { user?: string; group?: string[]; 'data-dir'?: string; server?: string; out?: string };
  try {
    values = parseArgs({ args, options: { user: str, group: { type: 'string', multiple: true }, 'data-dir': str, server: str, out: str }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!values.user) throw new UsageError('--user is required');
  return {
    user: values.user,
    groups: values.group ?? [],
    dataDir: resolve(values['data-dir'] ?? '.podium'),
    server: values.server,
    out: values.out === undefined ? undefined : resolve(values.out),
  };
}

export function parseVersionFlags(args: string[]): { verbosity: number } {
  const f = parse(args, {});
  return { verbosity: intFlag('v', f.v, 0, 0, 10) };
}

export function parseControllerManagerFlags(args: string[]): ControllerManagerFlags {
  const f = parse(args, { kubeconfig: str, 'leader-elect': str, 'data-dir': str, controllers: str, 'cluster-signing-cert-file': str, 'cluster-signing-key-file': str, 'metrics-bind-address': str });
  if (!f.kubeconfig) throw new UsageError('--kubeconfig is required');
  return {
    kubeconfig: resolve(f.kubeconfig),
    dataDir: f['data-dir'] ? resolve(f['data-dir']) : undefined,
    leaderElect: choiceFlag('leader-elect', f['leader-elect'], ['true', 'false'] as const, 'true') === 'true',
    controllers: (f.controllers ?? '*').split(',').map((c) => c.trim()).filter(Boolean),
    clusterSigningCertFile: f['cluster-signing-cert-file'] ? resolve(f['cluster-signing-cert-file']) : undefined,
    clusterSigningKeyFile: f['cluster-signing-key-file'] ? resolve(f['cluster-signing-key-file']) : undefined,
    metricsBindAddress: hostPortFlag('metrics-bind-address', f['metrics-bind-address']),
    verbosity: intFlag('v', f.v, 0, 0, 10),
  };
}

export interface SchedulerFlags {
  kubeconfig: string;
  verbosity: number;
}

export function parseSchedulerFlags(args: string[]): SchedulerFlags {
  const f = parse(args, { kubeconfig: str });
  if (!f.kubeconfig) throw new UsageError('--kubeconfig is required');
  return { kubeconfig: resolve(f.kubeconfig), verbosity: intFlag('v', f.v, 0, 0, 10) };
}
