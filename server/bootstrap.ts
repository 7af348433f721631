// What every cluster has from the start: the system namespaces and the default/kubernetes
// Service (upstream's bootstrap controllers in kube-apiserver).
import type { Registry } from './generic/registry.js';
import { StatusError } from '../apimachinery/errors.js';
import { logger } from '../apimachinery/log.js';

const log = logger('bootstrap');
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof StatusError && err.code === 409)) throw err;
  }
}

export async function bootstrap(registry: Registry, kubernetesServiceIP: string, apiPort: number): Promise<void> {
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
  log.v(1, 'bootstrap objects present');
}
