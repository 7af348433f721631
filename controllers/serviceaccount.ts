// The service account controller (upstream serviceaccounts-controller): every active
// namespace has a "default" ServiceAccount, recreated if deleted.
import type { Namespace, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';

export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

export class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount';
  private readonly queue = new WorkQueue();

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    const nsInformer = ctx.informers.for<Namespace>('/api/v1/namespaces');
    const saInformer = ctx.informers.for<ServiceAccount>('/api/v1/serviceaccounts');
    nsInformer.on('add', (ns) => this.queue.add(ns.metadata!.name!));
    nsInformer.on('update', (ns) => this.queue.add(ns.metadata!.name!));
    saInformer.on('delete', (sa) => {
      if (DEFAULT_SERVICE_ACCOUNTS.includes(sa.metadata?.name ?? '')) this.queue.add(sa.metadata!.namespace!);
    });
    await Promise.all([nsInformer.start(ctx.signal), saInformer.start(ctx.signal)]);
    await runWorkers(
      this.queue,
      workers,
      async (name) => {
        const ns = nsInformer.get(name);
        if (!ns || ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp) return;
        for (const sa of DEFAULT_SERVICE_ACCOUNTS) {
          if (saInformer.get(`${name}/${sa}`)) continue;
          try {
            await ctx.client.create(`/api/v1/namespaces/${name}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: name } });
          } catch (e) {
            // Already there (our cache lags) or the namespace went away meanwhile: nothing to do.
            if (isAlreadyExists(e) || isNotFound(e)) continue;
            if (e instanceof Error && /being terminated|forbidden/i.test(e.message)) continue;
            throw e;
          }
        }
      },
      ctx.signal,
      ctx.log,
    );
  }
}
