// The root CA certificate publisher (upstream root-ca-cert-publisher): a ConfigMap
// kube-root-ca.crt with the cluster CA in every active namespace, so pods can verify the
// API server. The CA is the one the controller manager itself trusts.
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists, isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { WorkQueue } from './framework/workqueue.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
// Upstream marks the ConfigMap so it is recognisable as generated.
const DESCRIPTION = 'kubernetes.io/description';
const DESCRIPTION_TEXT =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  private readonly queue = new WorkQueue();

  constructor(private readonly caPem?: string) {}

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    const ca = this.caPem ?? ctx.client.caPem;
    if (!ca) {
      ctx.log.info('no CA certificate in the kubeconfig (plain HTTP): not publishing kube-root-ca.crt');
    }
    const nsInformer = ctx.informers.for<Namespace>('/api/v1/namespaces');
    const cmInformer = ctx.informers.for<ConfigMap>('/api/v1/configmaps');
    nsInformer.on('add', (ns) => this.queue.add(ns.metadata!.name!));
    nsInformer.on('update', (ns) => this.queue.add(ns.metadata!.name!));
    const onCM = (cm: ConfigMap): void => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP) this.queue.add(cm.metadata.namespace!);
    };
    cmInformer.on('update', onCM);
    cmInformer.on('delete', onCM);
    await Promise.all([nsInformer.start(ctx.signal), cmInformer.start(ctx.signal)]);
    await runWorkers(
      this.queue,
      workers,
      async (name) => {
        const ns = nsInformer.get(name);
        if (!ns || ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp || !ca) return;
        const path = `/api/v1/namespaces/${name}/configmaps`;
        const existing = cmInformer.get(`${name}/${ROOT_CA_CONFIGMAP}`);
        try {
          if (!existing) {
            await ctx.client.create(path, {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations: { [DESCRIPTION]: DESCRIPTION_TEXT } },
              data: { 'ca.crt': ca },
            });
          } else if (existing.data?.['ca.crt'] !== ca || Object.keys(existing.data ?? {}).length !== 1) {
            await ctx.client.update(`${path}/${ROOT_CA_CONFIGMAP}`, { ...existing, apiVersion: 'v1', kind: 'ConfigMap', data: { 'ca.crt': ca } });
          }
        } catch (e) {
          if (isAlreadyExists(e) || isNotFound(e)) return;
          if (e instanceof Error && /being terminated/i.test(e.message)) return;
          throw e;
        }
      },
      ctx.signal,
      ctx.log,
    );
  }
}
