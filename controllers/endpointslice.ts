// The EndpointSlice controller (upstream pkg/controller/endpointslice): the selected pods
// of each Service as discovery.k8s.io/v1 EndpointSlices of at most 100 endpoints, one set
// per address family and distinct port list, with ready/serving/terminating conditions.
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { isNotFound } from './framework/client.js';
import { runWorkers, type Controller, type ControllerContext } from './framework/controller.js';
import { keyOf, type Informer } from './framework/informer.js';
import { WorkQueue } from './framework/workqueue.js';
import { isPodReady } from './controller-utils.js';
import { canonicalJson } from './history.js';
import { addressFamily, findPort, hasSelector, isHeadless, podHostname, selectsPod, shouldPodBeInEndpoints } from './endpoints-utils.js';
import { HEADLESS_LABEL } from './endpoints.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

type SlicePort = Mutable<EndpointPort>;

export interface DesiredSlice {
  addressType: 'IPv4' | 'IPv6';
  ports: SlicePort[];
  endpoints: Mutable<Endpoint>[];
}

export function podToEndpoint(pod: Pod, svc: Service, ip: string, zoneOf: (node: string) => string | undefined = () => undefined): Mutable<Endpoint> {
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const ep: Mutable<Endpoint> = {
    addresses: [ip],
    conditions: { ready: svc.spec?.publishNotReadyAddresses === true || (serving && !terminating), serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  const hostname = podHostname(pod, svc);
  if (hostname) ep.hostname = hostname;
  if (pod.spec?.nodeName) {
    ep.nodeName = pod.spec.nodeName;
    const zone = zoneOf(pod.spec.nodeName);
    if (zone) ep.zone = zone;
  }
  return ep;
}

function podPorts(pod: Pod, svc: Service): SlicePort[] {
  const out: SlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0));
}

const groupKey = (addressType: string, ports: readonly EndpointPort[]): string => `${addressType}|${canonicalJson(ports)}`;

/** The slices a Service should have: terminating pods included, as upstream does for slices. */
export function desiredSlices(svc: Service, pods: Pod[], zoneOf?: (node: string) => string | undefined): DesiredSlice[] {
  const families = (svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4']) as ('IPv4' | 'IPv6')[];
  const groups = new Map<string, DesiredSlice>();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !shouldPodBeInEndpoints(pod, true)) continue;
    const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip ?? '') : [pod.status!.podIP!];
    const ports = podPorts(pod, svc);
    for (const family of families) {
      const ip = ips.find((x) => addressFamily(x) === family);
      if (!ip) continue;
      const k = groupKey(family, ports);
      if (!groups.has(k)) groups.set(k, { addressType: family, ports, endpoints: [] });
      groups.get(k)!.endpoints.push(podToEndpoint(pod, svc, ip, zoneOf));
    }
  }
  const out: DesiredSlice[] = [];
  for (const k of [...groups.keys()].sort()) {
    const g = groups.get(k)!;
    g.endpoints.sort((a, b) => a.addresses[0].localeCompare(b.addresses[0]));
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      out.push({ ...g, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
    }
  }
  // A Service with nothing behind it keeps one empty placeholder slice, as upstream.
  if (out.length === 0) out.push({ addressType: families[0], ports: [], endpoints: [] });
  return out;
}

export function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata!.name!;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  return labels;
}

export interface SlicePlan {
  create: DesiredSlice[];
  update: { slice: EndpointSlice; desired: DesiredSlice }[];
  remove: EndpointSlice[];
}

/** Reuses existing slices with the same family and ports, fills new ones, drops the rest. */
export function planSlices(existing: EndpointSlice[], desired: DesiredSlice[], labels: Record<string, string>): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], remove: [] };
  const pool = new Map<string, EndpointSlice[]>();
  for (const s of [...existing].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
    const k = groupKey(s.addressType, s.ports ?? []);
    if (!pool.has(k)) pool.set(k, []);
    pool.get(k)!.push(s);
  }
  for (const d of desired) {
    const reuse = pool.get(groupKey(d.addressType, d.ports))?.shift();
    if (!reuse) plan.create.push(d);
    else if (
      canonicalJson(reuse.endpoints ?? []) !== canonicalJson(d.endpoints) ||
      canonicalJson(reuse.metadata?.labels ?? {}) !== canonicalJson(labels)
    ) plan.update.push({ slice: reuse, desired: d });
  }
  for (const rest of pool.values()) plan.remove.push(...rest);
  return plan;
}

