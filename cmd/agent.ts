// `podium agent`: the node agent on its own (what `podium up --runtime simulated` runs as a child).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../apimachinery/log.js';
import { Agent, simulatedNodeName } from '../node-agent/agent.js';
import { ApiClient, connectionFromKubeconfig, type ApiConnection } from '../node-agent/api.js';
import type { AgentFlags } from './flags.js';
import { watchParent } from './supervisor.js';
import { startMetricsServer } from '../apimachinery/prometheus.js';
import { kubeletRegistry } from '../node-agent/kubelet-metrics.js';

const log = logger('agent');

/** Runs until SIGTERM/SIGINT (or the supervising parent's death); resolves with the exit code. */
export async function runAgent(f: AgentFlags): Promise<number> {
  const conn: ApiConnection = f.server ? { server: f.server } : connectionFromKubeconfig(f.kubeconfig!);
  let nodeClients: Map<string, ApiClient> | undefined;
  try {
    nodeClients = f.nodeCredentialsDir ? nodeIdentityClients(f, conn) : undefined;
  } catch (err) {
    log.error('cannot load node credentials', { dir: f.nodeCredentialsDir, error: (err as Error).message });
    return 1;
  }
  // With per-node identities the shared pod watch runs as the first node (nodes may list and
  // watch every pod); otherwise everything uses the kubeconfig's credentials.
  const api = nodeClients ? [...nodeClients.values()][0] : new ApiClient(conn);
  const clientFor = nodeClients ? (name: string): ApiClient => nodeClients.get(name) ?? api : undefined;
  const serving = f.tlsCertFile && f.tlsKeyFile && f.clientCaFile
    ? { cert: readFileSync(f.tlsCertFile), key: readFileSync(f.tlsKeyFile), clientCa: readFileSync(f.clientCaFile) }
    : undefined;
  if (f.runtime === 'docker' && !serving) log.warn('no --tls-cert-file/--tls-private-key-file/--client-ca-file: logs, exec, attach and port-forward will not reach this node');
  const agent = new Agent({
    api, clientFor, runtime: f.runtime, nodes: f.nodes, nodeNamePrefix: f.nodeNamePrefix, firstNodeIndex: f.firstNodeIndex,
    docker: f.runtime === 'docker'
      ? {
          name: f.nodeName, dataDir: f.dataDir, subnet: f.podSubnet, network: f.podNetwork, serving,
          networking: f.networking ? { connection: conn, serviceCIDR: f.serviceClusterIpRange, clusterDomain: f.clusterDomain, ingressPort: f.ingressPort || undefined } : undefined,
        }
      : undefined,
  });

  let stop: (why: string) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    let closing = false;
    stop = (why) => {
      if (closing) return;
      closing = true;
      log.info('shutting down', { reason: why });
      // Pods keep their last status: like a kubelet restart, the next agent adopts them.
      agent.stop().then(
        () => resolve(0),
        (err: Error) => {
          log.error('error while stopping', { error: err.message });
          resolve(1);
        },
      );
    };
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  watchParent(() => stop('supervising podium process exited'));

  if (f.metricsBindAddress) {
    const { port } = await startMetricsServer(kubeletRegistry, f.metricsBindAddress);
    log.info('serving metrics', { address: f.metricsBindAddress, port });
  }
  await agent.start();
  log.info('node agent running', { runtime: f.runtime, nodes: f.nodes, prefix: f.nodeNamePrefix });
  const code = await stopped;
  if (nodeClients) for (const c of nodeClients.values()) c.close();
  else api.close();
  return code;
}

/**
 * One client per hosted node, each with that node's certificate from `<dir>/<nodeName>.crt` and
 * `.key` (issued by `podium up`) and the kubeconfig's server and CA, in node order.
 */
function nodeIdentityClients(f: AgentFlags, base: ApiConnection): Map<string, ApiClient> {
  const dir = f.nodeCredentialsDir!;
  const clients = new Map<string, ApiClient>();
  for (let i = 0; i < f.nodes; i++) {
    const name = simulatedNodeName(f.nodeNamePrefix, f.firstNodeIndex + i);
    const cert = readFileSync(join(dir, `${name}.crt`));
    const key = readFileSync(join(dir, `${name}.key`));
    // The kubeconfig's own credentials (cert or token) must not ride along: the node is the subject.
    clients.set(name, new ApiClient({ server: base.server, ca: base.ca, insecureSkipTlsVerify: base.insecureSkipTlsVerify, cert, key }));
  }
  return clients;
}
