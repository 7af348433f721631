// `podium scheduler`: the scheduler on its own (what `podium up` runs as a child).
import { logger } from '../apimachinery/log.js';
import { ApiClient } from '../controllers/framework/client.js';
import { Scheduler } from '../controllers/scheduler/scheduler.js';
import type { SchedulerFlags } from './flags.js';
import { watchParent } from './supervisor.js';

const log = logger('scheduler');
const STOP_TIMEOUT_MS = 10_000;

/** Runs until SIGTERM/SIGINT (or the supervising parent's death); resolves with the exit code. */
export async function runScheduler(f: SchedulerFlags): Promise<number> {
  const client = ApiClient.fromKubeconfig(f.kubeconfig);
  const scheduler = new Scheduler(client);
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { reason: why });
      const timer = setTimeout(() => resolve(1), STOP_TIMEOUT_MS);
      timer.unref();
      scheduler.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
    watchParent(() => shutdown('supervising podium process exited'));
  });
  log.info('starting scheduler', { kubeconfig: f.kubeconfig });
  // Start lists and watches in the background: a signal during the initial list must still stop us.
  scheduler.start().catch((e: Error) => log.error('scheduler failed to start', { error: e.message }));
  return stopped;
}
