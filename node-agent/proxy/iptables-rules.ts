// The service proxy's iptables rules, computed from Services and EndpointSlices the way
// kube-proxy's iptables proxier lays them out. Pure: no I/O, so the whole table can be checked
// in unit tests and written atomically by the caller.
//
// nat:    PREROUTING/OUTPUT -> <p>SERVICES -> <p>SVC-x (random balance) -> <p>SEP-y (DNAT)
//         <p>SERVICES (last rule, dst-type LOCAL) -> <p>NODEPORTS -> <p>EXT-x -> <p>SVC-x
//         POSTROUTING -> <p>POSTROUTING (masquerade packets carrying the mark bit)
// filter: FORWARD/OUTPUT (NEW) -> <p>SERVICES (REJECT ports without endpoints)
//         INPUT/FORWARD (NEW) -> <p>EXTERNAL-SERVICES (REJECT node ports without endpoints)
//         FORWARD -> <p>FORWARD (accept service traffic Docker's FORWARD policy would drop)
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { NodeNetworkConfig } from '../network/types.js';

/** iptables refuses longer chain names. */
export const MAX_CHAIN_NAME = 28;
export const DEFAULT_CHAIN_PREFIX = 'PODIUM-';
/** kube-proxy's masquerade bit; only this bit of the mark is read or changed. */
export const DEFAULT_MASQUERADE_MARK = 0x4000;
/** Upstream default for sessionAffinity ClientIP (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface TableRules {
  /** Every chain this table owns after the sync (declared, hence flushed, in the restore). */
  chains: string[];
  /** `-A CHAIN ...` lines. */
  rules: string[];
}

export interface ProxyRules {
  nat: TableRules;
  filter: TableRules;
}

export interface ProxyRulesInput {
  services: Service[];
  endpointSlices: EndpointSlice[];
  config: Pick<NodeNetworkConfig, 'podCIDR'>;
  chainPrefix?: string;
  masqueradeMark?: number;
}

/** The fixed chains of a prefix, by role. */
export function fixedChains(prefix: string): {
  services: string;
  nodePorts: string;
  postrouting: string;
  markMasq: string;
  externalServices: string;
  forward: string;
} {
  // EXTERNAL-SERVICES is the longest fixed name (17 chars).
  if (prefix.length > MAX_CHAIN_NAME - 17) throw new Error(`chain prefix ${prefix} is too long (max ${MAX_CHAIN_NAME - 17} chars)`);
  return {
    services: `${prefix}SERVICES`,
    nodePorts: `${prefix}NODEPORTS`,
    postrouting: `${prefix}POSTROUTING`,
    markMasq: `${prefix}MARK-MASQ`,
    externalServices: `${prefix}EXTERNAL-SERVICES`,
    forward: `${prefix}FORWARD`,
  };
}

/**
 * Whether a chain is one this proxy creates: its fixed chains or a per-service/endpoint chain.
 * Matching the name shapes, not just the prefix, keeps other components that share the
 * `PODIUM-` prefix (network policy, …) safe from stale-chain deletion.
 */
