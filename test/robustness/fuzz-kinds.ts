// The kinds the fuzzer aims at: a valid template of each (what mutations start from) and where it
// lives. Fixtures named FIXTURE exist for patches, updates and subresources to land on.
export const NS = 'fuzz';
export const FIXTURE = 'fx';

export interface FuzzKind {
  resource: string;
  apiVersion: string;
  kind: string;
  namespaced: boolean;
  template(name: string): Record<string, unknown>;
  subresources: string[];
}

const meta = (name: string, namespaced: boolean) => ({ name, ...(namespaced ? { namespace: NS } : {}), labels: { app: 'fuzz', tier: 'a' }, annotations: { note: 'x' } });

const podSpec = () => ({
  containers: [{
    name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
    env: [{ name: 'A', value: '1' }], resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
  }],
  restartPolicy: 'Always', terminationGracePeriodSeconds: 0, tolerations: [{ key: 'k', operator: 'Exists' }],
});

export const KINDS: FuzzKind[] = [
  { resource: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(n, true), data: { a: 'b', 'c.txt': 'd' } }) },
  { resource: 'secrets', apiVersion: 'v1', kind: 'Secret', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta(n, true), type: 'Opaque', data: { a: 'Yg==' }, stringData: { s: 't' } }) },
  { resource: 'pods', apiVersion: 'v1', kind: 'Pod', namespaced: true, subresources: ['status', 'binding', 'eviction', 'log', 'exec', 'ephemeralcontainers', 'resize'], template: (n) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(n, true), spec: podSpec() }) },
  { resource: 'services', apiVersion: 'v1', kind: 'Service', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(n, true), spec: { selector: { app: 'fuzz' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], type: 'ClusterIP' } }) },
  { resource: 'serviceaccounts', apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true, subresources: ['token'], template: (n) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(n, true), automountServiceAccountToken: false }) },
  { resource: 'namespaces', apiVersion: 'v1', kind: 'Namespace', namespaced: false, subresources: ['status', 'finalize'], template: (n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(n, false), spec: { finalizers: ['kubernetes'] } }) },
  { resource: 'deployments', apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true, subresources: ['status', 'scale'], template: (n) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(n, true), spec: { replicas: 2, selector: { matchLabels: { app: 'fuzz' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } }, template: { metadata: { labels: { app: 'fuzz' } }, spec: podSpec() } } }) },
  { resource: 'statefulsets', apiVersion: 'apps/v1', kind: 'StatefulSet', namespaced: true, subresources: ['status', 'scale'], template: (n) => ({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta(n, true), spec: { replicas: 1, serviceName: 'svc', selector: { matchLabels: { app: 'fuzz' } }, template: { metadata: { labels: { app: 'fuzz' } }, spec: podSpec() }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } }) },
  { resource: 'jobs', apiVersion: 'batch/v1', kind: 'Job', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta(n, true), spec: { completions: 2, parallelism: 1, backoffLimit: 1, template: { spec: { ...podSpec(), restartPolicy: 'Never' } } } }) },
  { resource: 'cronjobs', apiVersion: 'batch/v1', kind: 'CronJob', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta(n, true), spec: { schedule: '*/5 * * * *', suspend: true, jobTemplate: { spec: { template: { spec: { ...podSpec(), restartPolicy: 'OnFailure' } } } } } }) },
  { resource: 'roles', apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(n, true), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] }) },
  { resource: 'leases', apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta(n, true), spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z' } }) },
  { resource: 'ingresses', apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta(n, true), spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }] } }) },
  { resource: 'networkpolicies', apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(n, true), spec: { podSelector: { matchLabels: { app: 'fuzz' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80 }] }] } }) },
  { resource: 'poddisruptionbudgets', apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(n, true), spec: { minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['fuzz'] }] } } }) },
  { resource: 'horizontalpodautoscalers', apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespaced: true, subresources: ['status'], template: (n) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta(n, true), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fx' }, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } }) },
  { resource: 'events', apiVersion: 'v1', kind: 'Event', namespaced: true, subresources: [], template: (n) => ({ apiVersion: 'v1', kind: 'Event', metadata: meta(n, true), involvedObject: { kind: 'Pod', name: 'fx', namespace: NS }, reason: 'Fuzz', message: 'm', type: 'Normal', count: 1 }) },
  { resource: 'clusterroles', apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', namespaced: false, subresources: [], template: (n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: meta(n, false), rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }) },
];

export function collectionPath(k: FuzzKind, namespace = NS): string {
  const prefix = k.apiVersion === 'v1' ? '/api/v1' : `/apis/${k.apiVersion}`;
  return k.namespaced ? `${prefix}/namespaces/${namespace}/${k.resource}` : `${prefix}/${k.resource}`;
}

export function itemPath(k: FuzzKind, name: string, namespace = NS): string {
  return `${collectionPath(k, namespace)}/${name}`;
}

/** Fixtures are named `fx`; the namespace fixture is the fuzz namespace's sibling `fuzz-fx`. */
export function fixtureName(k: FuzzKind): string {
  return k.resource === 'namespaces' ? `${NS}-${FIXTURE}` : FIXTURE;
}
