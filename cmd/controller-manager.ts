// `podium controller-manager`: the controllers, talking to the API server through a kubeconfig.
import { logger } from '../apimachinery/log.js';
import { ApiClient } from '../controllers/framework/client.js';
import { runControllerManager, selectControllers } from '../controllers/manager.js';
import { allControllers } from '../controllers/index.js';
import { setLocalPathDataDir } from '../controllers/local-path-provisioner.js';
import { dirname } from 'node:path';
import type { ControllerManagerFlags } from './flags.js';
import { watchParent } from './supervisor.js';
import { startMetricsServer } from '../apimachinery/prometheus.js';
import { collectProcessMetrics, controllerManagerRegistry } from '../controllers/framework/workqueue-metrics.js';

const log = logger('controller-manager');

export async function runControllerManagerCommand(f: ControllerManagerFlags): Promise<number> {
  const client = ApiClient.fromKubeconfig(f.kubeconfig);
  setLocalPathDataDir(f.dataDir ?? dirname(f.kubeconfig));
  const abort = new AbortController();
  const shutdown = (why: string): void => {
    if (abort.signal.aborted) return;
    log.info('shutting down', { reason: why });
    abort.abort();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  watchParent(() => shutdown('supervising podium process exited'));
  if (f.metricsBindAddress) {
    collectProcessMetrics();
    const { port } = await startMetricsServer(controllerManagerRegistry, f.metricsBindAddress);
    log.info('serving metrics', { address: f.metricsBindAddress, port });
  }
  const controllers = selectControllers(allControllers({ csrSigning: { certFile: f.clusterSigningCertFile, keyFile: f.clusterSigningKeyFile } }), f.controllers);
  log.info('starting', { kubeconfig: f.kubeconfig, leaderElect: f.leaderElect, controllers: controllers.map((c) => c.name) });
  const ok = await runControllerManager({ client, leaderElect: f.leaderElect, controllers }, abort.signal);
  // Like kube-controller-manager, a lost lease is fatal: the supervisor restarts us as a candidate.
  return ok ? 0 : 1;
}
