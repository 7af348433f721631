// What every controller gets from the manager, and the worker loop they share.
import type { Logger } from '../../apimachinery/log.js';
import { isConflict, type ApiClient } from './client.js';
import type { EventRecorder } from './events.js';
import type { InformerFactory } from './informers.js';
import type { WorkQueue } from './workqueue.js';
import { currentControllerName } from './run.js';
import { uniqueQueueName } from './workqueue-metrics.js';

export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  recorder: (component: string) => EventRecorder;
  log: Logger;
  signal: AbortSignal;
}

export interface Controller {
  /** Upstream's controller name, e.g. "replicaset", "deployment", "garbage-collector". */
  name: string;
  /** Runs until ctx.signal aborts. */
  run(ctx: ControllerContext, workers: number): Promise<void>;
}

/**
 * Runs `workers` loops over the queue until the signal aborts. A failed key is retried
 * with per-key backoff; a key that succeeded has its backoff forgotten.
 */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  reconcile: (key: string) => Promise<void>,
  signal: AbortSignal,
  log?: Logger,
): Promise<void> {
  // A queue its controller did not name is reported under the controller's name.
  if (!queue.metrics.named) queue.metrics.setName(uniqueQueueName(currentControllerName() ?? 'unnamed'));
  const onAbort = (): void => queue.shutDown();
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (e) {
        if (!signal.aborted) {
          // A conflict only means our cache was behind: routine, retried at once.
          const fields = { key, error: (e as Error).message, retries: queue.numRequeues(key) };
          if (isConflict(e)) log?.v(2, 'sync conflicted, requeuing', fields);
          else log?.warn('sync failed, requeuing', fields);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
}
