// The clusterrole-aggregation controller (upstream pkg/controller/clusterroleaggregation):
// every ClusterRole with an aggregationRule carries the union of the rules of the ClusterRoles
// its selectors match. Any ClusterRole change may change some aggregate, so each one requeues
// every aggregated role.
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { isDeepStrictEqual } from 'node:util';
import { aggregateRules } from '../server/auth/rbac/aggregation.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';

const PATH = '/apis/rbac.authorization.k8s.io/v1/clusterroles';

/**
 * The rules `role` should have, or undefined when it is not aggregated or already has them.
 * Empty and absent rules compare equal, as upstream's semantic DeepEqual treats nil and [].
 */
export function desiredAggregatedRules(role: ClusterRole, all: ClusterRole[]): PolicyRule[] | undefined {
  const rules = aggregateRules(role, all);
  if (rules === null) return undefined;
  if (isDeepStrictEqual(rules, role.rules ?? [])) return undefined;
  return rules;
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  private readonly queue = new WorkQueue();

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    const informer = ctx.informers.for<ClusterRole>(PATH);
    const enqueueAggregated = (): void => {
      for (const r of informer.list()) if (r.aggregationRule) this.queue.add(r.metadata!.name!);
    };
    informer.on('add', enqueueAggregated);
    informer.on('update', enqueueAggregated);
    informer.on('delete', enqueueAggregated);
    await informer.start(ctx.signal);
    enqueueAggregated();
    await runWorkers(
      this.queue,
      workers,
      async (name) => {
        const role = informer.get(name);
        if (!role) return;
        const rules = desiredAggregatedRules(role, informer.list());
        if (!rules) return;
        try {
          // the informer's resourceVersion makes a stale view fail with a conflict, which requeues
          await ctx.client.update(`${PATH}/${encodeURIComponent(name)}`, { ...role, apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', rules });
        } catch (e) {
          if (isNotFound(e)) return;
          throw e;
        }
      },
      ctx.signal,
      ctx.log,
    );
  }
}
