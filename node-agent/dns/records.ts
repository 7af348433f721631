// Answers one DNS question for the cluster zone the way CoreDNS's kubernetes plugin does (with
// `pods insecure` and the default TTL of 5 s), from the informer caches alone. Pure: no sockets,
// no clock; the server (server.ts) owns the wire format and forwarding.
//
// Names served (zone = cluster.local by default):
//   <svc>.<ns>.svc.<zone>                   ClusterIP(s), or every ready endpoint if headless,
//                                           or a CNAME to spec.externalName
//   <endpoint>.<svc>.<ns>.svc.<zone>        one endpoint, by hostname or else its dashed IP
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV (A/AAAA work on this form too, as in CoreDNS)
//   <a-b-c-d>.<ns>.pod.<zone>               the IP spelled in the name
//   d.c.b.a.in-addr.arpa                    PTR of a ClusterIP or endpoint address
import { isIP } from 'node:net';
import type { Answer, RecordType, SrvAnswer } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ClusterState } from '../network/types.js';

export type DnsState = Pick<ClusterState, 'services' | 'endpointSlices' | 'pods'> & Partial<Pick<ClusterState, 'namespaces'>>;

export interface RecordsOptions {
  /** Default cluster.local. */
  clusterDomain?: string;
  /** TTL of answers and of the SOA; CoreDNS's default is 5. */
  ttl?: number;
  /** SOA serial; CoreDNS uses the time of the last API change, any increasing number will do. */
  serial?: number;
}

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';

export interface ZoneAnswer {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /**
   * A CNAME whose target lies outside the zone (ExternalName): the server may resolve the
   * target upstream and append its records, as CoreDNS does.
   */
  externalTarget?: string;
}

/** Label set by the EndpointSlice controller that ties a slice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** The schema version of the Kubernetes DNS specification this implements. */
export const DNS_SCHEMA_VERSION = '1.1.0';
const DEFAULT_TTL = 5;

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** True for names this server answers authoritatively (the zone and everything under it). */
export function inZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  return n === z || n.endsWith(`.${z}`);
}

/** True for reverse names (PTR) this server tries before handing them on upstream. */
export function isReverseName(name: string): boolean {
  const n = normalizeName(name);
  return n.endsWith('.in-addr.arpa') || n.endsWith('.ip6.arpa') || n === 'in-addr.arpa' || n === 'ip6.arpa';
}

/** One backend record, CoreDNS's msg.Service: an address (or a name for ExternalName), a port, and the name it lives under. */
interface Backend {
  host: string;
  port: number;
  /** Labels below the zone, e.g. ['web-0', 'web', 'default', 'svc']. */
  labels: string[];
  /** The service protocol of the port, for SRV matching only. */
  protocol?: string;
}

interface ParsedRequest {
  podOrSvc: string;
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  protocol: string;
}

class NameError extends Error {}

/**
 * Answers `name`/`type` from the cluster state. Returns undefined for a name this server does
 * not own (outside the zone, or a reverse name that matches no ClusterIP or endpoint): the
 * caller forwards those upstream.
 */
