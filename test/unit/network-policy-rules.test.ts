// NetworkPolicy semantics, checked on the rendered iptables rules themselves: a tiny evaluator
// walks the generated chains for a packet the way the filter table would, so these tests fail
// if either the policy computation or the rule text is wrong.
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import {
  buildPolicyRules,
  computePodPolicies,
  podChainName,
  selectorMatches,
  subtractCidrs,
  type PolicyInput,
  type PolicyRules,
} from '../../node-agent/network-policy/policy-rules.js';

const PREFIX = 'TNP-';
const BRIDGE = 'br-test';
const NODE = 'node-1';
const NODE_IP = '10.244.0.1';

function pod(namespace: string, name: string, ip: string, labels: Record<string, string>, extra: { node?: string; ports?: { name: string; containerPort: number; protocol?: string }[] } = {}): Pod {
  return {
    metadata: { namespace, name, labels },
    spec: { nodeName: extra.node ?? NODE, containers: [{ name: 'c', image: 'x', ports: extra.ports ?? [] }] },
    status: { phase: 'Running', podIP: ip },
  };
}

function ns(name: string, labels: Record<string, string> = {}): Namespace {
  return { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

function np(namespace: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { metadata: { namespace, name }, spec };
}

// --- A minimal filter-table walker for the rules we generate --------------------------------

interface Packet {
  src: string;
  dst: string;
  proto?: 'tcp' | 'udp' | 'sctp';
  dport: number;
  state?: 'NEW' | 'ESTABLISHED';
  in?: string;
  out?: string;
}

function ipIn(ip: string, cidr: string): boolean {
  const toN = (s: string) => s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
  const [base, bits] = cidr.split('/');
  const b = Number(bits ?? 32);
  const m = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  return ((toN(ip) & m) >>> 0) === ((toN(base) & m) >>> 0);
}

function parse(rules: PolicyRules): Map<string, string[][]> {
  const chains = new Map<string, string[][]>(rules.chains.map((c) => [c, []]));
  for (const line of rules.rules) {
    const tokens = (line.match(/"[^"]*"|\S+/g) ?? []).map((t) => t.replace(/^"|"$/g, ''));
    expect(tokens[0]).toBe('-A');
    const chain = chains.get(tokens[1]);
    if (!chain) throw new Error(`rule for undeclared chain: ${line}`);
    chain.push(tokens.slice(2));
  }
  return chains;
}

type Verdict = 'RETURN' | 'REJECT' | 'DROP' | 'ACCEPT';

function walk(chains: Map<string, string[][]>, chain: string, p: Packet): Verdict {
  const rules = chains.get(chain);
  if (!rules) throw new Error(`jump to unknown chain ${chain}`);
  for (const r of rules) {
    let match = true;
    let target = '';
    for (let i = 0; i < r.length && match; i++) {
      const arg = r[i + 1];
      switch (r[i]) {
        case '-i': match = p.in === arg; i++; break;
        case '-o': match = p.out === arg; i++; break;
        case '-s': match = ipIn(p.src, arg); i++; break;
        case '-d': match = ipIn(p.dst, arg); i++; break;
        case '-p': match = (p.proto ?? 'tcp') === arg; i++; break;
        case '-m': i++; break;
        case '--comment': i++; break;
        case '--ctstate': match = arg.split(',').includes(p.state ?? 'NEW'); i++; break;
        case '--reject-with': i++; break;
        case '--dport': {
          const [lo, hi] = arg.split(':').map(Number);
          match = p.dport >= lo && p.dport <= (hi ?? lo);
          i++;
          break;
        }
        case '-j': target = arg; i++; break;
        default: throw new Error(`evaluator does not know ${r[i]} in ${r.join(' ')}`);
      }
    }
    if (!match) continue;
    if (target === 'RETURN') return 'RETURN';
    if (target === 'REJECT' || target === 'DROP' || target === 'ACCEPT') return target;
    const v = walk(chains, target, p);
    if (v !== 'RETURN') return v;
  }
  return 'RETURN';
}

function build(input: Partial<PolicyInput>): PolicyRules {
  return buildPolicyRules(
    { networkPolicies: [], pods: [], namespaces: [], nodeName: NODE, ...input },
    { chainPrefix: PREFIX, bridge: BRIDGE, nodeIP: NODE_IP },
  );
}

/** Whether a new connection passes the policy layer (RETURN from the top chain = not blocked). */
function allowed(rules: PolicyRules, src: string, dst: string, dport = 8080, proto: Packet['proto'] = 'tcp', state: Packet['state'] = 'NEW'): boolean {
  return walk(parse(rules), rules.topChain, { src, dst, dport, proto, state, in: BRIDGE, out: BRIDGE }) === 'RETURN';
}

// --- Fixtures --------------------------------------------------------------------------------

const SERVER = '10.244.0.10';
const CLIENT = '10.244.0.11';
const STRANGER = '10.244.0.12';
const OTHER_NS = '10.244.0.20';
const REMOTE = '10.244.1.5'; // a pod on another node

const namespaces = [ns('app', { team: 'a' }), ns('other', { team: 'b' }), ns('mon', { team: 'a', role: 'monitoring' })];
const pods = [
  pod('app', 'server', SERVER, { role: 'server' }, { ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }),
  pod('app', 'client', CLIENT, { role: 'client' }),
  pod('app', 'stranger', STRANGER, { role: 'stranger' }),
  pod('other', 'client', OTHER_NS, { role: 'client' }),
  pod('mon', 'scraper', REMOTE, { role: 'client' }, { node: 'node-2' }),
];

const serverOnlyFromClients = np('app', 'server-from-clients', {
  podSelector: { matchLabels: { role: 'server' } },
  ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }],
});

describe('network policy rules', () => {
  test('no policy: no pod is isolated and nothing is blocked', () => {
    const r = build({ pods, namespaces });
    expect(r.chains).toEqual([`${PREFIX}FORWARD`]);
    expect(allowed(r, STRANGER, SERVER)).toBe(true);
    expect(allowed(r, SERVER, STRANGER)).toBe(true);
  });

  test('podSelector isolates the selected pods only; from podSelector is namespace-local', () => {
    const r = build({ pods, namespaces, networkPolicies: [serverOnlyFromClients] });
    expect(allowed(r, CLIENT, SERVER)).toBe(true);
    expect(allowed(r, STRANGER, SERVER)).toBe(false);
    // role=client in another namespace is not selected by a plain podSelector.
    expect(allowed(r, OTHER_NS, SERVER)).toBe(false);
    // Not selected, so not isolated.
    expect(allowed(r, STRANGER, CLIENT)).toBe(true);
    // The server's own egress is not restricted by an ingress policy.
    expect(allowed(r, SERVER, STRANGER)).toBe(true);
    const pp = computePodPolicies({ networkPolicies: [serverOnlyFromClients], pods, namespaces, nodeName: NODE });
    expect(pp.map((p) => `${p.namespace}/${p.name}`)).toEqual(['app/server']);
    expect(pp[0].egress).toBeUndefined();
  });

  test('replies of established connections and traffic from the node pass', () => {
    const r = build({ pods, namespaces, networkPolicies: [serverOnlyFromClients] });
    expect(allowed(r, STRANGER, SERVER, 8080, 'tcp', 'ESTABLISHED')).toBe(true);
    expect(allowed(r, NODE_IP, SERVER)).toBe(true);
  });

  test('namespaceSelector selects every pod of matching namespaces, incl. the name label', () => {
    const byTeam = np('app', 'from-team-b', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }] });
    let r = build({ pods, namespaces, networkPolicies: [byTeam] });
    expect(allowed(r, OTHER_NS, SERVER)).toBe(true);
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
    expect(allowed(r, REMOTE, SERVER)).toBe(false);
    const byName = np('app', 'from-mon', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mon' } } }] }] });
    r = build({ pods, namespaces, networkPolicies: [byName] });
    expect(allowed(r, REMOTE, SERVER)).toBe(true);
    expect(allowed(r, OTHER_NS, SERVER)).toBe(false);
  });

  test('namespaceSelector and podSelector in one peer are ANDed, in two peers ORed', () => {
    const and = np('app', 'and', {
      podSelector: { matchLabels: { role: 'server' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { role: 'client' } } }] }],
    });
    let r = build({ pods, namespaces, networkPolicies: [and] });
    expect(allowed(r, CLIENT, SERVER)).toBe(true); // app (team a), role=client
    expect(allowed(r, REMOTE, SERVER)).toBe(true); // mon (team a), role=client, on another node
    expect(allowed(r, STRANGER, SERVER)).toBe(false); // team a but not a client
    expect(allowed(r, OTHER_NS, SERVER)).toBe(false); // a client but team b
    const or = np('app', 'or', {
      podSelector: { matchLabels: { role: 'server' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }, { podSelector: { matchLabels: { role: 'stranger' } } }] }],
    });
    r = build({ pods, namespaces, networkPolicies: [or] });
    expect(allowed(r, OTHER_NS, SERVER)).toBe(true);
    expect(allowed(r, STRANGER, SERVER)).toBe(true);
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
  });

  test('ipBlock with except', () => {
    expect(subtractCidrs('10.0.0.0/16', ['10.0.5.0/24']).length).toBe(8);
    expect(subtractCidrs('10.0.0.0/24', ['10.0.0.0/16'])).toEqual([]);
    expect(subtractCidrs('10.0.0.0/24', ['10.1.0.0/16'])).toEqual(['10.0.0.0/24']);
    const block = np('app', 'block', {
      podSelector: { matchLabels: { role: 'server' } },
      ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.5.0/24', '192.168.7.7/32'] } }] }],
    });
    const r = build({ pods, namespaces, networkPolicies: [block] });
    expect(allowed(r, '192.168.1.2', SERVER)).toBe(true);
    expect(allowed(r, '192.168.7.8', SERVER)).toBe(true);
    expect(allowed(r, '192.168.5.7', SERVER)).toBe(false);
    expect(allowed(r, '192.168.7.7', SERVER)).toBe(false);
    expect(allowed(r, '192.169.0.1', SERVER)).toBe(false);
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
  });

  test('ports: number with protocol default TCP, named port of the destination pod, endPort ranges, protocol only', () => {
    const ports = np('app', 'ports', {
      podSelector: { matchLabels: { role: 'server' } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 9000, endPort: 9005 }, { port: 'dns', protocol: 'UDP' }] },
        { ports: [{ port: 'http' }, { port: 'missing' }, { protocol: 'SCTP' }] },
      ],
    });
    const r = build({ pods, namespaces, networkPolicies: [ports] });
    expect(allowed(r, STRANGER, SERVER, 8080)).toBe(true); // named 'http' -> 8080, from anywhere
    expect(allowed(r, STRANGER, SERVER, 8080, 'udp')).toBe(false);
    expect(allowed(r, STRANGER, SERVER, 8081)).toBe(false);
    expect(allowed(r, CLIENT, SERVER, 9000)).toBe(true);
    expect(allowed(r, CLIENT, SERVER, 9005)).toBe(true);
    expect(allowed(r, CLIENT, SERVER, 9006)).toBe(false);
    expect(allowed(r, STRANGER, SERVER, 9003)).toBe(false);
    expect(allowed(r, CLIENT, SERVER, 53, 'udp')).toBe(true);
    expect(allowed(r, CLIENT, SERVER, 53, 'tcp')).toBe(false); // 'dns' is a UDP port
    expect(allowed(r, STRANGER, SERVER, 1234, 'sctp')).toBe(true);
  });

  test('a rule whose only named port does not resolve allows nothing (not every port)', () => {
    const p = np('app', 'p', { podSelector: { matchLabels: { role: 'client' } }, ingress: [{ ports: [{ port: 'http' }] }] });
    const r = build({ pods, namespaces, networkPolicies: [p] });
    expect(allowed(r, STRANGER, CLIENT, 8080)).toBe(false);
    expect(allowed(r, STRANGER, CLIENT, 1)).toBe(false);
  });

  test('egress: to peers and ports, named ports resolved against the peer pods', () => {
    const egress = np('app', 'client-egress', {
      podSelector: { matchLabels: { role: 'client' } },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ podSelector: { matchLabels: { role: 'server' } } }], ports: [{ port: 'http' }] },
        { to: [{ ipBlock: { cidr: '8.8.8.0/24' } }], ports: [{ port: 53, protocol: 'UDP' }] },
      ],
    });
    const r = build({ pods, namespaces, networkPolicies: [egress] });
    expect(allowed(r, CLIENT, SERVER, 8080)).toBe(true);
    expect(allowed(r, CLIENT, SERVER, 8081)).toBe(false);
    expect(allowed(r, CLIENT, STRANGER, 8080)).toBe(false);
    expect(allowed(r, CLIENT, '8.8.8.8', 53, 'udp')).toBe(true);
    expect(allowed(r, CLIENT, '8.8.8.8', 53, 'tcp')).toBe(false);
    // Ingress of the client is not isolated by an Egress-only policy.
    expect(allowed(r, STRANGER, CLIENT)).toBe(true);
    // Packets towards the client enter on the bridge but do not leave from it: egress chain not used.
    expect(allowed(r, SERVER, CLIENT)).toBe(true);
  });

  test('egress named port with no "to": every pod that has the port', () => {
    const egress = np('app', 'e', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'], egress: [{ ports: [{ port: 'http' }] }] });
    const r = build({ pods, namespaces, networkPolicies: [egress] });
    expect(allowed(r, CLIENT, SERVER, 8080)).toBe(true);
    expect(allowed(r, CLIENT, STRANGER, 8080)).toBe(false);
  });

  test('deny-all (empty ingress list, empty podSelector) isolates the whole namespace', () => {
    const deny = np('app', 'deny', { podSelector: {}, policyTypes: ['Ingress'], ingress: [] });
    const r = build({ pods, namespaces, networkPolicies: [deny] });
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
    expect(allowed(r, SERVER, CLIENT)).toBe(false);
    expect(allowed(r, OTHER_NS, STRANGER)).toBe(false);
    // Other namespaces are untouched, and egress is not restricted.
    expect(allowed(r, SERVER, OTHER_NS)).toBe(true);
  });

  test('allow-all rule {} beats a deny-all in the same namespace (union)', () => {
    const deny = np('app', 'deny', { podSelector: {} });
    const allowAll = np('app', 'allow', { podSelector: { matchLabels: { role: 'server' } }, ingress: [{}] });
    const r = build({ pods, namespaces, networkPolicies: [deny, allowAll] });
    expect(allowed(r, STRANGER, SERVER)).toBe(true);
    expect(allowed(r, '1.2.3.4', SERVER, 1, 'udp')).toBe(true);
    expect(allowed(r, SERVER, CLIENT)).toBe(false);
    expect(computePodPolicies({ networkPolicies: [deny, allowAll], pods, namespaces, nodeName: NODE }).find((p) => p.name === 'server')?.ingress).toEqual([{}]);
  });

  test('policyTypes defaults: Ingress always, Egress only when spec.egress is present', () => {
    const noTypes = np('app', 'a', { podSelector: { matchLabels: { role: 'client' } } });
    let pp = computePodPolicies({ networkPolicies: [noTypes], pods, namespaces, nodeName: NODE });
    expect(pp[0].ingress).toEqual([]);
    expect(pp[0].egress).toBeUndefined();

    const withEgress = np('app', 'b', { podSelector: { matchLabels: { role: 'client' } }, egress: [] });
    pp = computePodPolicies({ networkPolicies: [withEgress], pods, namespaces, nodeName: NODE });
    expect(pp[0].ingress).toEqual([]);
    expect(pp[0].egress).toEqual([]);
    const r = build({ pods, namespaces, networkPolicies: [withEgress] });
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
    expect(allowed(r, STRANGER, CLIENT)).toBe(false);

    const egressOnly = np('app', 'c', { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'] });
    pp = computePodPolicies({ networkPolicies: [egressOnly], pods, namespaces, nodeName: NODE });
    expect(pp[0].ingress).toBeUndefined();
    expect(pp[0].egress).toEqual([]);
  });

  test('only pods of this node with an address on the pod network are targets; peers can be anywhere', () => {
    const deny = np('mon', 'deny', { podSelector: {} });
    expect(computePodPolicies({ networkPolicies: [deny], pods, namespaces, nodeName: NODE })).toEqual([]);
    const hostNet: Pod = { ...pod('app', 'host', NODE_IP, { role: 'server' }), spec: { nodeName: NODE, hostNetwork: true, containers: [] } };
    const done: Pod = { ...pod('app', 'done', '10.244.0.99', { role: 'server' }), status: { phase: 'Succeeded', podIP: '10.244.0.99' } };
    const pending = pod('app', 'pending', '', { role: 'server' });
    const names = computePodPolicies({ networkPolicies: [serverOnlyFromClients], pods: [...pods, hostNet, done, pending], namespaces, nodeName: NODE }).map((p) => p.name);
    expect(names).toEqual(['server']);
  });

  test('chains are named by prefix and pod hash, fit in 28 characters, and every jump target is declared', () => {
    const deny = np('app', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const r = build({ pods, namespaces, networkPolicies: [deny] });
    expect(r.chains.length).toBe(1 + 3 * 2);
    for (const c of r.chains) {
      expect(c.startsWith(PREFIX)).toBe(true);
      expect(c.length).toBeLessThanOrEqual(28);
    }
    expect(r.chains).toContain(podChainName(PREFIX, 'ING', 'app', 'server'));
    expect(podChainName('PODIUM-NP-', 'EGR', 'a'.repeat(63), 'b'.repeat(253)).length).toBeLessThanOrEqual(28);
    expect(() => podChainName('X'.repeat(20), 'ING', 'a', 'b')).toThrow();
    // parse() throws on rules for undeclared chains; walk() throws on jumps to them.
    expect(allowed(r, CLIENT, SERVER)).toBe(false);
    // Only packets touching the pod bridge are looked at.
    const chains = parse(r);
    expect(walk(chains, r.topChain, { src: CLIENT, dst: SERVER, dport: 80, in: 'eth0', out: 'eth1' })).toBe('RETURN');
  });
});

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  test.each([
    [{}, true],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'db' } }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['web'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'missing', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
    [{ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, false],
  ])('%j -> %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });

  test('matchExpressions in a policy podSelector', () => {
    const p = np('app', 'expr', { podSelector: { matchExpressions: [{ key: 'role', operator: 'NotIn', values: ['server'] }] }, ingress: [] });
    const names = computePodPolicies({ networkPolicies: [p], pods, namespaces, nodeName: NODE }).map((x) => x.name);
    expect(names).toEqual(['client', 'stranger']);
  });
});
