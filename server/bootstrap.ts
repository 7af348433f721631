// What every cluster has from the start: the system namespaces and the default/kubernetes
// Service (upstream's bootstrap controllers in kube-apiserver).
import type { Registry } from './generic/registry.js';
import { StatusError } from '../apimachinery/errors.js';
import { logger } from '../apimachinery/log.js';

const log = logger('bootstrap');
/** spec.controller of the node agents' ingress controller (node-agent/ingress/). */
export const INGRESS_CONTROLLER = 'podium.io/ingress-controller';
const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 409)) throw err;
  }
}

export interface BootstrapOptions {
  kubernetesServiceIP: string;
  apiPort: number;
  /** Written as the default/kubernetes Endpoints and EndpointSlice. */
  advertiseAddress?: string;
  /**
   * The built-in ingress controller's IngressClass, created as the cluster default (k3s ships
   * its ingress controller's class the same way), so it exists as soon as the API server is ready.
   */
  defaultIngressClass?: string;
}

export async function bootstrap(registry: Registry, o: BootstrapOptions): Promise<void> {
  const { kubernetesServiceIP, apiPort, advertiseAddress } = o;
  const namespaces = registry.store('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    const exists = (await namespaces.fresh()).get(name);
    if (!exists) await ensure(() => namespaces.create('', { metadata: { name } }, { dryRun: false }));
  }
  const services = registry.store('', 'services');
  if (!(await services.fresh()).get('default/kubernetes')) {
    await ensure(() => services.create('default', {
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: kubernetesServiceIP, sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }] },
    }, { dryRun: false }));
  }
  if (advertiseAddress) await reconcileKubernetesEndpoints(registry, advertiseAddress, apiPort);
  if (o.defaultIngressClass) {
    const classes = registry.store('networking.k8s.io', 'ingressclasses');
    if (!(await classes.fresh()).get(o.defaultIngressClass)) {
      await ensure(() => classes.create('', {
        metadata: { name: o.defaultIngressClass, annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: 'true' } },
        spec: { controller: INGRESS_CONTROLLER },
      }, { dryRun: false }));
    }
  }
  log.v(1, 'bootstrap objects present');
}

/**
 * The default/kubernetes Service's Endpoints and EndpointSlice: this API server's advertised
 * address (upstream's master endpoint reconciler, with one API server). The service has no
 * selector, so no controller writes them; pods reach the API server through them.
 */
async function reconcileKubernetesEndpoints(registry: Registry, address: string, port: number): Promise<void> {
  const labels = { 'endpointslice.kubernetes.io/skip-mirror': 'true' };
  const endpoints = {
    metadata: { name: 'kubernetes', namespace: 'default', labels },
    subsets: [{ addresses: [{ ip: address }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const slice = {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  for (const [resource, group, want] of [['endpoints', '', endpoints], ['endpointslices', 'discovery.k8s.io', slice]] as const) {
    const store = registry.store(group, resource);
    await ensure(async () => {
      const have = (await store.fresh()).get('default/kubernetes')?.object as Record<string, unknown> | undefined;
      if (!have) return store.create('default', want, { dryRun: false });
      const { metadata: _m, ...haveBody } = have;
      const { metadata: _w, ...wantBody } = want;
      if (JSON.stringify(Object.keys(wantBody).map((k) => haveBody[k])) === JSON.stringify(Object.values(wantBody))) return;
      return store.update('default', 'kubernetes', { ...have, ...wantBody }, { dryRun: false });
    });
  }
}
