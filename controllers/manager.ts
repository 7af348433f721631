// The controller manager: while this process holds the leader lease it starts every
// registered controller over one shared informer factory, as kube-controller-manager.
import { hostname } from 'node:os';
import { logger, type Logger } from '../apimachinery/log.js';
import type { ApiClient } from './framework/client.js';
import type { Controller } from './framework/controller.js';
import { DEFAULT_LEADER_ELECTION, LeaderElector } from './framework/leader-election.js';
import { allControllers } from './index.js';
import { runControllers } from './framework/run.js';

export { runControllers };

export interface ManagerOptions {
  client: ApiClient;
  controllers?: Controller[];
  /** Workers per controller (upstream's --concurrent-*-syncs default to 5). */
  workers?: number;
  /** Skip the lease, e.g. for an in-process test with a single manager. */
  leaderElect?: boolean;
  identity?: string;
  log?: Logger;
}

/**
 * upstream's --controllers: "*" enables every controller, "name" one more, "-name" disables
 * one. Unknown names are an error, so a typo does not silently run nothing.
 */
export function selectControllers(all: Controller[], spec: string[]): Controller[] {
  const known = new Set(all.map((c) => c.name));
  for (const item of spec) {
    const name = item.replace(/^-/, '');
    if (name !== '*' && !known.has(name)) throw new Error(`--controllers: unknown controller "${name}" (known: ${[...known].join(', ')})`);
  }
  const star = spec.includes('*');
  return all.filter((c) => !spec.includes(`-${c.name}`) && (star || spec.includes(c.name)));
}

/** Runs until the signal aborts. Returns false when leadership was lost (the caller should exit). */
export async function runControllerManager(opts: ManagerOptions, signal: AbortSignal): Promise<boolean> {
  const log = opts.log ?? logger('controller-manager');
  const controllers = opts.controllers ?? allControllers();
  const workers = opts.workers ?? 5;
  if (opts.leaderElect === false) {
    await runControllers(opts.client, controllers, workers, signal, log);
    return true;
  }
  const identity = opts.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const elector = new LeaderElector(opts.client, { ...DEFAULT_LEADER_ELECTION, identity }, log);
  let running: Promise<void> | undefined;
  await elector.run(
    signal,
    (leading) => {
      running = runControllers(opts.client, controllers, workers, leading, log);
    },
    () => undefined,
  );
  await running;
  if (signal.aborted) {
    await elector.release();
    return true;
  }
  return false;
}
