// Service validation, as upstream's ValidateService / ValidateServiceUpdate. Cluster IPs and node
// ports may still be unallocated when this runs (the store allocates them), so empty values pass.
import { isIP } from 'node:net';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { FieldError } from '../../apimachinery/errors.js';
import { fieldErrors, isDNS1123Subdomain, validateLabels } from '../../apimachinery/validation.js';
import {
  duplicateValue, invalidValue, labelErrors, portNumErrors, portNumOrNameErrors, protocolErrors, qualifiedNameErrors, specialIPErrors,
} from './core-helpers.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

export const isHeadless = (svc: Service) => svc.spec?.clusterIP === 'None';
/** service.ExternallyAccessible. */
export const externallyAccessible = (svc: Service) =>
  svc.spec?.type === 'LoadBalancer' || svc.spec?.type === 'NodePort' || (svc.spec?.type === 'ClusterIP' && !!svc.spec?.externalIPs?.length);

function portErrors(sp: ServicePort, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(fieldErrors.required(`${path}.name`));
  else if (sp.name) {
    errs.push(...labelErrors(sp.name, `${path}.name`));
    if (names.has(sp.name)) errs.push(fieldErrors.duplicate(`${path}.name`, sp.name));
    else names.add(sp.name);
  }
  errs.push(...portNumErrors(sp.port).map((m) => fieldErrors.invalid(`${path}.port`, sp.port, m)));
  errs.push(...protocolErrors(sp.protocol, `${path}.protocol`));
  errs.push(...portNumOrNameErrors(sp.targetPort, `${path}.targetPort`));
  if (sp.appProtocol != null) errs.push(...qualifiedNameErrors(sp.appProtocol, `${path}.appProtocol`));
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields. */
function clusterIPErrors(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(fieldErrors.required('spec.clusterIPs'));
    else if (ips[0] !== spec.clusterIP) errs.push(invalidValue('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  } else if (ips.length) {
    errs.push(invalidValue('spec.clusterIPs', ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (!['IPv4', 'IPv6'].includes(f)) errs.push(fieldErrors.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(fieldErrors.duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  const policy = spec.ipFamilyPolicy;
  if (policy != null && !['PreferDualStack', 'RequireDualStack', 'SingleStack'].includes(policy)) {
    errs.push(fieldErrors.notSupported('spec.ipFamilyPolicy', policy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) { badIPs = true; errs.push(invalidValue('spec.clusterIPs', ips, "'None' must be the first and only value")); }
      return;
    }
    if (!isIP(ip)) {
      badIPs = true;
      errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    }
  });
  if (ips.length > 2) errs.push(invalidValue('spec.clusterIPs', ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && isIP(ips[0]) === isIP(ips[1])) errs.push(invalidValue('spec.clusterIPs', ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadless(svc)) {
    ips.forEach((ip, i) => {
      const family = spec.ipFamilies?.[i];
      if (family === 'IPv4' && isIP(ip) === 6) errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (family === 'IPv6' && isIP(ip) !== 6) errs.push(fieldErrors.invalid(`spec.clusterIPs[${i}]`, ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function trafficPolicyErrors(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  const errs: FieldError[] = [];
  const etp = spec.externalTrafficPolicy;
  if (!externallyAccessible(svc)) {
    if (etp) errs.push(fieldErrors.invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  } else if (!etp) errs.push(fieldErrors.required('spec.externalTrafficPolicy'));
  else if (!['Cluster', 'Local'].includes(etp)) errs.push(fieldErrors.notSupported('spec.externalTrafficPolicy', etp, ['Cluster', 'Local']));
  const needsHealthCheck = spec.type === 'LoadBalancer' && etp === 'Local';
  const hc = spec.healthCheckNodePort ?? 0;
  if (!needsHealthCheck && hc !== 0) {
    errs.push(fieldErrors.invalid('spec.healthCheckNodePort', hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (needsHealthCheck && hc !== 0) {
    errs.push(...portNumErrors(hc).map((m) => fieldErrors.invalid('spec.healthCheckNodePort', hc, m)));
  }
  const itp = spec.internalTrafficPolicy;
  if (itp == null && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type ?? '')) errs.push(fieldErrors.required('spec.internalTrafficPolicy'));
  if (itp != null && !['Cluster', 'Local'].includes(itp)) errs.push(fieldErrors.notSupported('spec.internalTrafficPolicy', itp, ['Cluster', 'Local']));
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  const spec = svc.spec ?? {};
  const errs: FieldError[] = [];
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !isHeadless(svc) && spec.type !== 'ExternalName') errs.push(fieldErrors.required('spec.ports'));
  switch (spec.type) {
    case 'LoadBalancer':
      ports.forEach((p, i) => {
        if (p.port === 10250) errs.push(fieldErrors.invalid(`spec.ports[${i}]`, p.port, 'may not expose port 10250 externally since it is used by kubelet'));
      });
      if (isHeadless(svc)) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', spec.clusterIPs?.[0] ?? 'None', "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (isHeadless(svc)) errs.push(fieldErrors.invalid('spec.clusterIPs[0]', spec.clusterIPs?.[0] ?? 'None', "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (spec.clusterIPs?.length) errs.push(fieldErrors.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (spec.ipFamilies?.length) errs.push(fieldErrors.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy != null) errs.push(fieldErrors.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      const cname = (spec.externalName ?? '').replace(/\.$/, '');
      if (cname) errs.push(...isDNS1123Subdomain(cname).map((m) => fieldErrors.invalid('spec.externalName', cname, m)));
      else errs.push(fieldErrors.required('spec.externalName'));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...portErrors(p, ports.length > 1, names, `spec.ports[${i}]`)));
  if (spec.selector) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = spec.sessionAffinity;
  if (!affinity) errs.push(fieldErrors.required('spec.sessionAffinity'));
  else if (!['ClientIP', 'None'].includes(affinity)) errs.push(fieldErrors.notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  if (affinity === 'ClientIP') {
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
    if (timeout == null) errs.push(fieldErrors.required('spec.sessionAffinityConfig.clientIP.timeoutSeconds'));
    else if (timeout <= 0 || timeout > 86400) errs.push(fieldErrors.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, 'must be greater than 0 and less than 86400'));
  } else if (affinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(fieldErrors.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...clusterIPErrors(svc));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const path = `spec.externalIPs[${i}]`;
    errs.push(...(isIP(ip) ? specialIPErrors(ip, path) : [fieldErrors.invalid(path, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')]));
  });
  if (!spec.type) errs.push(fieldErrors.required('spec.type'));
  else if (!SERVICE_TYPES.includes(spec.type)) errs.push(fieldErrors.notSupported('spec.type', spec.type, SERVICE_TYPES));
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => { if (p.nodePort) errs.push(fieldErrors.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'")); });
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    if (p.nodePort) {
      const key = `${p.protocol}/${p.nodePort}`;
      if (nodePorts.has(key)) errs.push(fieldErrors.duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(key);
    }
    const key = `${p.protocol}/${p.port}`;
    if (portKeys.has(key)) errs.push(duplicateValue(`spec.ports[${i}]`, { port: p.port, protocol: p.protocol }));
    portKeys.add(key);
  });
  if (spec.loadBalancerSourceRanges?.length && spec.type !== 'LoadBalancer') {
    errs.push(fieldErrors.forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer') {
    errs.push(fieldErrors.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null) errs.push(fieldErrors.required('allocateLoadBalancerNodePorts'));
  if (spec.loadBalancerClass != null && spec.type !== 'LoadBalancer') {
    errs.push(fieldErrors.forbidden('spec.loadBalancerClass', "may only be used when service type is 'LoadBalancer'"));
  }
  errs.push(...trafficPolicyErrors(svc));
  return errs;
}

/** validateUpgradeDowngradeClusterIPs and the primary IP family rule. */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (spec.type === 'ExternalName' || oldSpec.type === 'ExternalName') return errs;
  if (isHeadless(svc) && isHeadless(old)) return errs;
  const ips = spec.clusterIPs ?? [];
  const oldIPs = oldSpec.clusterIPs ?? [];
  if (ips.length === oldIPs.length) {
    oldIPs.forEach((ip, i) => { if (ip !== ips[i]) errs.push(invalidValue(`spec.clusterIPs[${i}]`, ips, 'may not change once set')); });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0) errs.push(invalidValue('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'));
    else if (ips[0] !== oldIPs[0]) errs.push(invalidValue('spec.clusterIPs[0]', ips, 'may not change once set'));
    if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalidValue('spec.clusterIPs[0]', ips, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(invalidValue('spec.clusterIPs[0]', ips, 'may not change once set'));
  }
  const fams = spec.ipFamilies ?? [];
  const oldFams = oldSpec.ipFamilies ?? [];
  if (oldFams.length && fams.length && fams[0] !== oldFams[0]) errs.push(invalidValue('spec.ipFamilies[0]', fams, 'may not change once set'));
  return errs;
}
