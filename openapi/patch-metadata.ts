// Patch and list metadata of the served API types: the facts upstream keeps in Go struct tags and
// `+patchStrategy`/`+listType` markers, which kubernetes-types (and so the type graph) cannot carry.
// Hand-written from the upstream API types; test/unit/patch-metadata.test.ts checks it against the
// upstream OpenAPI document. The strategic merge patch reads patchStrategy/patchMergeKey; the
// OpenAPI documents and server-side apply read the list and map types.

export type PatchStrategy = 'merge' | 'retainKeys' | 'merge,retainKeys' | 'replace';
export type ListType = 'atomic' | 'set' | 'map';
export type MapType = 'atomic' | 'granular';

export interface FieldPatchMetadata {
  /** x-kubernetes-patch-strategy */
  patchStrategy?: PatchStrategy;
  /** x-kubernetes-patch-merge-key */
  patchMergeKey?: string;
  /** x-kubernetes-list-type */
  listType?: ListType;
  /** x-kubernetes-list-map-keys */
  listMapKeys?: string[];
  /** x-kubernetes-map-type on the property */
  mapType?: MapType;
}

export interface DefinitionPatchMetadata {
  /** x-kubernetes-map-type of the definition itself (`+structType=atomic`). */
  mapType?: MapType;
  fields: Record<string, FieldPatchMetadata>;
}

const atomic: FieldPatchMetadata = { listType: 'atomic' };
const set: FieldPatchMetadata = { listType: 'set' };
const atomicMap: FieldPatchMetadata = { mapType: 'atomic' };
/** A list merged element-wise by `key`, keyed the same way for server-side apply. */
const mergeBy = (key: string, ...moreListKeys: string[]): FieldPatchMetadata =>
  ({ patchStrategy: 'merge', patchMergeKey: key, listType: 'map', listMapKeys: [key, ...moreListKeys] });
/** The usual `conditions` list: merged by type. */
const conditions = mergeBy('type');
const fields = (f: Record<string, FieldPatchMetadata>): DefinitionPatchMetadata => ({ fields: f });
/** `+structType=atomic`: the object is replaced as a whole by server-side apply. */
const atomicStruct = (f: Record<string, FieldPatchMetadata> = {}): DefinitionPatchMetadata => ({ mapType: 'atomic', fields: f });

const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const core = 'io.k8s.api.core.v1.';
const apps = 'io.k8s.api.apps.v1.';
const batch = 'io.k8s.api.batch.v1.';
const networking = 'io.k8s.api.networking.v1.';
const discovery = 'io.k8s.api.discovery.v1.';
const policy = 'io.k8s.api.policy.v1.';
const autoscalingV1 = 'io.k8s.api.autoscaling.v1.';
const autoscalingV2 = 'io.k8s.api.autoscaling.v2.';
const storage = 'io.k8s.api.storage.v1.';
const rbac = 'io.k8s.api.rbac.v1.';
const authentication = 'io.k8s.api.authentication.v1.';
const authorization = 'io.k8s.api.authorization.v1.';
const certificates = 'io.k8s.api.certificates.v1.';

const containerFields: Record<string, FieldPatchMetadata> = {
  command: atomic,
  args: atomic,
  ports: mergeBy('containerPort', 'protocol'),
  envFrom: atomic,
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
  resizePolicy: atomic,
};

