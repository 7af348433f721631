// NetworkPolicy semantics as pure functions: which of this node's pods are isolated, what each
// isolated pod may receive / send, and the filter-table chains that enforce it. No I/O here, so
// the enforcer (network-policy.ts) and the unit tests share exactly the same computation.
//
// Enforcement model: a top chain (jumped from filter FORWARD first) sends packets leaving an
// egress-isolated pod to its EGR chain and packets entering an ingress-isolated pod to its ING
// chain. Those chains RETURN what some policy allows and REJECT the rest. Allowed traffic thus
// continues through FORWARD exactly as it would without policies (Docker's own rules still
// apply), so the policy layer can only take traffic away, never open something new.
import { createHash } from 'node:crypto';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One allowed protocol/port (range); `port` undefined = every port of the protocol. */
export interface PortMatch {
  protocol: Protocol;
  port?: number;
  endPort?: number;
}

/** One allowed (peer, port) pair. `peer` is an IPv4 CIDR, undefined = any address; `port` undefined = any protocol and port. */
export interface AllowEntry {
  peer?: string;
  port?: PortMatch;
}

/** What one of this node's pods may receive / send. `undefined` = not isolated in that direction. */
export interface PodPolicy {
  namespace: string;
  name: string;
  ip: string;
  ingress?: AllowEntry[];
  egress?: AllowEntry[];
}

export interface PolicyInput {
  networkPolicies: NetworkPolicy[];
  /** Every pod in the cluster: this node's pods are the targets, all of them are possible peers. */
  pods: Pod[];
  namespaces: Namespace[];
  nodeName: string;
}

export interface RenderOptions {
  chainPrefix: string;
  /** The pod bridge interface: only packets entering or leaving it are filtered. */
  bridge: string;
  /** The node's address; upstream always admits traffic from a pod's own node. */
  nodeIP?: string;
}

export interface PolicyRules {
  /** The chains to declare (created or flushed) in the filter table, top chain first. */
  chains: string[];
  /** `-A ...` lines for iptables-restore. */
  rules: string[];
  /** The top chain, to be jumped to from FORWARD. */
  topChain: string;
}

// iptables chain names are at most 28 characters.
const MAX_CHAIN_NAME = 28;
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

// ---------------------------------------------------------------------------------------------
// Label selectors

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(l[req.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[req.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An operator the API server should have rejected: select nothing rather than everything.
        return false;
    }
  }
  return true;
}

/** The policy types in effect, with upstream defaulting (Ingress always; Egress when spec.egress is present). */
export function policyTypesOf(policy: NetworkPolicy): { ingress: boolean; egress: boolean } {
  const types = policy.spec?.policyTypes;
  if (types && types.length) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: policy.spec?.egress !== undefined };
}

// ---------------------------------------------------------------------------------------------
// IPv4 CIDR arithmetic (ipBlock except)

interface Cidr {
  base: number;
  bits: number;
}

function parseIPv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

