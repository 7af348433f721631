// What the Endpoints and EndpointSlice controllers share (upstream pkg/controller/util/endpoint
// and podutil.FindPort): which pods back a Service, and what a service port's targetPort
// means for one pod.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { fromLabelSelector, matchesLabels } from '../apimachinery/labels.js';

/** Services without a selector are managed by hand (or by a mirroring controller): leave them be. */
export const hasSelector = (svc: Service): boolean => Object.keys(svc.spec?.selector ?? {}).length > 0;

export const isHeadless = (svc: Service): boolean => svc.spec?.clusterIP === 'None';

export function selectsPod(svc: Service, pod: Pod): boolean {
  if (!hasSelector(svc) || pod.metadata?.namespace !== svc.metadata?.namespace) return false;
  return matchesLabels(fromLabelSelector({ matchLabels: svc.spec!.selector }), pod.metadata?.labels);
}

/** ShouldPodBeInEndpoints: an IP, not finished, and not terminating unless asked for. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  const phase = pod.status.phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** FindPort: a numeric targetPort as is, a named one looked up among the pod's container ports. */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The IP family of an address, as EndpointSlice's addressType names it. */
export const addressFamily = (ip: string): 'IPv4' | 'IPv6' => (ip.includes(':') ? 'IPv6' : 'IPv4');

/** A pod's hostname in the Service's DNS, when it asked for one under this Service's name. */
export function podHostname(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  if (h && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace) return h;
  return undefined;
}