export function isProxyChain(prefix: string, chain: string): boolean {
  if (Object.values(fixedChains(prefix)).includes(chain)) return true;
  if (!chain.startsWith(prefix)) return false;
  return /^(SVC|SEP|EXT)-[A-Z2-7]+$/.test(chain.slice(prefix.length));
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(buf: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** `<prefix><kind>-<hash>`, the hash cut so the name fits iptables' limit (16 chars like upstream when room allows). */
export function hashedChain(prefix: string, kind: 'SVC' | 'SEP' | 'EXT', key: string): string {
  const room = Math.min(16, MAX_CHAIN_NAME - prefix.length - kind.length - 1);
  if (room < 8) throw new Error(`chain prefix ${prefix} is too long`);
  return `${prefix}${kind}-${base32(createHash('sha256').update(key).digest()).slice(0, room)}`;
}

interface Endpoint {
  ip: string;
  port: number;
}

/** The slice port name for a service port: the service port's name, '' when unnamed. */
const portName = (p: ServicePort): string => p.name ?? '';

/**
 * The endpoints a service port balances over: ready ones, or — only when none is ready —
 * those both serving and terminating (upstream's graceful termination fallback).
 */
export function serviceEndpoints(service: Service, port: ServicePort, slices: EndpointSlice[]): Endpoint[] {
  const name = portName(port);
  const protocol = port.protocol ?? 'TCP';
  const ready = new Map<string, Endpoint>();
  const terminating = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    if (slice.metadata?.namespace !== service.metadata?.namespace) continue;
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== service.metadata?.name) continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === name && (p.protocol ?? 'TCP') === protocol);
    if (sp?.port === undefined || sp.port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const isReady = ep.conditions?.ready !== false;
      const serving = ep.conditions?.serving ?? isReady;
      const isTerminating = ep.conditions?.terminating ?? false;
      const e = { ip, port: sp.port };
      const key = `${ip}:${sp.port}`;
      if (isReady) ready.set(key, e);
      else if (serving && isTerminating) terminating.set(key, e);
    }
  }
  const chosen = ready.size ? ready : terminating;
  return [...chosen.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

const isIPv4 = (ip: string | undefined): ip is string => !!ip && ip !== 'None' && !ip.includes(':');

function protoMatch(protocol: string, port: number): string {
  const p = protocol.toLowerCase();
  return `-p ${p} -m ${p} --dport ${port}`;
}

export function computeProxyRules(input: ProxyRulesInput): ProxyRules {
  const prefix = input.chainPrefix ?? DEFAULT_CHAIN_PREFIX;
  const mark = `0x${(input.masqueradeMark ?? DEFAULT_MASQUERADE_MARK).toString(16)}`;
  const fixed = fixedChains(prefix);
  const nat: TableRules = { chains: [fixed.services, fixed.nodePorts, fixed.postrouting, fixed.markMasq], rules: [] };
  const filter: TableRules = { chains: [fixed.services, fixed.externalServices, fixed.forward], rules: [] };
  // Chain bodies are gathered apart so each chain's rules stay together and in order.
  const natServices: string[] = [];
  const natNodePorts: string[] = [];
  const perServiceNat: string[] = [];

  const services = [...input.services].sort((a, b) => key(a).localeCompare(key(b)));
  for (const svc of services) {
    const spec = svc.spec;
    if (!spec || spec.type === 'ExternalName') continue;
    const clusterIP = spec.clusterIP;
    // Headless services resolve to pod IPs through DNS; there is no virtual IP to program.
    if (!isIPv4(clusterIP)) continue;
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    const externalIPs = [...(spec.externalIPs ?? []), ...(svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip)].filter(isIPv4);
    const affinity = spec.sessionAffinity === 'ClientIP';
    const affinitySeconds = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS;

    for (const port of spec.ports ?? []) {
      const protocol = port.protocol ?? 'TCP';
      const svcPortName = `${ns}/${name}${port.name ? `:${port.name}` : ''}`;
      const hashKey = `${ns}/${name}:${port.name ?? ''}${protocol.toLowerCase()}`;
      const svcChain = hashedChain(prefix, 'SVC', hashKey);
      const extChain = hashedChain(prefix, 'EXT', hashKey);
      const endpoints = serviceEndpoints(svc, port, input.endpointSlices);
      const nodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? port.nodePort : undefined;
      const match = protoMatch(protocol, port.port);

      if (!endpoints.length) {
        // No nat rules at all: the packet keeps its virtual destination and the filter table
        // refuses it, so clients get "connection refused" instead of a timeout.
        const c = `-m comment --comment "${svcPortName} has no endpoints"`;
        filter.rules.push(`-A ${fixed.services} ${c} -d ${clusterIP}/32 ${match} -j REJECT`);
        for (const ip of externalIPs) filter.rules.push(`-A ${fixed.services} ${c} -d ${ip}/32 ${match} -j REJECT`);
        if (nodePort) filter.rules.push(`-A ${fixed.externalServices} ${c} -m addrtype --dst-type LOCAL ${protoMatch(protocol, nodePort)} -j REJECT`);
        continue;
      }

      nat.chains.push(svcChain);
      natServices.push(`-A ${fixed.services} -m comment --comment "${svcPortName} cluster IP" -d ${clusterIP}/32 ${match} -j ${svcChain}`);
      const needsExt = externalIPs.length > 0 || !!nodePort;
      if (needsExt) {
        nat.chains.push(extChain);
        for (const ip of externalIPs) natServices.push(`-A ${fixed.services} -m comment --comment "${svcPortName} external IP" -d ${ip}/32 ${match} -j ${extChain}`);
        if (nodePort) natNodePorts.push(`-A ${fixed.nodePorts} -m comment --comment "${svcPortName}" ${protoMatch(protocol, nodePort)} -j ${extChain}`);
        // Traffic from outside (incl. 127.0.0.1 via route_localnet) must come back through this
        // node, so it is always source-NATed (externalTrafficPolicy Cluster).
        perServiceNat.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${svcPortName} external destinations" -j ${fixed.markMasq}`);
        perServiceNat.push(`-A ${extChain} -j ${svcChain}`);
      }

      // Callers outside the pod network (the node itself) would get replies straight from the pod.
      perServiceNat.push(`-A ${svcChain} -m comment --comment "${svcPortName} cluster IP" ! -s ${input.config.podCIDR} -d ${clusterIP}/32 ${match} -j ${fixed.markMasq}`);
      const sepChains = endpoints.map((e) => hashedChain(prefix, 'SEP', `${hashKey}${e.ip}:${e.port}`));
      if (affinity) {
        endpoints.forEach((e, i) => {
          perServiceNat.push(`-A ${svcChain} -m comment --comment "${svcPortName} -> ${e.ip}:${e.port}" -m recent --name ${sepChains[i]} --mask 255.255.255.255 --rsource --rcheck --seconds ${affinitySeconds} --reap -j ${sepChains[i]}`);
        });
      }
      endpoints.forEach((e, i) => {
        const left = endpoints.length - i;
        const balance = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
        perServiceNat.push(`-A ${svcChain} -m comment --comment "${svcPortName} -> ${e.ip}:${e.port}"${balance} -j ${sepChains[i]}`);
      });
      endpoints.forEach((e, i) => {
        const sep = sepChains[i];
        nat.chains.push(sep);
        // Hairpin: a pod reaching itself must see the reply come from the node, not itself.
        perServiceNat.push(`-A ${sep} -m comment --comment "${svcPortName}" -s ${e.ip}/32 -j ${fixed.markMasq}`);
        const recent = affinity ? ` -m recent --name ${sep} --mask 255.255.255.255 --rsource --set` : '';
        perServiceNat.push(`-A ${sep} -m comment --comment "${svcPortName}" -p ${protocol.toLowerCase()}${recent} -j DNAT --to-destination ${e.ip}:${e.port}`);
      });
    }
  }

  natServices.push(`-A ${fixed.services} -m comment --comment "service nodeports; must be the last rule in this chain" -m addrtype --dst-type LOCAL -j ${fixed.nodePorts}`);
  nat.rules.push(
    ...natServices,
    ...natNodePorts,
    `-A ${fixed.markMasq} -j MARK --or-mark ${mark}`,
    `-A ${fixed.postrouting} -m mark ! --mark ${mark}/${mark} -j RETURN`,
    // Cleared so a packet re-entering the stack (e.g. through a tunnel) is not masqueraded twice.
    `-A ${fixed.postrouting} -j MARK --xor-mark ${mark}`,
    `-A ${fixed.postrouting} -m comment --comment "service traffic requiring SNAT" -j MASQUERADE --random-fully`,
    ...perServiceNat,
  );
  // Docker's FORWARD policy drops new connections into its bridges unless published; DNATed
  // service traffic from outside the pod network is let through (replies pass Docker's own rules).
  filter.rules.push(`-A ${fixed.forward} -m comment --comment "service traffic marked for masquerade" -m mark --mark ${mark}/${mark} -j ACCEPT`);
  return { nat, filter };
}

function key(o: Service): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Jumps from the built-in chains into the proxy's chains: [table, from, to, match]. */
export function jumpRules(prefix: string): Array<{ table: 'nat' | 'filter'; from: string; to: string; match: string[] }> {
  const f = fixedChains(prefix);
  const comment = (c: string) => ['-m', 'comment', '--comment', c];
  const newConn = ['-m', 'conntrack', '--ctstate', 'NEW'];
  return [
    { table: 'nat', from: 'PREROUTING', to: f.services, match: comment('podium service portals') },
    { table: 'nat', from: 'OUTPUT', to: f.services, match: comment('podium service portals') },
    { table: 'nat', from: 'POSTROUTING', to: f.postrouting, match: comment('podium postrouting rules') },
    { table: 'filter', from: 'FORWARD', to: f.services, match: [...newConn, ...comment('podium service portals')] },
    { table: 'filter', from: 'OUTPUT', to: f.services, match: [...newConn, ...comment('podium service portals')] },
    { table: 'filter', from: 'INPUT', to: f.externalServices, match: [...newConn, ...comment('podium externally-visible service portals')] },
    { table: 'filter', from: 'FORWARD', to: f.externalServices, match: [...newConn, ...comment('podium externally-visible service portals')] },
    { table: 'filter', from: 'FORWARD', to: f.forward, match: comment('podium forwarding rules') },
  ];
}
