// core/v1 services: SetDefaults_Service, the service strategy and REST rules that keep
// clusterIP/clusterIPs in step and carry allocated values across updates, and printService.
// Allocating cluster IPs and node ports is the store's job, not this file's.
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { ResourceDefinition } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, age } from './printing.js';
import { col, deepEqual, formatLabels, ipErrors, type Stored, keepRequestLabelsAndAnnotations } from './core-helpers.js';
import { externallyAccessible, isHeadless, validateService, validateServiceUpdate } from './service-validation.js';
import { isDNS1035Label } from '../../apimachinery/validation.js';

type ServiceObject = Stored<Service>;

const needsClusterIP = (s: Service) => s.spec?.type !== 'ExternalName';
const needsNodePort = (s: Service) => s.spec?.type === 'NodePort' || (s.spec?.type === 'LoadBalancer' && s.spec?.allocateLoadBalancerNodePorts !== false);

function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  spec.type ||= 'ClusterIP';
  for (const p of spec.ports ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(svc)) spec.externalTrafficPolicy ||= 'Cluster';
  if (spec.internalTrafficPolicy == null && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

/** NormalizeClusterIPs: old clients set only the singular field; keep the plural in step. */
function normalizeClusterIPs(spec: ServiceSpec, oldSpec?: ServiceSpec): void {
  if (!oldSpec) {
    if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const samePlural = deepEqual(spec.clusterIPs, oldSpec.clusterIPs);
  if (oldSpec.clusterIP && !spec.clusterIP && (samePlural || !spec.clusterIPs?.length)) delete spec.clusterIPs;
  if (spec.clusterIP && spec.clusterIP !== oldSpec.clusterIP && samePlural) spec.clusterIPs = [spec.clusterIP];
}

/**
 * The IP family fields the upstream allocator fills in on a single-stack IPv4 cluster: families
 * follow the given IPs, and a headless service without selector asks for every family.
 */
function initIPFamilies(svc: Service): void {
  const spec = svc.spec!;
  if (!needsClusterIP(svc)) return;
  if (isHeadless(svc) && !Object.keys(spec.selector ?? {}).length) {
    spec.ipFamilyPolicy ??= 'RequireDualStack';
  } else {
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  if (!spec.ipFamilies?.length) {
    const ips = (spec.clusterIPs ?? []).filter((ip) => ip !== 'None');
    spec.ipFamilies = ips.length ? ips.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')) : ['IPv4'];
  }
}

/** patchAllocatedValues: an update that leaves allocated fields empty keeps what was allocated. */
function keepAllocated(spec: ServiceSpec, svc: Service, old: Service): void {
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && needsClusterIP(svc)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!spec.clusterIPs?.length && oldSpec.clusterIPs?.length) spec.clusterIPs = oldSpec.clusterIPs;
  }
  if (needsNodePort(old) && needsNodePort(svc)) {
    const used = new Set((oldSpec.ports ?? []).map((p) => p.nodePort).filter((n) => n && (spec.ports ?? []).some((q) => q.nodePort === n)));
    const byName = new Map((oldSpec.ports ?? []).map((p) => [p.name ?? '', p.nodePort]));
    for (const p of spec.ports ?? []) {
      const previous = byName.get(p.name ?? '');
      if (!p.nodePort && previous && !used.has(previous)) p.nodePort = previous;
    }
  }
  const needsHC = (s: Service) => s.spec?.type === 'LoadBalancer' && s.spec?.externalTrafficPolicy === 'Local';
  if (needsHC(old) && needsHC(svc) && !spec.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
}

/** dropTypeDependentFields: changing type drops what the old type had allocated, unless the user set it. */
function dropTypeDependent(svc: ServiceObject, old: Service): void {
  const spec = svc.spec!;
  const oldSpec = old.spec ?? {};
  if (needsClusterIP(old) && !needsClusterIP(svc)) {
    if (spec.clusterIP === oldSpec.clusterIP && deepEqual(spec.clusterIPs, oldSpec.clusterIPs)) { delete spec.clusterIP; delete spec.clusterIPs; }
    if (deepEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const sameNodePorts = deepEqual((spec.ports ?? []).map((p) => p.nodePort ?? 0), (oldSpec.ports ?? []).map((p) => p.nodePort ?? 0));
  if (needsNodePort(old) && !needsNodePort(svc) && sameNodePorts) for (const p of spec.ports ?? []) delete p.nodePort;
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
    if (spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (spec.type === 'ExternalName' && oldSpec.type !== 'ExternalName' && spec.internalTrafficPolicy === oldSpec.internalTrafficPolicy) delete spec.internalTrafficPolicy;
  if (spec.type !== 'LoadBalancer' && svc.status?.loadBalancer) svc.status = { ...svc.status, loadBalancer: {} };
}

/** The PORT(S) cell: `80/TCP`, `80:30080/TCP`, comma-separated; "<none>" without ports. */
export function servicePorts(svc: Service): string {
  const text = (svc.spec?.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
  return text || '<none>';
}

/** The EXTERNAL-IP cell, as getServiceExternalIP (wide: the server prints tables wide). */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [...new Set((svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean))].sort();
      if (external.length) return [...lb, ...external].join(',');
      return lb.length ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

const services: ResourceDefinition<ServiceObject> = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  nameValidator: isDNS1035Label,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: { status: true },
  fieldSelectors: {
    'spec.clusterIP': (s) => s.spec?.clusterIP ?? '',
    'spec.type': (s) => s.spec?.type ?? '',
  },
  strategy: {
    defaults: defaultService,
    prepareForCreate(svc) {
      // LoadBalancerStatus is a struct upstream, so an empty one is always there.
      svc.status = { loadBalancer: {} };
      normalizeClusterIPs(svc.spec ??= {});
      initIPFamilies(svc);
    },
    prepareForUpdate(svc, old) {
      svc.status = old.status;
      const spec = (svc.spec ??= {});
      keepAllocated(spec, svc, old);
      normalizeClusterIPs(spec, old.spec ?? {});
      dropTypeDependent(svc, old);
      if (needsClusterIP(svc)) {
        if (!spec.ipFamilies?.length && needsClusterIP(old)) spec.ipFamilies = old.spec?.ipFamilies;
        if (spec.ipFamilyPolicy == null && needsClusterIP(old)) spec.ipFamilyPolicy = old.spec?.ipFamilyPolicy;
        initIPFamilies(svc);
      }
    },
    prepareForStatusUpdate: keepRequestLabelsAndAnnotations,
    validate: validateService,
    validateUpdate: validateServiceUpdate,
    validateStatusUpdate(svc) {
      // ValidateLoadBalancerStatus: ingress points are IPs or hostnames.
      return (svc.status?.loadBalancer?.ingress ?? []).flatMap((ing, i) =>
        ing.ip ? ipErrors(ing.ip, `status.loadBalancer.ingress[${i}].ip`) : []);
    },
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'type determines how the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
      col('Cluster-IP', 'clusterIP is the IP address of the service, usually assigned randomly; "None" for a headless service.'),
      col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'The list of ports that are exposed by this service.'),
      AGE_COLUMN,
      col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', { priority: 1 }),
    ],
    row(svc) {
      const clusterIP = svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>';
      return [svc.metadata?.name, svc.spec?.type ?? '', clusterIP, serviceExternalIP(svc), servicePorts(svc), age(svc.metadata?.creationTimestamp), formatLabels(svc.spec?.selector)];
    },
  },
};

export default services;
