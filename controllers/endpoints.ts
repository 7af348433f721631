// The Endpoints controller (upstream pkg/controller/endpoint): one Endpoints object per
// Service with a selector, its subsets the selected pods' IPs, ready or not, with each
// service port resolved against the pod's own container ports.
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { keyOf, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { isPodReady } from './controller-utils.js';
import { canonicalJson } from './history.js';
import { findPort, hasSelector, isHeadless, podHostname, selectsPod, shouldPodBeInEndpoints } from './endpoints-utils.js';

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

function address(pod: Pod, svc: Service): Mutable<EndpointAddress> {
  const a: Mutable<EndpointAddress> = { ip: pod.status!.podIP! };
  const hostname = podHostname(pod, svc);
  if (hostname) a.hostname = hostname;
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  a.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return a;
}

interface Entry {
  address: Mutable<EndpointAddress>;
  ready: boolean;
  ports: Mutable<EndpointPort>[];
}

/**
 * The subsets the Service's pods add up to, repacked as RepackSubsets does: addresses
 * grouped by the exact set of ports they serve, everything sorted so equal inputs compare
 * equal.
 */
export function endpointSubsets(svc: Service, pods: Pod[]): Mutable<EndpointSubset>[] {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const entries: Entry[] = [];
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const ready = tolerateUnready || isPodReady(pod);
    // Not-ready pods being deleted are not coming back: upstream drops them.
    if (!ready && !shouldPodBeInEndpoints(pod, false)) continue;
    const servicePorts = svc.spec?.ports ?? [];
    if (servicePorts.length === 0) {
      if (isHeadless(svc)) entries.push({ address: address(pod, svc), ready, ports: [] });
      continue;
    }
    const ports: Mutable<EndpointPort>[] = [];
    for (const sp of servicePorts) {
      const port = findPort(pod, sp);
      // A pod without the named port simply does not serve that service port.
      if (port === undefined) continue;
      const p: Mutable<EndpointPort> = { port, protocol: sp.protocol ?? 'TCP' };
      if (sp.name) p.name = sp.name;
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    if (ports.length) entries.push({ address: address(pod, svc), ready, ports });
  }
  const groups = new Map<string, { ports: Mutable<EndpointPort>[]; ready: Mutable<EndpointAddress>[]; notReady: Mutable<EndpointAddress>[] }>();
  for (const e of entries) {
    const ports = [...e.ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
    const k = canonicalJson(ports);
    if (!groups.has(k)) groups.set(k, { ports, ready: [], notReady: [] });
    (e.ready ? groups.get(k)!.ready : groups.get(k)!.notReady).push(e.address);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress): number => a.ip.localeCompare(b.ip) || (a.targetRef?.name ?? '').localeCompare(b.targetRef?.name ?? '');
  return [...groups.keys()].sort().map((k) => {
    const g = groups.get(k)!;
    const s: Mutable<EndpointSubset> = {};
    if (g.ready.length) s.addresses = g.ready.sort(byIp);
    if (g.notReady.length) s.notReadyAddresses = g.notReady.sort(byIp);
    if (g.ports.length) s.ports = g.ports;
    return s;
  });
}

export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
export const MAX_ENDPOINTS = 1000;

/**
 * Endpoints hold at most 1000 addresses (EndpointSlices carry the rest); ready addresses are
 * kept before not-ready ones. Returns whether anything was cut.
 */
export function truncateSubsets(subsets: Mutable<EndpointSubset>[], max = MAX_ENDPOINTS): boolean {
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total <= max) return false;
  let budget = max;
  for (const s of subsets) {
    if (!s.addresses) continue;
    s.addresses = s.addresses.slice(0, budget);
    budget -= s.addresses.length;
    if (!s.addresses.length) delete s.addresses;
  }
  for (const s of subsets) {
    if (!s.notReadyAddresses) continue;
    s.notReadyAddresses = s.notReadyAddresses.slice(0, budget);
    budget -= s.notReadyAddresses.length;
    if (!s.notReadyAddresses.length) delete s.notReadyAddresses;
  }
  subsets.splice(0, subsets.length, ...subsets.filter((s) => s.addresses || s.notReadyAddresses));
  return true;
}

export function endpointsLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoint';
  private readonly queue = new WorkQueue();
  private services!: Informer<Service>;
  private pods!: Informer<Pod>;
  private endpoints!: Informer<Endpoints>;

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.services = ctx.informers.for<Service>('/api/v1/services');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.endpoints = ctx.informers.for<Endpoints>('/api/v1/endpoints');
    const enqueue = (o: Service | Endpoints): void => this.queue.add(keyOf(o));
    this.services.on('add', enqueue);
    this.services.on('update', enqueue);
    this.services.on('delete', enqueue);
    // Someone removed or edited our Endpoints: put it back.
    this.endpoints.on('delete', (e) => this.services.get(keyOf(e)) && enqueue(e));
    this.endpoints.on('update', (e) => this.services.get(keyOf(e)) && enqueue(e));
    const podChanged = (pod: Pod, old?: Pod): void => {
      for (const svc of this.services.list(pod.metadata?.namespace)) {
        if (selectsPod(svc, pod) || (old && selectsPod(svc, old))) enqueue(svc);
      }
    };
    this.pods.on('add', (p) => podChanged(p));
    this.pods.on('update', (p, old) => podChanged(p, old));
    this.pods.on('delete', (p) => podChanged(p));
    await Promise.all([this.services, this.pods, this.endpoints].map((i) => i.start(ctx.signal)));
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key), ctx.signal, ctx.log);
  }

  async sync(ctx: ControllerContext, key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const path = `/api/v1/namespaces/${namespace}/endpoints`;
    const svc = this.services.get(key);
    if (!svc) {
      // The Service is gone; its Endpoints go with it, as upstream deletes them.
      if (this.endpoints.get(key)) await ctx.client.delete(`${path}/${name}`).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      return;
    }
    if (!hasSelector(svc)) return;
    const subsets = endpointSubsets(svc, this.pods.list(namespace));
    const labels = endpointsLabels(svc);
    const truncated = truncateSubsets(subsets);
    const existing = this.endpoints.get(key);
    const annotations: Record<string, string> = { ...(existing?.metadata?.annotations ?? {}) };
    delete annotations[OVER_CAPACITY];
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    if (!existing) {
      const metadata = { name, namespace, labels, ...(truncated ? { annotations } : {}) };
      await ctx.client.create(path, { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets });
      return;
    }
    const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
    if (same(existing.subsets ?? [], subsets) && same(existing.metadata?.labels ?? {}, labels) && same(existing.metadata?.annotations ?? {}, annotations)) return;
    await ctx.client.update(`${path}/${name}`, { ...existing, apiVersion: 'v1', kind: 'Endpoints', metadata: { ...existing.metadata, labels, annotations }, subsets });
  }
}