function parseCidr(s: string): Cidr | undefined {
  const [ip, b] = s.includes('/') ? s.split('/') : [s, '32'];
  const n = parseIPv4(ip);
  const bits = Number(b);
  if (n === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return { base: (n & mask(bits)) >>> 0, bits };
}

function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.base)}/${c.bits}`;
}

function contains(outer: Cidr, inner: Cidr): boolean {
  return outer.bits <= inner.bits && ((inner.base & mask(outer.bits)) >>> 0) === outer.base;
}

function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  const i = parseCidr(ip);
  return !!c && !!i && contains(c, i);
}

/** `cidr` minus every `except`, as disjoint CIDRs (iptables has no "except" inside one match). */
export function subtractCidrs(cidr: string, excepts: string[]): string[] {
  const whole = parseCidr(cidr);
  if (!whole) return [];
  const ex = excepts.map(parseCidr).filter((c): c is Cidr => !!c);
  const out: Cidr[] = [];
  const walk = (c: Cidr): void => {
    if (ex.some((e) => contains(e, c))) return;
    if (!ex.some((e) => overlaps(e, c))) {
      out.push(c);
      return;
    }
    // Some except lies strictly inside c: split in halves until each half is clear of it or covered.
    const bits = c.bits + 1;
    walk({ base: c.base, bits });
    walk({ base: (c.base | (1 << (32 - bits))) >>> 0, bits });
  };
  walk(whole);
  return out.map(formatCidr);
}

// ---------------------------------------------------------------------------------------------
// Pods and peers

function key(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

/** The pod's IPv4 address on the pod network, if it has one that policies can apply to. */
export function podIPv4(p: Pod): string | undefined {
  if (p.spec?.hostNetwork) return undefined;
  // A finished pod's address may already belong to a new pod.
  if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return undefined;
  const ips = [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)];
  return ips.find((ip): ip is string => !!ip && parseIPv4(ip) !== undefined);
}

function namespaceLabels(namespaces: Map<string, Namespace>, name: string): Record<string, string> {
  // The API server always sets the name label; add it in case the cache predates that.
  return { ...(namespaces.get(name)?.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

interface ResolvedPeers {
  /** undefined = any address. */
  cidrs?: string[];
  /** Pods the peers cover (for named egress ports). */
  pods: Pod[];
}

function protocolOf(p: string | undefined): Protocol | undefined {
  const v = (p ?? 'TCP').toLowerCase();
  return v === 'tcp' || v === 'udp' || v === 'sctp' ? v : undefined;
}

function namedPort(pod: Pod, name: string, protocol: Protocol): number | undefined {
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) if (cp.name === name && protocolOf(cp.protocol) === protocol) return cp.containerPort;
  }
  return undefined;
}

class Cluster {
  readonly namespaces: Map<string, Namespace>;
  /** Every pod with a policy-relevant address. */
  readonly addressed: { pod: Pod; ip: string }[];

  constructor(input: PolicyInput) {
    this.namespaces = new Map(input.namespaces.map((n) => [n.metadata?.name ?? '', n]));
    this.addressed = input.pods.flatMap((pod) => {
      const ip = podIPv4(pod);
      return ip ? [{ pod, ip }] : [];
    });
  }

  /** The pods (with addresses) a non-ipBlock peer selects, seen from a policy in `policyNamespace`. */
  selectPods(peer: NetworkPolicyPeer, policyNamespace: string): { pod: Pod; ip: string }[] {
    return this.addressed.filter(({ pod }) => {
      const ns = pod.metadata?.namespace ?? '';
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, namespaceLabels(this.namespaces, ns))) return false;
      } else if (ns !== policyNamespace) return false;
      return !peer.podSelector || selectorMatches(peer.podSelector, pod.metadata?.labels);
    });
  }

  resolvePeers(peers: NetworkPolicyPeer[] | undefined, policyNamespace: string): ResolvedPeers {
    if (!peers || peers.length === 0) return { pods: this.addressed.map((a) => a.pod) };
    const cidrs = new Set<string>();
    const pods = new Map<string, Pod>();
    for (const peer of peers) {
      if (peer.ipBlock) {
        const allowed = subtractCidrs(peer.ipBlock.cidr, peer.ipBlock.except ?? []);
        for (const c of allowed) cidrs.add(c);
        for (const a of this.addressed) if (allowed.some((c) => ipInCidr(a.ip, c))) pods.set(key(a.pod), a.pod);
        continue;
      }
      if (!peer.podSelector && !peer.namespaceSelector) continue;
      for (const a of this.selectPods(peer, policyNamespace)) {
        cidrs.add(`${a.ip}/32`);
        pods.set(key(a.pod), a.pod);
      }
    }
    return { cidrs: [...cidrs], pods: [...pods.values()] };
  }
}

/**
 * The allow entries of one rule. Named ports resolve against `target` (ingress: the destination
 * is the isolated pod itself) or, when `target` is undefined (egress), against each peer pod,
 * which turns them into per-pod /32 entries.
 */
function ruleEntries(peers: ResolvedPeers, ports: NetworkPolicyPort[] | undefined, target: Pod | undefined): AllowEntry[] {
  const peerList: (string | undefined)[] = peers.cidrs ?? [undefined];
  if (!ports || ports.length === 0) return peerList.map((peer) => ({ peer }));
  const out: AllowEntry[] = [];
  for (const p of ports) {
    const protocol = protocolOf(p.protocol);
    if (!protocol) continue;
    if (p.port === undefined) {
      for (const peer of peerList) out.push({ peer, port: { protocol } });
    } else if (typeof p.port === 'number' || /^\d+$/.test(p.port)) {
      const port = Number(p.port);
      const endPort = p.endPort !== undefined && p.endPort > port ? p.endPort : undefined;
      for (const peer of peerList) out.push({ peer, port: { protocol, port, ...(endPort ? { endPort } : {}) } });
    } else if (target) {
      const port = namedPort(target, p.port, protocol);
      if (port !== undefined) for (const peer of peerList) out.push({ peer, port: { protocol, port } });
    } else {
      for (const pod of peers.pods) {
        const ip = podIPv4(pod);
        const port = namedPort(pod, p.port, protocol);
        if (ip && port !== undefined) out.push({ peer: `${ip}/32`, port: { protocol, port } });
      }
    }
  }
  return out;
}

function entryKey(e: AllowEntry): string {
  return `${e.peer ?? '*'}|${e.port ? `${e.port.protocol}:${e.port.port ?? '*'}-${e.port.endPort ?? ''}` : '*'}`;
}

function normalise(entries: AllowEntry[]): AllowEntry[] {
  // One "anything" entry makes every other entry redundant.
  if (entries.some((e) => !e.peer && !e.port)) return [{}];
  const seen = new Map<string, AllowEntry>();
  for (const e of entries) seen.set(entryKey(e), e);
  return [...seen.values()].sort((a, b) => (entryKey(a) < entryKey(b) ? -1 : entryKey(a) > entryKey(b) ? 1 : 0));
}

/** For each of this node's pods with an address, what it may receive and send. */
export function computePodPolicies(input: PolicyInput): PodPolicy[] {
  const cluster = new Cluster(input);
  const out: PodPolicy[] = [];
  const seenIPs = new Set<string>();
  const targets = cluster.addressed
    .filter((a) => a.pod.spec?.nodeName === input.nodeName)
    .sort((a, b) => (key(a.pod) < key(b.pod) ? -1 : 1));
  for (const { pod, ip } of targets) {
    // Two live pods never share an address; if the cache briefly says so, the first one wins.
    if (seenIPs.has(ip)) continue;
    seenIPs.add(ip);
    const ns = pod.metadata?.namespace ?? '';
    let ingress: AllowEntry[] | undefined;
    let egress: AllowEntry[] | undefined;
    for (const policy of input.networkPolicies) {
      if ((policy.metadata?.namespace ?? '') !== ns) continue;
      if (!selectorMatches(policy.spec?.podSelector ?? {}, pod.metadata?.labels)) continue;
      const types = policyTypesOf(policy);
      if (types.ingress) {
        ingress ??= [];
        for (const rule of policy.spec?.ingress ?? []) ingress.push(...ruleEntries(cluster.resolvePeers(rule.from, ns), rule.ports, pod));
      }
      if (types.egress) {
        egress ??= [];
        for (const rule of policy.spec?.egress ?? []) egress.push(...ruleEntries(cluster.resolvePeers(rule.to, ns), rule.ports, undefined));
      }
    }
    if (!ingress && !egress) continue;
    out.push({
      namespace: ns,
      name: pod.metadata?.name ?? '',
      ip,
      ...(ingress ? { ingress: normalise(ingress) } : {}),
      ...(egress ? { egress: normalise(egress) } : {}),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export function topChainName(prefix: string): string {
  return `${prefix}FORWARD`;
}

/** `<prefix>ING-<hash>` / `<prefix>EGR-<hash>`, stable for a pod's namespace/name. */
export function podChainName(prefix: string, kind: 'ING' | 'EGR', namespace: string, name: string): string {
  const room = MAX_CHAIN_NAME - prefix.length - kind.length - 1;
  if (room < 8) throw new Error(`chain prefix ${JSON.stringify(prefix)} is too long`);
  const hash = createHash('sha256').update(`${namespace}/${name}`).digest('hex').toUpperCase().slice(0, Math.min(16, room));
  return `${prefix}${kind}-${hash}`;
}

function portArgs(p: PortMatch | undefined): string {
  if (!p) return '';
  if (p.port === undefined) return ` -p ${p.protocol}`;
  return ` -p ${p.protocol} -m ${p.protocol} --dport ${p.endPort ? `${p.port}:${p.endPort}` : p.port}`;
}

function comment(text: string): string {
  // iptables-restore splits on spaces outside quotes; keep the text free of quotes.
  return `-m comment --comment "${text.replace(/"/g, '')}"`;
}

