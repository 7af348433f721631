// A pod's /etc/resolv.conf, computed as kubelet's DNS configurer does (pkg/kubelet/network/dns)
// and rendered as the container runtime would write it.
//
// For dnsPolicy Default (and ClusterFirst on the host network, which falls back to it) kubelet
// parses the host's file and re-renders its nameserver, search and options lines; it does not
// drop loopback nameservers (127.0.0.53 of systemd-resolved is unreachable from a pod network
// namespace), so neither do we: pass a --resolv-conf that holds real upstreams, as on upstream.
import type { Pod } from 'kubernetes-types/core/v1.js';

export interface PodResolvConfOptions {
  /** The cluster DNS service address(es), kubelet's --cluster-dns. Empty: ClusterFirst falls back to Default. */
  clusterDNS: string[];
  /** kubelet's --cluster-domain, e.g. cluster.local. Empty: no cluster search domains. */
  clusterDomain: string;
  /** The content of the node's resolv.conf (kubelet's --resolv-conf file). */
  hostResolvConf: string;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

// Limits enforced by API validation and again by kubelet when composing.
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const MAX_DOMAIN_LENGTH = 253;
const DEFAULT_DNS_OPTIONS = ['ndots:5'];

type PodDNSType = 'Cluster' | 'Host' | 'None';

/**
 * The resolv.conf content for `pod`, or undefined when there is nothing to write (no servers,
 * search domains or options), in which case the runtime leaves its default file in place.
 */
export function podResolvConf(pod: Pod, options: PodResolvConfOptions): string | undefined {
  const cfg = podDNSConfig(pod, options);
  return renderResolvConf(cfg);
}

export function podDNSConfig(pod: Pod, options: PodResolvConfOptions): DnsConfig {
  let cfg: DnsConfig = parseResolvConf(options.hostResolvConf);
  switch (podDNSType(pod)) {
    case 'None':
      cfg = { servers: [], searches: [], options: [] };
      break;
    case 'Cluster':
      if (options.clusterDNS.length > 0) {
        // The cluster DNS server is the only nameserver; it forwards what it does not own.
        cfg = { servers: [...options.clusterDNS], searches: clusterFirstSearches(cfg.searches, pod, options.clusterDomain), options: [...DEFAULT_DNS_OPTIONS] };
      }
      // No cluster DNS configured: kubelet records an event and falls back to the host's config.
      break;
    case 'Host':
      break;
  }
  const dnsConfig = pod.spec?.dnsConfig;
  if (dnsConfig) {
    cfg = {
      servers: omitDuplicates([...cfg.servers, ...(dnsConfig.nameservers ?? [])]),
      searches: omitDuplicates([...cfg.searches, ...(dnsConfig.searches ?? [])]),
      options: mergeDNSOptions(cfg.options, dnsConfig.options ?? []),
    };
  }
  return { servers: cfg.servers.slice(0, MAX_DNS_NAMESERVERS), searches: searchFitsLimits(cfg.searches), options: cfg.options };
}

function podDNSType(pod: Pod): PodDNSType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  switch (policy) {
    case 'None':
      return 'None';
    case 'ClusterFirstWithHostNet':
      return 'Cluster';
    case 'Default':
      return 'Host';
    case 'ClusterFirst':
    default:
      // A host-network pod cannot rely on cluster DNS unless it asked for it explicitly.
      return pod.spec?.hostNetwork ? 'Host' : 'Cluster';
  }
}

function clusterFirstSearches(hostSearches: string[], pod: Pod, clusterDomain: string): string[] {
  if (!clusterDomain) return hostSearches;
  const ns = pod.metadata?.namespace ?? 'default';
  return omitDuplicates([`${ns}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain, ...hostSearches]);
}

/** nameserver/search/options lines of a resolv.conf; the last search line wins, as in libc. */
export function parseResolvConf(content: string): DnsConfig {
  const cfg: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of content.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const fields = line.split(/\s+/);
    switch (fields[0]) {
      case 'nameserver':
        if (fields[1]) cfg.servers.push(fields[1]);
        break;
      case 'search':
        // "." means the root: no search domain at all.
        cfg.searches = fields.slice(1).filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
        break;
      case 'options':
        cfg.options = mergeOptionStrings(cfg.options, fields.slice(1));
        break;
    }
  }
  return cfg;
}

export function renderResolvConf(cfg: DnsConfig): string | undefined {
  if (cfg.servers.length === 0 && cfg.searches.length === 0 && cfg.options.length === 0) return undefined;
  const lines: string[] = [];
  if (cfg.searches.length > 0) lines.push(`search ${cfg.searches.join(' ')}`);
  for (const s of cfg.servers) lines.push(`nameserver ${s}`);
  if (cfg.options.length > 0) lines.push(`options ${cfg.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function omitDuplicates(xs: string[]): string[] {
  return [...new Set(xs)];
}

function splitOption(op: string): [string, string] {
  const i = op.indexOf(':');
  return i < 0 ? [op, ''] : [op.slice(0, i), op.slice(i + 1)];
}

function mergeOptionStrings(existing: string[], more: string[]): string[] {
  const m = new Map<string, string>();
  for (const op of [...existing, ...more]) {
    const [k, v] = splitOption(op);
    m.set(k, v);
  }
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

// By name, dnsConfig's value winning; unlike Go's map the first-seen order is kept so the
// output is stable.
function mergeDNSOptions(existing: string[], fromPod: { name?: string; value?: string }[]): string[] {
  const m = new Map<string, string>();
  for (const op of existing) {
    const [k, v] = splitOption(op);
    m.set(k, v);
  }
  for (const op of fromPod) if (op.name) m.set(op.name, op.value ?? '');
  return [...m].map(([k, v]) => (v ? `${k}:${v}` : k));
}

// kubelet's formDNSSearchFitsLimits: at most 32 paths, none longer than a domain name can be,
// and the joined line within 2048 characters (cut from the end).
function searchFitsLimits(searches: string[]): string[] {
  let out = searches.slice(0, MAX_DNS_SEARCH_PATHS).filter((s) => s.length <= MAX_DOMAIN_LENGTH);
  let len = out.join(' ').length;
  while (out.length > 0 && len > MAX_DNS_SEARCH_LIST_CHARS) {
    len -= out[out.length - 1].length + 1;
    out = out.slice(0, -1);
  }
  return out;
}