const EXPECTATION_WAIT_MS = 10_000;

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  private readonly queue = new WorkQueue();
  private services!: Informer<Service>;
  private pods!: Informer<Pod>;
  private slices!: Informer<EndpointSlice>;
  private nodes!: Informer<Node>;
  /**
   * Slices we wrote but the cache may not show yet (upstream's EndpointSliceTracker): until
   * it does, a sync would act on stale slices and create duplicates.
   */
  private readonly pending = new Map<string, { writes: Map<string, string | null>; since: number }>();

  async run(ctx: ControllerContext, workers: number): Promise<void> {
    this.services = ctx.informers.for<Service>('/api/v1/services');
    this.pods = ctx.informers.for<Pod>('/api/v1/pods');
    this.slices = ctx.informers.for<EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices');
    this.nodes = ctx.informers.for<Node>('/api/v1/nodes');
    const enqueue = (o: Service): void => this.queue.add(keyOf(o));
    this.services.on('add', enqueue);
    this.services.on('update', enqueue);
    this.services.on('delete', enqueue);
    const sliceChanged = (s: EndpointSlice): void => {
      const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (svc && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) this.queue.add(`${s.metadata?.namespace}/${svc}`);
    };
    this.slices.on('add', sliceChanged);
    this.slices.on('update', sliceChanged);
    this.slices.on('delete', sliceChanged);
    const podChanged = (pod: Pod, old?: Pod): void => {
      for (const svc of this.services.list(pod.metadata?.namespace)) {
        if (selectsPod(svc, pod) || (old && selectsPod(svc, old))) enqueue(svc);
      }
    };
    this.pods.on('add', (p) => podChanged(p));
    this.pods.on('update', (p, old) => podChanged(p, old));
    this.pods.on('delete', (p) => podChanged(p));
    // A node's zone is copied onto its endpoints: resync every service when zones change.
    this.nodes.on('add', (n) => {
      if (n.metadata?.labels?.[ZONE_LABEL]) this.services.list().forEach(enqueue);
    });
    this.nodes.on('update', (n, old) => {
      if (n.metadata?.labels?.[ZONE_LABEL] !== old?.metadata?.labels?.[ZONE_LABEL]) this.services.list().forEach(enqueue);
    });
    await Promise.all([this.services, this.pods, this.slices, this.nodes].map((i) => i.start(ctx.signal)));
    await runWorkers(this.queue, workers, (key) => this.sync(ctx, key), ctx.signal, ctx.log);
  }

  private cacheCaughtUp(key: string): boolean {
    const p = this.pending.get(key);
    if (!p) return true;
    const ns = key.split('/')[0];
    const seen = [...p.writes].every(([name, rv]) => {
      const cached = this.slices.get(`${ns}/${name}`);
      if (rv === null) return !cached;
      const have = cached?.metadata?.resourceVersion;
      if (!have) return false;
      return /^\d+$/.test(have) && /^\d+$/.test(rv) ? BigInt(have) >= BigInt(rv) : have === rv;
    });
    if (seen || Date.now() - p.since > EXPECTATION_WAIT_MS) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  async sync(ctx: ControllerContext, key: string): Promise<void> {
    if (!this.cacheCaughtUp(key)) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
    const existing = this.slices
      .list(namespace)
      .filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name && s.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
    const svc = this.services.get(key);
    const writes = new Map<string, string | null>();
    const del = async (s: EndpointSlice): Promise<void> => {
      try {
        await ctx.client.delete(`${path}/${s.metadata?.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      writes.set(s.metadata!.name!, null);
    };
    try {
      // Upstream leaves this to the garbage collector; deleting our own slices is the same end.
      if (!svc) {
        for (const s of existing) await del(s);
        return;
      }
      // Services without a selector get their slices out of band: not ours to touch.
      if (!hasSelector(svc)) return;
      const labels = sliceLabels(svc);
      const zoneOf = (node: string): string | undefined => this.nodes.get(node)?.metadata?.labels?.[ZONE_LABEL];
      const plan = planSlices(existing, desiredSlices(svc, this.pods.list(namespace), zoneOf), labels);
      const owner = { apiVersion: 'v1', kind: 'Service', name, uid: svc.metadata!.uid!, controller: true, blockOwnerDeletion: true };
      for (const d of plan.create) {
        const created = await ctx.client.create<EndpointSlice>(path, {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [owner] },
          addressType: d.addressType,
          endpoints: d.endpoints,
          ports: d.ports,
        });
        writes.set(created.metadata!.name!, created.metadata!.resourceVersion!);
      }
      for (const { slice, desired } of plan.update) {
        const updated = await ctx.client.update<EndpointSlice>(`${path}/${slice.metadata?.name}`, {
          ...slice,
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { ...slice.metadata, labels },
          endpoints: desired.endpoints,
          ports: desired.ports,
        });
        writes.set(updated.metadata!.name!, updated.metadata!.resourceVersion!);
      }
      for (const s of plan.remove) await del(s);
    } finally {
      if (writes.size) this.pending.set(key, { writes, since: Date.now() });
    }
  }
}
