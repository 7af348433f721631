// Running a set of controllers over one shared informer factory, with or without the
// manager's leader election around it (tests run them directly).
import { AsyncLocalStorage } from 'node:async_hooks';
import { setMaxListeners } from 'node:events';
import { logger, type Logger } from '../../apimachinery/log.js';
import type { ApiClient } from './client.js';
import type { Controller, ControllerContext } from './controller.js';
import { EventRecorder } from './events.js';
import { InformerFactory } from './informers.js';

const runningController = new AsyncLocalStorage<string>();

/** The name of the controller whose run() the caller is in (names its work queues' metrics). */
export function currentControllerName(): string | undefined {
  return runningController.getStore();
}

/** Starts all controllers under the signal; resolves when they have all returned. */
export async function runControllers(client: ApiClient, controllers: Controller[], workers: number, signal: AbortSignal, log: Logger): Promise<void> {
  // Every informer and worker pool listens on the one signal; dozens is expected, not a leak.
  setMaxListeners(0, signal);
  const informers = new InformerFactory(client);
  const recorders = new Map<string, EventRecorder>();
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => {
      let r = recorders.get(component);
      if (!r) recorders.set(component, (r = new EventRecorder(client, component)));
      return r;
    },
    log,
    signal,
  };
  void informers.startAll(signal);
  await Promise.all(
    controllers.map(async (c) => {
      const clog = logger(c.name);
      clog.v(1, 'starting controller');
      try {
        await runningController.run(c.name, () => c.run({ ...ctx, log: clog }, workers));
      } catch (e) {
        if (!signal.aborted) clog.error('controller stopped with an error', { error: (e as Error).stack ?? String(e) });
      }
    }),
  );
}

