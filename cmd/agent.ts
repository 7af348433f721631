// `podium agent`: the node agent on its own (what `podium up --runtime simulated` runs as a child).
import { logger } from '../apimachinery/log.js';
import { Agent } from '../node-agent/agent.js';
import { ApiClient, connectionFromKubeconfig } from '../node-agent/api.js';
import type { AgentFlags } from './flags.js';
import { watchParent } from './supervisor.js';

const log = logger('agent');

/** Runs until SIGTERM/SIGINT (or the supervising parent's death); resolves with the exit code. */
export async function runAgent(f: AgentFlags): Promise<number> {
  if (f.runtime === 'docker') {
    log.error('the docker runtime is not available yet; use --runtime simulated');
    return 1;
  }
  const api = f.server ? ApiClient.fromBaseUrl(f.server) : new ApiClient(connectionFromKubeconfig(f.kubeconfig!));
  const agent = new Agent({ api, runtime: f.runtime, nodes: f.nodes, nodeNamePrefix: f.nodeNamePrefix, firstNodeIndex: f.firstNodeIndex });

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

  await agent.start();
  log.info('node agent running', { runtime: f.runtime, nodes: f.nodes, prefix: f.nodeNamePrefix });
  const code = await stopped;
  api.close();
  return code;
}