export function answerQuestion(state: DnsState, question: { name: string; type: RecordType | string }, options: RecordsOptions = {}): ZoneAnswer | undefined {
  const zone = normalizeName(options.clusterDomain ?? 'cluster.local');
  const ttl = options.ttl ?? DEFAULT_TTL;
  const qname = question.name.replace(/\.+$/, '');
  const name = normalizeName(qname);
  const type = question.type;

  if (type === 'PTR' && isReverseName(name)) {
    const ip = reverseNameToIP(name);
    const target = ip ? ptrTarget(state, ip, zone) : undefined;
    if (!target) return undefined;
    return { rcode: 'NOERROR', answers: [{ type: 'PTR', name: qname, ttl, data: target }], authorities: [], additionals: [] };
  }
  if (!inZone(name, zone)) return undefined;

  const soa = soaRecord(zone, ttl, options.serial ?? 1);
  const nodata = (): ZoneAnswer => ({ rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] });
  const nxdomain = (): ZoneAnswer => ({ rcode: 'NXDOMAIN', answers: [], authorities: [soa], additionals: [] });

  if (name === zone) {
    if (type === 'SOA') return { rcode: 'NOERROR', answers: [{ ...soa, name: qname }], authorities: [], additionals: [] };
    if (type === 'NS') return { rcode: 'NOERROR', answers: [{ type: 'NS', name: qname, ttl, data: `ns.dns.${zone}` }], authorities: [], additionals: [] };
    return nodata();
  }
  if (name === `dns-version.${zone}`) {
    if (type === 'TXT') return { rcode: 'NOERROR', answers: [{ type: 'TXT', name: qname, ttl, data: DNS_SCHEMA_VERSION }], authorities: [], additionals: [] };
    return nodata();
  }

  let backends: Backend[] | undefined;
  try {
    const req = parseRequest(name.slice(0, name.length - zone.length - 1));
    backends = req.podOrSvc === 'pod' ? findPods(state, req) : findServices(state, req);
  } catch (e) {
    if (e instanceof NameError) return nxdomain();
    throw e;
  }
  if (backends === undefined) return nodata();

  const fqdn = (labels: string[]): string => [...labels, zone].join('.');
  const cname = backends.find((b) => isIP(b.host) === 0);
  if (cname) {
    // ExternalName: the CNAME answers every type; a target in our zone is resolved here too.
    const answers: Answer[] = [{ type: 'CNAME', name: qname, ttl, data: cname.host }];
    const target = normalizeName(cname.host);
    if (!inZone(target, zone)) return { rcode: 'NOERROR', answers, authorities: [], additionals: [], externalTarget: target };
    if (type === 'CNAME') return { rcode: 'NOERROR', answers, authorities: [], additionals: [] };
    const chased = target === name ? undefined : answerQuestion(state, { name: target, type }, options);
    if (chased) answers.push(...chased.answers.filter((a) => a.name !== qname));
    // The rcode is the final target's: a dangling in-zone alias is NXDOMAIN after its CNAME.
    return { rcode: chased?.rcode ?? 'NOERROR', answers, authorities: chased && chased.answers.length === 0 ? chased.authorities : [], additionals: chased?.additionals ?? [] };
  }

  switch (type) {
    case 'A':
    case 'AAAA': {
      const family = type === 'A' ? 4 : 6;
      const ips = unique(backends.filter((b) => isIP(b.host) === family).map((b) => b.host));
      if (ips.length === 0) return nodata();
      return { rcode: 'NOERROR', answers: ips.map((ip) => ({ type, name: qname, ttl, data: ip })), authorities: [], additionals: [] };
    }
    case 'SRV': {
      // Sentinel ports (-1, from a service or slice without ports) give no SRV records.
      const withPorts = backends.filter((b) => b.port >= 0);
      if (withPorts.length === 0) return nodata();
      const seen = new Set<string>();
      const srv: SrvAnswer[] = [];
      const additionals: Answer[] = [];
      const weight = Math.floor(100 / withPorts.length) || 1;
      for (const b of withPorts) {
        const target = fqdn(b.labels);
        const key = `${target}/${b.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        srv.push({ type: 'SRV', name: qname, ttl, data: { priority: 0, weight, port: b.port, target } });
        const family = isIP(b.host);
        if (!additionals.some((a) => a.name === target && a.type !== 'OPT' && a.data === b.host)) {
          additionals.push({ type: family === 6 ? 'AAAA' : 'A', name: target, ttl, data: b.host });
        }
      }
      return { rcode: 'NOERROR', answers: srv, authorities: [], additionals };
    }
    default:
      return nodata();
  }
}

function soaRecord(zone: string, ttl: number, serial: number): Answer {
  return {
    type: 'SOA',
    name: zone,
    ttl,
    data: { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl },
  };
}

// Mirrors CoreDNS's parseRequest: counted from the zone, the labels are svc|pod, namespace,
// service, then either one endpoint label or a port and protocol pair; anything longer is
// a name that cannot exist.
function parseRequest(base: string): ParsedRequest {
  const segs = base.split('.').filter((s) => s !== '');
  const r: ParsedRequest = { podOrSvc: '', namespace: '', service: '', endpoint: '', port: '', protocol: '' };
  let last = segs.length - 1;
  r.podOrSvc = segs[last] ?? '';
  if (r.podOrSvc !== 'pod' && r.podOrSvc !== 'svc') throw new NameError();
  if (--last < 0) return r;
  r.namespace = segs[last];
  if (--last < 0) return r;
  r.service = segs[last];
  if (--last < 0) return r;
  if (last === 0) r.endpoint = segs[0];
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]);
    r.port = stripUnderscore(segs[0]);
  } else throw new NameError();
  return r;
}

const stripUnderscore = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);

function namespaceExists(state: DnsState, namespace: string): boolean {
  if (state.namespaces) return state.namespaces.get(namespace) !== undefined;
  // Without a namespace cache, a namespace is known by what lives in it.
  return state.services.list(namespace).length > 0 || state.pods.list(namespace).length > 0;
}

/** undefined: the name exists but holds no records (NODATA). Throws NameError for NXDOMAIN. */
function findPods(state: DnsState, r: ParsedRequest): Backend[] | undefined {
  if (r.namespace === '') return undefined;
  if (!namespaceExists(state, r.namespace)) throw new NameError();
  if (r.service === '') return undefined;
  if (r.endpoint !== '' || r.port !== '') throw new NameError();
  // `pods insecure`: the name spells the address; no lookup of the pod itself.
  const ip = dashedToIP(r.service);
  if (!ip) throw new NameError();
  return [{ host: ip, port: -1, labels: [r.service, r.namespace, 'pod'] }];
}

function findServices(state: DnsState, r: ParsedRequest): Backend[] | undefined {
  if (r.namespace === '') return undefined;
  if (!namespaceExists(state, r.namespace)) throw new NameError();
  if (r.service === '') return undefined;
  const svc = state.services.list(r.namespace).find((s) => s.metadata?.name?.toLowerCase() === r.service);
  if (!svc) throw new NameError();
  const spec = svc.spec ?? {};
  const name = svc.metadata!.name!.toLowerCase();
  const base = [name, r.namespace, 'svc'];

  if (spec.type === 'ExternalName') {
    // An endpoint or port label under an ExternalName service names nothing.
    if (r.endpoint !== '' || !spec.externalName) throw new NameError();
    return [{ host: normalizeName(spec.externalName), port: -1, labels: base }];
  }

  const out: Backend[] = [];
  if (isHeadless(svc) || r.endpoint !== '') {
    for (const ep of readyEndpoints(state, svc)) {
      if (r.endpoint !== '' && ep.name !== r.endpoint) continue;
      for (const p of ep.ports) {
        if (!matchPortAndProtocol(r.port, p.name, r.protocol, p.protocol)) continue;
        out.push({ host: ep.address, port: p.port, labels: [ep.name, ...base], protocol: p.protocol });
      }
    }
  } else {
    const ports = spec.ports?.length ? spec.ports : [{ port: -1, name: '', protocol: 'TCP' }];
    const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    for (const p of ports) {
      if (!matchPortAndProtocol(r.port, p.name ?? '', r.protocol, p.protocol ?? 'TCP')) continue;
      for (const ip of ips) out.push({ host: ip, port: p.port, labels: base, protocol: p.protocol ?? 'TCP' });
    }
  }
  if (out.length === 0) throw new NameError();
  return out;
}

function matchPortAndProtocol(wantPort: string, port: string, wantProtocol: string, protocol: string): boolean {
  if (wantPort !== '' && wantPort !== port.toLowerCase()) return false;
  if (wantProtocol !== '' && wantProtocol !== protocol.toLowerCase()) return false;
  return true;
}

function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

interface ReadyEndpoint {
  address: string;
  /** hostname, or the address with dashes: the label the endpoint answers to. */
  name: string;
  ports: { name: string; port: number; protocol: string }[];
}

function readyEndpoints(state: DnsState, svc: Service): ReadyEndpoint[] {
  const ns = svc.metadata?.namespace;
  const out: ReadyEndpoint[] = [];
  const seen = new Set<string>();
  const slices = state.endpointSlices.list(ns).filter((s: EndpointSlice) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === svc.metadata?.name);
  for (const slice of slices) {
    // A slice without ports still publishes its addresses (CoreDNS's sentinel port -1).
    const ports = slice.ports?.length
      ? slice.ports.map((p) => ({ name: (p.name ?? '').toLowerCase(), port: p.port ?? -1, protocol: p.protocol ?? 'TCP' }))
      : [{ name: '', port: -1, protocol: 'TCP' }];
    for (const ep of slice.endpoints ?? []) {
      // Unset readiness means ready; the controller already marks publishNotReadyAddresses endpoints ready.
      if (ep.conditions?.ready === false && !svc.spec?.publishNotReadyAddresses) continue;
      for (const address of ep.addresses ?? []) {
        const key = `${address}/${slice.addressType ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ address, name: (ep.hostname ?? '').toLowerCase() || ipToDashed(address), ports });
      }
    }
  }
  return out;
}