export function renderPolicyRules(policies: PodPolicy[], opts: RenderOptions): PolicyRules {
  const top = topChainName(opts.chainPrefix);
  const chains = [top];
  const rules = [
    // Replies of connections that were allowed when they started, whatever changed since.
    `-A ${top} ${comment('allowed connections')} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  ];
  const podRules: string[] = [];
  const jumps = { egress: [] as string[], ingress: [] as string[] };
  for (const p of policies) {
    const who = `${p.namespace}/${p.name}`;
    if (p.egress) {
      const c = podChainName(opts.chainPrefix, 'EGR', p.namespace, p.name);
      chains.push(c);
      jumps.egress.push(`-A ${top} -i ${opts.bridge} -s ${p.ip}/32 ${comment(`${who} egress`)} -j ${c}`);
      for (const e of p.egress) podRules.push(`-A ${c}${e.peer ? ` -d ${e.peer}` : ''}${portArgs(e.port)} -j RETURN`);
      podRules.push(`-A ${c} ${comment(`${who} egress not allowed`)} -j REJECT --reject-with icmp-port-unreachable`);
    }
    if (p.ingress) {
      const c = podChainName(opts.chainPrefix, 'ING', p.namespace, p.name);
      chains.push(c);
      jumps.ingress.push(`-A ${top} -o ${opts.bridge} -d ${p.ip}/32 ${comment(`${who} ingress`)} -j ${c}`);
      if (opts.nodeIP) podRules.push(`-A ${c} -s ${opts.nodeIP}/32 ${comment('from the node')} -j RETURN`);
      for (const e of p.ingress) podRules.push(`-A ${c}${e.peer ? ` -s ${e.peer}` : ''}${portArgs(e.port)} -j RETURN`);
      podRules.push(`-A ${c} ${comment(`${who} ingress not allowed`)} -j REJECT --reject-with icmp-port-unreachable`);
    }
  }
  // Egress of the sender first, then ingress of the receiver: a packet must pass both.
  rules.push(...jumps.egress, ...jumps.ingress, ...podRules);
  return { chains, rules, topChain: top };
}

/** Everything in one step: the filter-table chains and rules for `input` on this node. */
export function buildPolicyRules(input: PolicyInput, opts: RenderOptions): PolicyRules {
  return renderPolicyRules(computePodPolicies(input), opts);
}