const TABLE: Record<string, DefinitionPatchMetadata> = {
  // meta/v1
  [`${meta}ObjectMeta`]: fields({
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    managedFields: atomic,
    ownerReferences: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
  }),
  [`${meta}OwnerReference`]: atomicStruct(),
  [`${meta}LabelSelector`]: atomicStruct({ matchExpressions: atomic }),
  [`${meta}LabelSelectorRequirement`]: fields({ values: atomic }),

  // core/v1: pods and pod templates
  [`${core}PodSpec`]: fields({
    volumes: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: mergeBy('name'),
    containers: mergeBy('name'),
    ephemeralContainers: mergeBy('name'),
    imagePullSecrets: mergeBy('name'),
    hostAliases: mergeBy('ip'),
    tolerations: atomic,
    readinessGates: atomic,
    topologySpreadConstraints: mergeBy('topologyKey', 'whenUnsatisfiable'),
    schedulingGates: mergeBy('name'),
    resourceClaims: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    nodeSelector: atomicMap,
  }),
  [`${core}PodStatus`]: fields({
    conditions,
    podIPs: mergeBy('ip'),
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: atomic,
    containerStatuses: atomic,
    ephemeralContainerStatuses: atomic,
    resourceClaimStatuses: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  }),
  [`${core}ContainerStatus`]: fields({ volumeMounts: mergeBy('mountPath') }),
  [`${core}Container`]: fields(containerFields),
  [`${core}EphemeralContainer`]: fields(containerFields),
  [`${core}ResourceRequirements`]: fields({ claims: { listType: 'map', listMapKeys: ['name'] } }),
  [`${core}Capabilities`]: fields({ add: atomic, drop: atomic }),
  [`${core}ExecAction`]: fields({ command: atomic }),
  [`${core}HTTPGetAction`]: fields({ httpHeaders: atomic }),
  [`${core}PodSecurityContext`]: fields({ supplementalGroups: atomic, sysctls: atomic }),
  [`${core}PodDNSConfig`]: fields({ nameservers: atomic, searches: atomic, options: atomic }),
  [`${core}HostAlias`]: fields({ hostnames: atomic }),
  [`${core}TopologySpreadConstraint`]: fields({ matchLabelKeys: atomic }),

  // core/v1: scheduling constraints
  [`${core}NodeAffinity`]: fields({ preferredDuringSchedulingIgnoredDuringExecution: atomic }),
  [`${core}NodeSelector`]: atomicStruct({ nodeSelectorTerms: atomic }),
  [`${core}NodeSelectorTerm`]: atomicStruct({ matchExpressions: atomic, matchFields: atomic }),
  [`${core}NodeSelectorRequirement`]: fields({ values: atomic }),
  [`${core}PodAffinity`]: fields({ requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic }),
  [`${core}PodAntiAffinity`]: fields({ requiredDuringSchedulingIgnoredDuringExecution: atomic, preferredDuringSchedulingIgnoredDuringExecution: atomic }),
  [`${core}PodAffinityTerm`]: fields({ namespaces: atomic, matchLabelKeys: atomic, mismatchLabelKeys: atomic }),
  [`${core}TopologySelectorTerm`]: atomicStruct({ matchLabelExpressions: atomic }),
  [`${core}TopologySelectorLabelRequirement`]: fields({ values: atomic }),

  // core/v1: references and selectors replaced as a whole
  [`${core}LocalObjectReference`]: atomicStruct(),
  [`${core}TypedLocalObjectReference`]: atomicStruct(),
  [`${core}ObjectReference`]: atomicStruct(),
  [`${core}SecretReference`]: atomicStruct(),
  [`${core}ObjectFieldSelector`]: atomicStruct(),
  [`${core}ResourceFieldSelector`]: atomicStruct(),
  [`${core}ConfigMapKeySelector`]: atomicStruct(),
  [`${core}SecretKeySelector`]: atomicStruct(),

  // core/v1: volume sources
  [`${core}ConfigMapVolumeSource`]: fields({ items: atomic }),
  [`${core}SecretVolumeSource`]: fields({ items: atomic }),
  [`${core}DownwardAPIVolumeSource`]: fields({ items: atomic }),
  [`${core}ProjectedVolumeSource`]: fields({ sources: atomic }),
  [`${core}ConfigMapProjection`]: fields({ items: atomic }),
  [`${core}SecretProjection`]: fields({ items: atomic }),
  [`${core}DownwardAPIProjection`]: fields({ items: atomic }),
  [`${core}CephFSVolumeSource`]: fields({ monitors: atomic }),
  [`${core}CephFSPersistentVolumeSource`]: fields({ monitors: atomic }),
  [`${core}RBDVolumeSource`]: fields({ monitors: atomic }),
  [`${core}RBDPersistentVolumeSource`]: fields({ monitors: atomic }),
  [`${core}ISCSIVolumeSource`]: fields({ portals: atomic }),
  [`${core}ISCSIPersistentVolumeSource`]: fields({ portals: atomic }),
  [`${core}FCVolumeSource`]: fields({ targetWWNs: atomic, wwids: atomic }),

  // core/v1: services and endpoints
  [`${core}ServiceSpec`]: fields({
    ports: mergeBy('port', 'protocol'),
    selector: atomicMap,
    clusterIPs: atomic,
    externalIPs: atomic,
    loadBalancerSourceRanges: atomic,
    ipFamilies: atomic,
  }),
  [`${core}ServiceStatus`]: fields({ conditions }),
  [`${core}LoadBalancerStatus`]: fields({ ingress: atomic }),
  [`${core}LoadBalancerIngress`]: fields({ ports: atomic }),
  [`${core}Endpoints`]: fields({ subsets: atomic }),
  [`${core}EndpointSubset`]: fields({ addresses: atomic, notReadyAddresses: atomic, ports: atomic }),
  [`${core}EndpointAddress`]: atomicStruct(),
  [`${core}EndpointPort`]: atomicStruct(),

  // core/v1: cluster-scoped and configuration kinds
  [`${core}NamespaceSpec`]: fields({ finalizers: atomic }),
  [`${core}NamespaceStatus`]: fields({ conditions }),
  [`${core}NodeSpec`]: fields({ podCIDRs: { patchStrategy: 'merge', listType: 'set' }, taints: atomic }),
  [`${core}NodeStatus`]: fields({
    conditions,
    addresses: mergeBy('type'),
    images: atomic,
    volumesInUse: atomic,
    volumesAttached: atomic,
    runtimeHandlers: atomic,
  }),
  [`${core}ContainerImage`]: fields({ names: atomic }),
  [`${core}ServiceAccount`]: fields({ secrets: mergeBy('name'), imagePullSecrets: atomic }),
  [`${core}PersistentVolumeClaimSpec`]: fields({ accessModes: atomic }),
  [`${core}PersistentVolumeClaimStatus`]: fields({
    accessModes: atomic,
    conditions,
    allocatedResourceStatuses: { mapType: 'granular' },
  }),
  [`${core}PersistentVolumeSpec`]: fields({ accessModes: atomic, mountOptions: atomic, claimRef: { mapType: 'granular' } }),
  [`${core}ResourceQuotaSpec`]: fields({ scopes: atomic }),
  [`${core}ScopeSelector`]: atomicStruct({ matchExpressions: atomic }),
  [`${core}ScopedResourceSelectorRequirement`]: fields({ values: atomic }),
  [`${core}LimitRangeSpec`]: fields({ limits: atomic }),

  // apps/v1
  [`${apps}DeploymentSpec`]: fields({ strategy: { patchStrategy: 'retainKeys' } }),
  [`${apps}DeploymentStatus`]: fields({ conditions }),
  [`${apps}ReplicaSetStatus`]: fields({ conditions }),
  [`${apps}StatefulSetSpec`]: fields({ volumeClaimTemplates: atomic }),
  [`${apps}StatefulSetStatus`]: fields({ conditions }),
  [`${apps}DaemonSetStatus`]: fields({ conditions }),

  // batch/v1
  [`${batch}JobStatus`]: fields({ conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' } }),
  [`${batch}UncountedTerminatedPods`]: fields({ succeeded: set, failed: set }),
  [`${batch}PodFailurePolicy`]: fields({ rules: atomic }),
  [`${batch}PodFailurePolicyRule`]: fields({ onPodConditions: atomic }),
  [`${batch}PodFailurePolicyOnExitCodesRequirement`]: fields({ values: set }),
  [`${batch}SuccessPolicy`]: fields({ rules: atomic }),
  [`${batch}CronJobStatus`]: fields({ active: atomic }),

  // networking/v1
  [`${networking}IngressSpec`]: fields({ tls: atomic, rules: atomic }),
  [`${networking}IngressTLS`]: fields({ hosts: atomic }),
  [`${networking}HTTPIngressRuleValue`]: fields({ paths: atomic }),
  [`${networking}IngressLoadBalancerStatus`]: fields({ ingress: atomic }),
  [`${networking}IngressLoadBalancerIngress`]: fields({ ports: atomic }),
  [`${networking}NetworkPolicySpec`]: fields({ ingress: atomic, egress: atomic, policyTypes: atomic }),
  [`${networking}NetworkPolicyIngressRule`]: fields({ ports: atomic, from: atomic }),
  [`${networking}NetworkPolicyEgressRule`]: fields({ ports: atomic, to: atomic }),
  [`${networking}IPBlock`]: fields({ except: atomic }),
  [`${networking}ServiceBackendPort`]: atomicStruct(),

  // discovery/v1
  [`${discovery}EndpointSlice`]: fields({ endpoints: atomic, ports: atomic }),
  [`${discovery}Endpoint`]: fields({ addresses: set }),
  [`${discovery}EndpointHints`]: fields({ forZones: atomic }),
  [`${discovery}EndpointPort`]: atomicStruct(),

  // policy/v1
  // A selector patch replaces the whole selector: merging two selectors would widen what the budget covers.
  [`${policy}PodDisruptionBudgetSpec`]: fields({ selector: { patchStrategy: 'replace' } }),
  [`${policy}PodDisruptionBudgetStatus`]: fields({ conditions }),

  // autoscaling/v1
  [`${autoscalingV1}CrossVersionObjectReference`]: atomicStruct(),

  // autoscaling/v2
  [`${autoscalingV2}HorizontalPodAutoscalerSpec`]: fields({ metrics: atomic }),
  [`${autoscalingV2}HorizontalPodAutoscalerStatus`]: fields({ currentMetrics: atomic, conditions }),
  [`${autoscalingV2}HPAScalingRules`]: fields({ policies: atomic }),

  // storage/v1
  [`${storage}StorageClass`]: fields({ mountOptions: atomic, allowedTopologies: atomic }),

  // authentication.k8s.io/v1
  [`${authentication}TokenRequestSpec`]: fields({ audiences: atomic }),
  [`${authentication}TokenReviewSpec`]: fields({ audiences: atomic }),
  [`${authentication}TokenReviewStatus`]: fields({ audiences: atomic }),
  [`${authentication}UserInfo`]: fields({ groups: atomic }),
  [`${authorization}NonResourceRule`]: fields({ verbs: atomic, nonResourceURLs: atomic }),
  [`${authorization}ResourceRule`]: fields({ apiGroups: atomic, resourceNames: atomic }),
  [`${authorization}SubjectAccessReviewSpec`]: fields({ groups: atomic }),
  [`${authorization}SubjectRulesReviewStatus`]: fields({ resourceRules: atomic, nonResourceRules: atomic }),

  // rbac/v1
  [`${rbac}Role`]: fields({ rules: atomic }),
  [`${rbac}ClusterRole`]: fields({ rules: atomic }),
  [`${rbac}PolicyRule`]: fields({ verbs: atomic, apiGroups: atomic, resources: atomic, resourceNames: atomic, nonResourceURLs: atomic }),
  [`${rbac}AggregationRule`]: fields({ clusterRoleSelectors: atomic }),
  [`${rbac}RoleBinding`]: fields({ subjects: atomic }),
  [`${rbac}ClusterRoleBinding`]: fields({ subjects: atomic }),
  [`${rbac}RoleRef`]: atomicStruct(),
  [`${rbac}Subject`]: atomicStruct(),

  // certificates.k8s.io/v1: conditions are keyed by type for apply but have no strategic merge key upstream.
  [`${certificates}CertificateSigningRequestSpec`]: fields({ usages: atomic, groups: atomic }),
  [`${certificates}CertificateSigningRequestStatus`]: fields({ conditions: { listType: 'map', listMapKeys: ['type'] } }),
};

const NONE: FieldPatchMetadata = Object.freeze({});

/** The patch and list metadata of one field; an empty object when upstream declares none. */
export function fieldPatchMetadata(definitionName: string, field: string): FieldPatchMetadata {
  return TABLE[definitionName]?.fields[field] ?? NONE;
}

/** The definition-level map type (`atomic` for `+structType=atomic` types), if any. */
export function definitionMapType(definitionName: string): MapType | undefined {
  return TABLE[definitionName]?.mapType;
}

/** Every definition the table says something about. */
export function patchMetadataTable(): Readonly<Record<string, DefinitionPatchMetadata>> {
  return TABLE;
}
