// ServiceAccount admission for pods: the default account, its existence, and the projected
// API-access volume mounted at the well-known path (upstream's plugin/pkg/admission/serviceaccount).
import type { Pod, Volume, Container } from 'kubernetes-types/core/v1.js';
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { AdmissionPlugin } from './types.js';
import { forbidden } from '../../apimachinery/errors.js';
import { generateName } from '../../apimachinery/object-meta.js';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

function apiAccessVolume(): Volume {
  return {
    name: generateName('kube-api-access-'),
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

export const serviceAccountAdmission: AdmissionPlugin = {
  name: 'ServiceAccount',
  async admit(req) {
    if (req.operation !== 'CREATE' || req.def.group !== '' || req.def.plural !== 'pods' || req.subresource) return;
    const pod = req.object as Pod;
    const spec = pod.spec;
    // A pod without a spec is left for validation to reject.
    if (!spec) return;
    // Mirror pods (created by a kubelet from static manifests) carry no service account.
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror']) return;
    spec.serviceAccountName ||= 'default';
    spec.serviceAccount = spec.serviceAccountName;
    const accounts = req.registry.store('', 'serviceaccounts');
    const entry = (await accounts.fresh()).get(`${req.namespace}/${spec.serviceAccountName}`);
    const name = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
    if (!entry) {
      throw forbidden({ group: '', resource: 'pods' }, name, `error looking up service account ${req.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
    }
    const account = entry.object as ServiceAccount;
    const automount = spec.automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
    if (!automount) return;
    const all: Container[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Container[])];
    if (all.some((c) => c.volumeMounts?.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH))) return;
    const volume = apiAccessVolume();
    spec.volumes = [...(spec.volumes ?? []), volume];
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: volume.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    }
  },
};
