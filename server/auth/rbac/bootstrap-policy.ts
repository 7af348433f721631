// Default RBAC policy (the subset of upstream Kubernetes' bootstrap
// ClusterRoles/ClusterRoleBindings that Podium's components and users need).
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Subject } from 'kubernetes-types/rbac/v1.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAPPING_LABEL = 'kubernetes.io/bootstrapping';
export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const RW = [...READ, ...WRITE];

function rule(verbs: string[], groups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups: groups, resources };
  if (resourceNames) r.resourceNames = resourceNames;
  return r;
}
function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

function clusterRole(name: string, rules: PolicyRule[], extraLabels: Record<string, string> = {}, aggregateFrom?: string): ClusterRole {
  const cr: ClusterRole = {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: {
      name,
      labels: { [BOOTSTRAPPING_LABEL]: 'rbac-defaults', ...extraLabels },
      annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
    },
    rules,
  };
  if (aggregateFrom) cr.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [aggregateFrom]: 'true' } }] };
  return cr;
}

function binding(name: string, roleName: string, subjects: Subject[]): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { [BOOTSTRAPPING_LABEL]: 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
    subjects,
  };
}
const group = (name: string): Subject => ({ apiGroup: RBAC, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC, kind: 'User', name });

const viewRules: PolicyRule[] = [
  rule(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods',
    'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
  rule(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status',
    'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
  rule(READ, [''], ['namespaces']),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale',
    'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale',
    'statefulsets/status']),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

const editRules: PolicyRule[] = [
  rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [''], ['pods/eviction']),
  rule(WRITE, [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers',
    'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets',
    'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
];

const adminRules: PolicyRule[] = [
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
  rule(RW, [RBAC], ['rolebindings', 'roles']),
];

/** Upstream system:kube-scheduler (core scheduling needs). */
const schedulerRules: PolicyRule[] = [
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
  rule(['create'], [''], ['endpoints']),
  rule(['get', 'update'], [''], ['endpoints'], ['kube-scheduler']),
  rule(READ, [''], ['nodes']),
  rule(READ, [''], ['namespaces']),
  rule(['delete', ...READ], [''], ['pods']),
  rule(['create'], [''], ['bindings', 'pods/binding']),
  rule(['patch', 'update'], [''], ['pods/status']),
  rule(READ, [''], ['replicationcontrollers', 'services']),
  rule(READ, ['apps', 'extensions'], ['replicasets']),
  rule(READ, ['apps'], ['statefulsets']),
  rule(READ, ['policy'], ['poddisruptionbudgets']),
  rule(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  rule(READ, ['storage.k8s.io'], ['csinodes', 'csidrivers', 'csistoragecapacities', 'storageclasses']),
];

/**
 * Upstream system:kube-controller-manager. Upstream runs each controller with
 * its own service account (--use-service-account-credentials) bound to a
 * system:controller:* role; this role only covers the manager's own needs
 * plus cluster-wide list/watch. Podium's controller manager acts with this
 * single identity, so it is also bound to system:podium:controller-manager below.
 * Left out of upstream's list: creating and updating secrets and creating
 * service-account tokens, which serve upstream's legacy token controller and
 * per-controller credentials; Podium runs neither, so its manager never needs them.
 */
const controllerManagerRules: PolicyRule[] = [
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
  rule(['create'], [''], ['endpoints']),
  rule(['get', 'update'], [''], ['endpoints'], ['kube-controller-manager']),
  rule(['create'], [''], ['serviceaccounts']),
  rule(['get'], [''], ['configmaps', 'namespaces', 'serviceaccounts']),
  rule(['update'], [''], ['serviceaccounts']),
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  rule(['list', 'watch'], ['*'], ['*']),
];

/**
 * Upstream system:node. Note: upstream binds nodes through the Node
 * authorizer + NodeRestriction admission, which restrict each kubelet to its
 * own Node object and the pods/secrets/configmaps/PVCs scheduled to it; this
 * role is the coarse upper bound. The system:node ClusterRoleBinding has no
 * subjects upstream (the Node authorizer grants group system:nodes).
 * Exported for the Node authorizer, which allows what these rules allow.
 */
export const nodeRules: readonly PolicyRule[] = [
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
  rule(READ, [''], ['services']),
  rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  rule(['patch', 'update'], [''], ['nodes/status']),
  rule(['patch', 'update'], [''], ['nodes']),
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(READ, [''], ['pods']),
  rule(['create', 'delete'], [''], ['pods']),
  rule(['patch', 'update'], [''], ['pods/status']),
  rule(['create'], [''], ['pods/eviction']),
  rule(READ, [''], ['configmaps', 'secrets']),
  rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  rule(['get'], [''], ['endpoints']),
  rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
  rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
  rule(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(READ, ['storage.k8s.io'], ['csidrivers']),
  rule(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
  rule(READ, ['node.k8s.io'], ['runtimeclasses']),
];

/** Upstream system:volume-scheduler: the scheduler's volume binding reads and updates claims and volumes. */
const volumeSchedulerRules: PolicyRule[] = [
  rule([...READ, 'patch', 'update'], [''], ['persistentvolumes']),
  rule(READ, ['storage.k8s.io'], ['storageclasses']),
  rule([...READ, 'patch', 'update'], [''], ['persistentvolumeclaims']),
];

/** The lease Podium's controller manager elects its leader with (controllers/framework/leader-election.ts). */
export const CONTROLLER_MANAGER_LEASE = 'kube-controller-manager';

/**
 * Podium's controller manager runs every controller under one identity, user
 * system:kube-controller-manager, where upstream gives each controller its own service account
 * bound to a system:controller:* role. This role is the union of what Podium's controllers call,
 * widened to upstream's role for that controller where the controller is generic by nature.
 * It grants no create on secrets or RBAC objects, no bind and no impersonate; the one escalate
 * is the ClusterRole aggregation controller's, as upstream.
 */
const podiumControllerManagerRules: PolicyRule[] = [
  // garbage-collector (get/patch/delete any owner or dependent; upstream generic-garbage-collector:
  // get/list/watch/patch/update/delete */*) and namespace controller (list/delete/deletecollection
  // every namespaced resource; upstream namespace-controller: get/list/watch/delete/deletecollection */*).
  rule(['delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['*'], ['*']),
  // namespace controller: conditions while content remains, then the finalizer removal.
  rule(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
  // Every controller's EventRecorder (framework/events.ts: create, then patch repeats; upstream eventsRule).
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  // Leader election (framework/leader-election.ts: get, create, update of one kube-system lease).
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], [CONTROLLER_MANAGER_LEASE]),
  // replicaset, daemonset, statefulset, job: create and delete pods, adopt/release them (patch
  // ownerReferences), job-sync removes its tracking finalizer (patch); node-lifecycle deletes pods of lost nodes.
  rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], [''], ['pods']),
  // node-lifecycle: Ready=False on pods of an unreachable node; upstream node-controller also updates.
  rule(['patch', 'update'], [''], ['pods/status']),
  // node-lifecycle: taints (patch nodes) and Unknown conditions (patch nodes/status); endpointslice
  // and daemonset read nodes.
  rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['nodes']),
  rule(['patch', 'update'], [''], ['nodes/status']),
  // endpoints controller.
  rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['endpoints']),
  // endpointslice controller.
  rule(['create', 'delete', 'get', 'list', 'update', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
  // endpoints, endpointslice: services; namespace, serviceaccounts, root-ca-cert-publisher: namespaces.
  rule(READ, [''], ['namespaces', 'services']),
  // root-ca-cert-publisher: kube-root-ca.crt in every namespace.
  rule(['create', 'get', 'list', 'update', 'watch'], [''], ['configmaps']),
  // serviceaccounts controller: the default account in every namespace.
  rule(['create', 'get', 'list', 'watch'], [''], ['serviceaccounts']),
  // statefulset: volumeClaimTemplates (create, delete under the retention policy); persistentvolume-binder:
  // default class (patch), binding (update) and phase (status).
  rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
  rule(['update'], [''], ['persistentvolumeclaims/status']),
  // persistentvolume-binder with the local-path provisioner: create, bind, release, reclaim.
  rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['persistentvolumes']),
  rule(['update'], [''], ['persistentvolumes/status']),
  // persistentvolume-binder: Podium's default StorageClass (no upstream controller creates one).
  rule(['create', 'get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
  // deployment: its replica sets (create, scale and template updates, adopt, cleanup) and status.
  rule(['get', 'list', 'update', 'watch'], ['apps'], ['deployments']),
  rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['replicasets']),
  // daemonset, statefulset: revision history (history.ts create/update, cleanup delete).
  rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps'], ['controllerrevisions']),
  rule(['get', 'list', 'watch'], ['apps'], ['daemonsets', 'statefulsets']),
  rule(['update'], ['apps'], ['daemonsets/status', 'deployments/status', 'replicasets/status', 'statefulsets/status']),
  // cronjob: creates and deletes jobs; job-ttl deletes finished ones; job: status.
  rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['batch'], ['jobs']),
  rule(['get', 'list', 'watch'], ['batch'], ['cronjobs']),
  rule(['update'], ['batch'], ['cronjobs/status', 'jobs/status']),
  // disruption controller.
  rule(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
  rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
  // horizontal-pod-autoscaler: any scale target (patch here, update upstream) and pod metrics.
  rule(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
  rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
  rule(['get', 'patch', 'update'], ['*'], ['*/scale']),
  rule(['get', 'list'], ['metrics.k8s.io'], ['pods']),
  // clusterrole-aggregation (upstream clusterrole-aggregation-controller): writes aggregated rules
  // it does not itself hold, hence escalate.
  rule(['escalate', 'get', 'list', 'patch', 'update', 'watch'], [RBAC], ['clusterroles']),
  // csrsigning (upstream's certificate-controller role): watch requests, write the issued
  // certificate, and the `sign` permission the CertificateSigning admission check asks for.
  rule(['get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status']),
  rule(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client']),
];

/** Upstream system:node-proxier (kube-proxy). */
const nodeProxierRules: PolicyRule[] = [
  rule(['list', 'watch'], [''], ['endpoints', 'services']),
  rule(['get', 'list', 'watch'], [''], ['nodes']),
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
];

/**
 * What the rest of a Podium node's networking reads and writes: cluster DNS (pods, namespaces),
 * NetworkPolicy enforcement (policies and every pod, since peers may run anywhere) and the
 * ingress controller (its IngressClass and the Ingresses' status). No secrets: TLS for
 * Ingresses is not served.
 */
const nodeNetworkRules: PolicyRule[] = [
  rule(['list', 'watch'], [''], ['pods', 'namespaces']),
  rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses', 'ingressclasses']),
  rule(['create'], ['networking.k8s.io'], ['ingressclasses']),
  rule(['patch', 'update'], ['networking.k8s.io'], ['ingresses/status']),
];

export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], {}, AGGREGATE_TO_ADMIN),
    clusterRole('edit', [], { [AGGREGATE_TO_ADMIN]: 'true' }, AGGREGATE_TO_EDIT),
    clusterRole('view', [], { [AGGREGATE_TO_EDIT]: 'true' }, AGGREGATE_TO_VIEW),
    clusterRole('system:aggregate-to-admin', adminRules, { [AGGREGATE_TO_ADMIN]: 'true' }),
    clusterRole('system:aggregate-to-edit', editRules, { [AGGREGATE_TO_EDIT]: 'true' }),
    clusterRole('system:aggregate-to-view', viewRules, { [AGGREGATE_TO_VIEW]: 'true' }),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez',
      '/openapi', '/openapi/*', '/readyz', '/version', '/version/'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    // upstream's role for scrapers: the metrics and every health check, and nothing else.
    clusterRole('system:monitoring', [urls(['get'], ['/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*'])]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:kube-scheduler', schedulerRules),
    clusterRole('system:volume-scheduler', volumeSchedulerRules),
    clusterRole('system:kube-controller-manager', controllerManagerRules),
    clusterRole('system:podium:controller-manager', podiumControllerManagerRules),
    clusterRole('system:node', [...nodeRules]),
    clusterRole('system:node-proxier', nodeProxierRules),
    clusterRole('system:podium:node-network', nodeNetworkRules),
  ];
}

export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
    binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
    binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    binding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    binding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
    binding('system:volume-scheduler', 'system:volume-scheduler', [user('system:kube-scheduler')]),
    binding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
    binding('system:podium:controller-manager', 'system:podium:controller-manager', [user('system:kube-controller-manager')]),
    // upstream: no subjects; nodes are authorized by the Node authorizer (group system:nodes)
    binding('system:node', 'system:node', []),
    // Podium's node agent is also each node's kube-proxy, cluster DNS and ingress controller
    // (upstream: kube-proxy's and CoreDNS's service accounts and the ingress controller's own).
    binding('system:node-proxier', 'system:node-proxier', [group('system:nodes')]),
    binding('system:podium:node-network', 'system:podium:node-network', [group('system:nodes')]),
  ];
}
