// Rule generation of the service proxy: the nat/filter chains computed from Services and
// EndpointSlices, checked as the iptables-restore lines they become.
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { computeProxyRules, hashedChain, isProxyChain, MAX_CHAIN_NAME, type ProxyRules } from '../../node-agent/proxy/iptables-rules.js';

const P = 'PODIUM-';
const config = { podCIDR: '10.244.0.0/16' };

function service(name: string, spec: Service['spec'], ns = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

function slice(svc: string, ports: Array<{ name?: string; port: number; protocol?: string }>, endpoints: Endpoint[], name = `${svc}-abc`, ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports,
    endpoints,
  };
}

const ep = (ip: string, conditions: Endpoint['conditions'] = { ready: true }): Endpoint => ({ addresses: [ip], conditions });
const clusterIP = (ip: string, ports: ServicePort[], extra: Partial<NonNullable<Service['spec']>> = {}): Service['spec'] => ({ type: 'ClusterIP', clusterIP: ip, ports, ...extra });

const rulesOf = (table: ProxyRules['nat'], chain: string) => table.rules.filter((r) => r.startsWith(`-A ${chain} `));
const svcChain = (ns: string, name: string, port: string, proto = 'tcp') => hashedChain(P, 'SVC', `${ns}/${name}:${port}${proto}`);