function ipToDashed(ip: string): string {
  return ip.includes(':') ? ip.replace(/:/g, '-') : ip.replace(/\./g, '-');
}

function dashedToIP(label: string): string | undefined {
  const v4 = label.replace(/-/g, '.');
  if (isIP(v4) === 4) return v4;
  const v6 = label.replace(/-/g, ':');
  if (isIP(v6) === 6) return v6;
  return undefined;
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function reverseNameToIP(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    const ip = parts.reverse().join('.');
    return isIP(ip) === 4 ? ip : undefined;
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const ip = hex.match(/.{4}/g)!.join(':');
    return isIP(ip) === 6 ? ip : undefined;
  }
  return undefined;
}

function sameIP(a: string, b: string): boolean {
  if (a === b) return true;
  if (isIP(a) !== 6 || isIP(b) !== 6) return false;
  return expandIPv6(a) === expandIPv6(b);
}

function expandIPv6(ip: string): string {
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t].map((g) => g.padStart(4, '0')).join(':');
}

// Services first, as CoreDNS's serviceRecordForIP: a ClusterIP names the service, an endpoint
// address names the endpoint under its service.
function ptrTarget(state: DnsState, ip: string, zone: string): string | undefined {
  for (const svc of state.services.list()) {
    const spec = svc.spec ?? {};
    if (isHeadless(svc) || spec.type === 'ExternalName') continue;
    const ips = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
    if (ips.some((x) => sameIP(x, ip))) return `${svc.metadata!.name}.${svc.metadata!.namespace}.svc.${zone}`.toLowerCase();
  }
  for (const svc of state.services.list()) {
    for (const ep of readyEndpoints(state, svc)) {
      if (sameIP(ep.address, ip)) return `${ep.name}.${svc.metadata!.name}.${svc.metadata!.namespace}.svc.${zone}`.toLowerCase();
    }
  }
  return undefined;
}