describe('computeProxyRules', () => {
  test('ClusterIP with one endpoint: jump, masquerade for off-pod-network callers, DNAT', () => {
    const r = computeProxyRules({ services: [service('web', clusterIP('10.96.0.10', [{ port: 80, targetPort: 8080 }]))], endpointSlices: [slice('web', [{ port: 8080 }], [ep('10.244.0.5')])], config });
    const svc = svcChain('default', 'web', '');
    expect(rulesOf(r.nat, 'PODIUM-SERVICES')).toEqual([
      `-A PODIUM-SERVICES -m comment --comment "default/web cluster IP" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j ${svc}`,
      '-A PODIUM-SERVICES -m comment --comment "service nodeports; must be the last rule in this chain" -m addrtype --dst-type LOCAL -j PODIUM-NODEPORTS',
    ]);
    const svcRules = rulesOf(r.nat, svc);
    expect(svcRules[0]).toContain('! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j PODIUM-MARK-MASQ');
    expect(svcRules).toHaveLength(2);
    expect(svcRules[1]).not.toContain('statistic');
    const sep = svcRules[1].split(' -j ')[1];
    expect(sep).toMatch(/^PODIUM-SEP-[A-Z2-7]{16}$/);
    expect(rulesOf(r.nat, sep)).toEqual([
      `-A ${sep} -m comment --comment "default/web" -s 10.244.0.5/32 -j PODIUM-MARK-MASQ`,
      `-A ${sep} -m comment --comment "default/web" -p tcp -j DNAT --to-destination 10.244.0.5:8080`,
    ]);
    expect(r.nat.chains).toEqual(expect.arrayContaining(['PODIUM-SERVICES', 'PODIUM-NODEPORTS', 'PODIUM-POSTROUTING', 'PODIUM-MARK-MASQ', svc, sep]));
    expect(r.nat.rules).toContain('-A PODIUM-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN');
    expect(r.nat.rules).toContain('-A PODIUM-MARK-MASQ -j MARK --or-mark 0x4000');
    expect(r.filter.rules.filter((l) => l.includes('REJECT'))).toEqual([]);
  });

  test('2 and 3 endpoints: random probabilities 1/n, 1/(n-1), last unconditional', () => {
    const probs = (n: number) => {
      const ips = Array.from({ length: n }, (_, i) => `10.244.0.${10 + i}`);
      const r = computeProxyRules({ services: [service('web', clusterIP('10.96.0.10', [{ port: 80 }]))], endpointSlices: [slice('web', [{ port: 80 }], ips.map((ip) => ep(ip)))], config });
      const lines = rulesOf(r.nat, svcChain('default', 'web', '')).slice(1);
      expect(lines).toHaveLength(n);
      expect(new Set(lines.map((l) => l.split(' -j ')[1])).size).toBe(n);
      return lines.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last');
    };
    expect(probs(2)).toEqual(['0.5000000000', 'last']);
    expect(probs(3)).toEqual(['0.3333333333', '0.5000000000', 'last']);
  });

  test('no ready endpoints: no nat rules, REJECT in filter SERVICES (and EXTERNAL-SERVICES for node ports)', () => {
    const r = computeProxyRules({
      services: [service('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] })],
      endpointSlices: [slice('web', [{ port: 80 }], [ep('10.244.0.5', { ready: false, serving: false, terminating: false })])],
      config,
    });
    expect(r.nat.chains.filter((c) => /SVC|SEP|EXT-/.test(c))).toEqual([]);
    expect(rulesOf(r.nat, 'PODIUM-NODEPORTS')).toEqual([]);
    expect(rulesOf(r.filter, 'PODIUM-SERVICES')).toEqual(['-A PODIUM-SERVICES -m comment --comment "default/web has no endpoints" -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j REJECT']);
    expect(rulesOf(r.filter, 'PODIUM-EXTERNAL-SERVICES')).toEqual(['-A PODIUM-EXTERNAL-SERVICES -m comment --comment "default/web has no endpoints" -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30080 -j REJECT']);
  });

  test('NodePort: NODEPORTS -> EXT (masquerade) -> SVC; UDP protocol kept', () => {
    const r = computeProxyRules({
      services: [service('dns', { type: 'NodePort', clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] })],
      endpointSlices: [slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [ep('10.244.0.7')])],
      config,
    });
    const ext = hashedChain(P, 'EXT', 'default/dns:dnsudp');
    const svc = svcChain('default', 'dns', 'dns', 'udp');
    expect(rulesOf(r.nat, 'PODIUM-NODEPORTS')).toEqual([`-A PODIUM-NODEPORTS -m comment --comment "default/dns:dns" -p udp -m udp --dport 30053 -j ${ext}`]);
    expect(rulesOf(r.nat, ext)).toEqual([`-A ${ext} -m comment --comment "masquerade traffic for default/dns:dns external destinations" -j PODIUM-MARK-MASQ`, `-A ${ext} -j ${svc}`]);
    expect(r.nat.rules.some((l) => l.includes('-p udp -j DNAT --to-destination 10.244.0.7:5353'))).toBe(true);
    expect(rulesOf(r.nat, 'PODIUM-SERVICES')[0]).toContain('-d 10.96.0.53/32 -p udp -m udp --dport 53');
  });

  test('named targetPort resolves through the slice port of the same name, per service port', () => {
    const r = computeProxyRules({
      services: [service('web', clusterIP('10.96.0.10', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'metrics', port: 9090, targetPort: 'prom' }]))],
      endpointSlices: [slice('web', [{ name: 'metrics', port: 9102 }, { name: 'http', port: 8081 }], [ep('10.244.0.5')])],
      config,
    });
    const dnat = r.nat.rules.filter((l) => l.includes('DNAT'));
    expect(dnat).toHaveLength(2);
    expect(rulesOf(r.nat, rulesOf(r.nat, svcChain('default', 'web', 'http'))[1].split(' -j ')[1])[1]).toContain('10.244.0.5:8081');
    expect(rulesOf(r.nat, rulesOf(r.nat, svcChain('default', 'web', 'metrics'))[1].split(' -j ')[1])[1]).toContain('10.244.0.5:9102');
  });

  test('sessionAffinity ClientIP: recent check per endpoint before balancing, recent set in DNAT', () => {
    const r = computeProxyRules({
      services: [service('web', clusterIP('10.96.0.10', [{ port: 80 }], { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })), service('dflt', clusterIP('10.96.0.11', [{ port: 80 }], { sessionAffinity: 'ClientIP' }))],
      endpointSlices: [slice('web', [{ port: 80 }], [ep('10.244.0.5'), ep('10.244.0.6')]), slice('dflt', [{ port: 80 }], [ep('10.244.0.8')])],
      config,
    });
    const lines = rulesOf(r.nat, svcChain('default', 'web', '')).slice(1);
    expect(lines).toHaveLength(4);
    for (const l of lines.slice(0, 2)) {
      const sep = l.split(' -j ')[1];
      expect(l).toContain(`-m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${sep}`);
      expect(rulesOf(r.nat, sep)[1]).toContain(`-m recent --name ${sep} --mask 255.255.255.255 --rsource --set -j DNAT`);
    }
    expect(lines[2]).toContain('--probability 0.5000000000');
    expect(rulesOf(r.nat, svcChain('default', 'dflt', ''))[1]).toContain('--seconds 10800');
  });

  test('headless and ExternalName services get no rules', () => {
    const r = computeProxyRules({
      services: [service('headless', clusterIP('None', [{ port: 80 }])), service('ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] })],
      endpointSlices: [slice('headless', [{ port: 80 }], [ep('10.244.0.5')])],
      config,
    });
    expect(r.nat.chains).toEqual(['PODIUM-SERVICES', 'PODIUM-NODEPORTS', 'PODIUM-POSTROUTING', 'PODIUM-MARK-MASQ']);
    expect(rulesOf(r.nat, 'PODIUM-SERVICES')).toHaveLength(1);
    expect(r.filter.rules.filter((l) => l.includes('REJECT'))).toEqual([]);
  });

  test('selectorless service works from a manually created slice; other namespaces and services ignored', () => {
    const r = computeProxyRules({
      services: [service('legacy', clusterIP('10.96.0.20', [{ port: 5432 }]), 'db')],
      endpointSlices: [slice('legacy', [{ port: 5432 }], [ep('192.168.1.50')], 'legacy-manual', 'db'), slice('legacy', [{ port: 5432 }], [ep('10.0.0.99')], 'legacy-x', 'other'), slice('nope', [{ port: 5432 }], [ep('10.0.0.98')], 'nope', 'db')],
      config,
    });
    const dnat = r.nat.rules.filter((l) => l.includes('DNAT'));
    expect(dnat).toHaveLength(1);
    expect(dnat[0]).toContain('--to-destination 192.168.1.50:5432');
  });

  test('terminating endpoints are used only when none is ready, and only if serving', () => {
    const svc = service('web', clusterIP('10.96.0.10', [{ port: 80 }]));
    const term = ep('10.244.0.5', { ready: false, serving: true, terminating: true });
    const termNotServing = ep('10.244.0.6', { ready: false, serving: false, terminating: true });
    const only = computeProxyRules({ services: [svc], endpointSlices: [slice('web', [{ port: 80 }], [term, termNotServing])], config });
    expect(only.nat.rules.filter((l) => l.includes('DNAT')).map((l) => l.split('--to-destination ')[1])).toEqual(['10.244.0.5:80']);
    const mixed = computeProxyRules({ services: [svc], endpointSlices: [slice('web', [{ port: 80 }], [term, ep('10.244.0.7', {})])], config });
    expect(mixed.nat.rules.filter((l) => l.includes('DNAT')).map((l) => l.split('--to-destination ')[1])).toEqual(['10.244.0.7:80']);
  });

  test('endpoints split over several slices are merged and deduplicated', () => {
    const r = computeProxyRules({
      services: [service('web', clusterIP('10.96.0.10', [{ port: 80 }]))],
      endpointSlices: [slice('web', [{ port: 80 }], [ep('10.244.0.5'), ep('10.244.0.6')], 'a'), slice('web', [{ port: 80 }], [ep('10.244.0.6'), ep('10.244.0.9')], 'b')],
      config,
    });
    expect(r.nat.rules.filter((l) => l.includes('DNAT'))).toHaveLength(3);
  });

  test('chain names are deterministic, within 28 chars, and recognised as owned', () => {
    const a = hashedChain('PDTabcd-', 'SVC', 'ns/name:porttcp');
    expect(a).toBe(hashedChain('PDTabcd-', 'SVC', 'ns/name:porttcp'));
    expect(a).not.toBe(hashedChain('PDTabcd-', 'SVC', 'ns/name:portudp'));
    expect(a.length).toBeLessThanOrEqual(MAX_CHAIN_NAME);
    expect(hashedChain('PREFIX-1234', 'SEP', 'x').length).toBe(MAX_CHAIN_NAME);
    expect(() => computeProxyRules({ services: [], endpointSlices: [], config, chainPrefix: 'PREFIX-12345' })).toThrow(/too long/);
    expect(isProxyChain('PDTabcd-', a)).toBe(true);
    expect(isProxyChain('PODIUM-', 'PODIUM-SERVICES')).toBe(true);
    expect(isProxyChain('PODIUM-', 'PODIUM-NP-INGRESS')).toBe(false);
    expect(isProxyChain('PODIUM-', 'DOCKER')).toBe(false);
  });

  test('externalIPs and LoadBalancer ingress IPs go through the EXT chain; LoadBalancer gets node ports too', () => {
    const lb: Service = { ...service('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.30', externalIPs: ['192.0.2.7'], ports: [{ port: 443, nodePort: 30443, protocol: 'SCTP' }] }), status: { loadBalancer: { ingress: [{ ip: '198.51.100.4' }] } } };
    const r = computeProxyRules({ services: [lb], endpointSlices: [slice('lb', [{ port: 8443, protocol: 'SCTP' }], [ep('10.244.0.5')])], config });
    const ext = hashedChain(P, 'EXT', 'default/lb:sctp');
    const svcRules = rulesOf(r.nat, 'PODIUM-SERVICES');
    expect(svcRules).toContain(`-A PODIUM-SERVICES -m comment --comment "default/lb external IP" -d 192.0.2.7/32 -p sctp -m sctp --dport 443 -j ${ext}`);
    expect(svcRules).toContain(`-A PODIUM-SERVICES -m comment --comment "default/lb external IP" -d 198.51.100.4/32 -p sctp -m sctp --dport 443 -j ${ext}`);
    expect(rulesOf(r.nat, 'PODIUM-NODEPORTS')).toEqual([`-A PODIUM-NODEPORTS -m comment --comment "default/lb" -p sctp -m sctp --dport 30443 -j ${ext}`]);
  });

  test('identical input gives identical output (no churn between syncs)', () => {
    const input = { services: [service('b', clusterIP('10.96.0.2', [{ port: 80 }])), service('a', clusterIP('10.96.0.1', [{ port: 80 }]))], endpointSlices: [slice('a', [{ port: 80 }], [ep('10.244.0.2'), ep('10.244.0.1')])], config };
    expect(computeProxyRules(input)).toEqual(computeProxyRules({ ...input, services: [...input.services].reverse() }));
  });
});
