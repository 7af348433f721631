// Cluster DNS records (CoreDNS kubernetes plugin semantics) and pods' resolv.conf (kubelet's
// DNS configurer), both pure: plain in-memory stores, no sockets.
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Answer, SrvAnswer } from 'dns-packet';
import { answerQuestion, type DnsState } from '../../node-agent/dns/records.js';
import { parseResolvConf, podResolvConf } from '../../node-agent/dns/resolv-conf.js';
import { MemoryStore } from '../support/memory-store.js';


const NS = 'shop';

function svc(name: string, spec: Service['spec']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec };
}

function slice(service: string, endpoints: { ip: string; hostname?: string; ready?: boolean }[], ports: { name?: string; port: number; protocol?: string }[], suffix = 'a'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${suffix}`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], hostname: e.hostname, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}

const services = [
  svc('web', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('web-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 8080 }] }),
  svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  svc('alias', { type: 'ExternalName', externalName: 'web.shop.svc.cluster.local' }),
  svc('outside', { type: 'ExternalName', externalName: 'example.com.' }),
  svc('empty', { clusterIP: 'None' }),
];
const slices = [
  slice('web', [{ ip: '10.244.1.5' }], [{ name: 'http', port: 8080 }]),
  slice('web-headless', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }, { ip: '10.244.1.7', ready: false }], [{ name: 'http', port: 8080 }]),
  // Two slices, one endpoint in both (a transient duplicate while the controller moves it).
  slice('db', [{ ip: '10.244.2.1', hostname: 'db-0' }, { ip: '10.244.2.2', hostname: 'db-1' }], [{ name: 'pg', port: 5432 }]),
  slice('db', [{ ip: '10.244.2.2', hostname: 'db-1' }], [{ name: 'pg', port: 5432 }], 'b'),
  // Slice of another service in the namespace must not leak into "web".
  slice('other', [{ ip: '10.244.9.9' }], [{ name: 'http', port: 1 }]),
];
const pods: Pod[] = [{ metadata: { name: 'p', namespace: 'podsonly' } }];
const state: DnsState = { services: new MemoryStore(services), endpointSlices: new MemoryStore(slices), pods: new MemoryStore(pods) };

const q = (name: string, type: string) => answerQuestion(state, { name, type });
const data = (answers: Answer[] | undefined) => (answers ?? []).map((a) => ('data' in a ? a.data : undefined));

describe('cluster DNS records', () => {
  test('ClusterIP service A', () => {
    const r = q('web.shop.svc.cluster.local', 'A')!;
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '10.96.0.10' }]);
  });

  test('names are case-insensitive; the owner name echoes the question', () => {
    const r = q('WEB.Shop.SVC.cluster.LOCAL.', 'A')!;
    expect(data(r.answers)).toEqual(['10.96.0.10']);
    expect(r.answers[0].name).toBe('WEB.Shop.SVC.cluster.LOCAL');
  });

  test('headless service A lists every ready endpoint, not the not-ready one', () => {
    const r = q('web-headless.shop.svc.cluster.local', 'A')!;
    expect(r.rcode).toBe('NOERROR');
    expect(data(r.answers).sort()).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  test('headless endpoints are deduplicated across slices', () => {
    expect(data(q('db.shop.svc.cluster.local', 'A')!.answers).sort()).toEqual(['10.244.2.1', '10.244.2.2']);
  });

  test('headless service without endpoints is NXDOMAIN, as in CoreDNS', () => {
    expect(q('empty.shop.svc.cluster.local', 'A')!.rcode).toBe('NXDOMAIN');
  });

  test('ExternalName to a name in the zone: CNAME plus the target A record', () => {
    const r = q('alias.shop.svc.cluster.local', 'A')!;
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([
      { type: 'CNAME', name: 'alias.shop.svc.cluster.local', ttl: 5, data: 'web.shop.svc.cluster.local' },
      { type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '10.96.0.10' },
    ]);
  });

  test('ExternalName outside the zone: CNAME only, target flagged for the server to chase', () => {
    const r = q('outside.shop.svc.cluster.local', 'A')!;
    expect(r.answers).toEqual([{ type: 'CNAME', name: 'outside.shop.svc.cluster.local', ttl: 5, data: 'example.com' }]);
    expect(r.externalTarget).toBe('example.com');
  });

  test('StatefulSet hostname under the headless service', () => {
    const r = q('db-1.db.shop.svc.cluster.local', 'A')!;
    expect(data(r.answers)).toEqual(['10.244.2.2']);
    expect(q('db-7.db.shop.svc.cluster.local', 'A')!.rcode).toBe('NXDOMAIN');
  });

  test('dashed-IP endpoint name for endpoints without hostname', () => {
    expect(data(q('10-244-1-6.web-headless.shop.svc.cluster.local', 'A')!.answers)).toEqual(['10.244.1.6']);
    expect(q('10-244-1-7.web-headless.shop.svc.cluster.local', 'A')!.rcode).toBe('NXDOMAIN');
  });

  test('SRV for a ClusterIP service port: target is the service name', () => {
    const r = q('_http._tcp.web.shop.svc.cluster.local', 'SRV')!;
    expect(r.answers).toEqual([{ type: 'SRV', name: '_http._tcp.web.shop.svc.cluster.local', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' } }]);
    expect(r.additionals).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '10.96.0.10' }]);
    expect(data(q('_dns._udp.web.shop.svc.cluster.local', 'SRV')!.answers)).toEqual([{ priority: 0, weight: 100, port: 53, target: 'web.shop.svc.cluster.local' }]);
    // Wrong protocol for the port name: no such name.
    expect(q('_http._udp.web.shop.svc.cluster.local', 'SRV')!.rcode).toBe('NXDOMAIN');
  });

  test('SRV for a headless service: one per endpoint, A records in additional', () => {
    const r = q('_pg._tcp.db.shop.svc.cluster.local', 'SRV')!;
    const srv = (r.answers as SrvAnswer[]).map((a) => a.data).sort((a, b) => a.target.localeCompare(b.target));
    expect(srv).toEqual([
      { priority: 0, weight: 50, port: 5432, target: 'db-0.db.shop.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5432, target: 'db-1.db.shop.svc.cluster.local' },
    ]);
    expect(r.additionals.map((a) => [a.name, 'data' in a ? a.data : '']).sort()).toEqual([
      ['db-0.db.shop.svc.cluster.local', '10.244.2.1'],
      ['db-1.db.shop.svc.cluster.local', '10.244.2.2'],
    ]);
    const dashed = q('_http._tcp.web-headless.shop.svc.cluster.local', 'SRV')!;
    expect((dashed.answers as SrvAnswer[]).map((a) => a.data.target).sort()).toEqual([
      '10-244-1-5.web-headless.shop.svc.cluster.local',
      '10-244-1-6.web-headless.shop.svc.cluster.local',
    ]);
  });

  test('plain SRV on the service name lists every port', () => {
    const r = q('web.shop.svc.cluster.local', 'SRV')!;
    expect((r.answers as SrvAnswer[]).map((a) => a.data.port).sort()).toEqual([53, 80]);
  });

  test('unknown names are NXDOMAIN with the zone SOA in authority', () => {
    for (const name of ['nope.shop.svc.cluster.local', 'web.elsewhere.svc.cluster.local', 'foo.cluster.local', 'a.b.c.web.shop.svc.cluster.local']) {
      const r = q(name, 'A')!;
      expect(r.rcode).toBe('NXDOMAIN');
      expect(r.answers).toEqual([]);
      expect(r.authorities).toHaveLength(1);
      expect(r.authorities[0]).toMatchObject({ type: 'SOA', name: 'cluster.local', ttl: 5, data: { mname: 'ns.dns.cluster.local', minimum: 5 } });
    }
  });

  test('AAAA of an IPv4 service is NODATA (NOERROR, no answers), not NXDOMAIN', () => {
    for (const name of ['web.shop.svc.cluster.local', 'web-headless.shop.svc.cluster.local', '10-1-2-3.shop.pod.cluster.local']) {
      const r = q(name, 'AAAA')!;
      expect(r.rcode).toBe('NOERROR');
      expect(r.answers).toEqual([]);
      expect(r.authorities[0]?.type).toBe('SOA');
    }
    expect(q('web.shop.svc.cluster.local', 'MX')!.rcode).toBe('NOERROR');
  });

  test('namespace and svc names: NODATA when known, NXDOMAIN otherwise', () => {
    expect(q('shop.svc.cluster.local', 'A')!).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(q('svc.cluster.local', 'A')!).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(q('ghost.svc.cluster.local', 'A')!.rcode).toBe('NXDOMAIN');
    expect(q('cluster.local', 'SOA')!.answers[0].type).toBe('SOA');
  });

  test('pods insecure: the dashed IP answers itself', () => {
    expect(data(q('10-244-3-4.shop.pod.cluster.local', 'A')!.answers)).toEqual(['10.244.3.4']);
    // A namespace with only pods is known too.
    expect(data(q('10-244-3-4.podsonly.pod.cluster.local', 'A')!.answers)).toEqual(['10.244.3.4']);
    expect(q('not-an-ip.shop.pod.cluster.local', 'A')!.rcode).toBe('NXDOMAIN');
  });

  test('PTR for ClusterIPs and endpoints; unknown reverse names fall through', () => {
    expect(data(q('10.0.96.10.in-addr.arpa', 'PTR')!.answers)).toEqual(['web.shop.svc.cluster.local']);
    expect(data(q('1.2.244.10.in-addr.arpa', 'PTR')!.answers)).toEqual(['db-0.db.shop.svc.cluster.local']);
    expect(data(q('6.1.244.10.in-addr.arpa', 'PTR')!.answers)).toEqual(['10-244-1-6.web-headless.shop.svc.cluster.local']);
    expect(q('8.8.8.8.in-addr.arpa', 'PTR')).toBeUndefined();
  });

  test('names outside the zone are not ours', () => {
    expect(q('example.com', 'A')).toBeUndefined();
    expect(q('notcluster.local', 'A')).toBeUndefined();
  });

  test('custom cluster domain and TTL', () => {
    const r = answerQuestion(state, { name: 'web.shop.svc.k8s.example', type: 'A' }, { clusterDomain: 'k8s.example', ttl: 30 })!;
    expect(r.answers).toEqual([{ type: 'A', name: 'web.shop.svc.k8s.example', ttl: 30, data: '10.96.0.10' }]);
    expect(answerQuestion(state, { name: 'web.shop.svc.cluster.local', type: 'A' }, { clusterDomain: 'k8s.example' })).toBeUndefined();
  });
});

const HOST = `# generated by hand
nameserver 192.0.2.53
nameserver 192.0.2.54
search corp.example lab.example
options timeout:2 attempts:3
`;

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { name: 'p', namespace: 'team-a' }, spec: { containers: [{ name: 'c' }], ...spec } };
}

const opts = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: HOST };

describe('pod resolv.conf', () => {
  test('parses a host resolv.conf', () => {
    expect(parseResolvConf(HOST)).toEqual({ servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example', 'lab.example'], options: ['timeout:2', 'attempts:3'] });
    expect(parseResolvConf('search a.\nsearch b .\nnameserver 1.1.1.1 ; comment\n').searches).toEqual(['b']);
  });

  test('ClusterFirst (the default): cluster DNS, cluster then host search domains, ndots:5', () => {
    expect(podResolvConf(pod(), opts)).toBe(
      'search team-a.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\nnameserver 10.96.0.10\noptions ndots:5\n',
    );
    expect(podResolvConf(pod({ dnsPolicy: 'ClusterFirst' }), opts)).toBe(podResolvConf(pod(), opts));
  });

  test('ClusterFirst on the host network falls back to Default', () => {
    expect(podResolvConf(pod({ hostNetwork: true }), opts)).toBe('search corp.example lab.example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions timeout:2 attempts:3\n');
  });

  test('ClusterFirstWithHostNet uses cluster DNS even on the host network', () => {
    expect(podResolvConf(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), opts)).toContain('nameserver 10.96.0.10\n');
  });

  test('ClusterFirst without a cluster DNS address falls back to the host config', () => {
    expect(podResolvConf(pod(), { ...opts, clusterDNS: [] })).toBe(podResolvConf(pod({ dnsPolicy: 'Default' }), opts));
  });

  test('Default: the host nameservers, search and options, loopback servers kept as upstream does', () => {
    const out = podResolvConf(pod({ dnsPolicy: 'Default' }), { ...opts, hostResolvConf: 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n' });
    expect(out).toBe('nameserver 127.0.0.53\noptions edns0 trust-ad\n');
  });

  test('None: only dnsConfig; nothing at all means nothing to write', () => {
    const p = pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['ns1.svc.cluster-domain.example', 'my.dns.search.suffix'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } });
    expect(podResolvConf(p, opts)).toBe('search ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 1.2.3.4\noptions ndots:2 edns0\n');
    expect(podResolvConf(pod({ dnsPolicy: 'None' }), opts)).toBeUndefined();
  });

  test('dnsConfig merges: nameservers appended (max 3), searches deduplicated, options by name with dnsConfig winning', () => {
    const p = pod({
      dnsConfig: {
        nameservers: ['10.96.0.10', '1.1.1.1', '8.8.8.8', '9.9.9.9'],
        searches: ['cluster.local', 'extra.example'],
        options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }],
      },
    });
    expect(podResolvConf(p, opts)).toBe(
      'search team-a.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example extra.example\n' +
        'nameserver 10.96.0.10\nnameserver 1.1.1.1\nnameserver 8.8.8.8\n' +
        'options ndots:1 single-request-reopen\n',
    );
    const d = podResolvConf(pod({ dnsPolicy: 'Default', dnsConfig: { options: [{ name: 'timeout', value: '5' }, { name: 'rotate' }] } }), opts)!;
    expect(d).toContain('options timeout:5 attempts:3 rotate\n');
  });

  test('search limits: 32 domains, none over 253 characters, 2048 characters in all', () => {
    const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
    const out = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: many } }), opts)!;
    expect(out.split('\n')[0].split(' ').slice(1)).toEqual(many.slice(0, 32));
    const long = Array.from({ length: 30 }, (_, i) => `${'x'.repeat(90)}${i}.example`);
    const searches = podResolvConf(pod({ dnsPolicy: 'None', dnsConfig: { searches: [...long, `${'y'.repeat(254)}`] } }), opts)!.split('\n')[0].split(' ').slice(1);
    expect(searches.join(' ').length).toBeLessThanOrEqual(2048);
    expect(searches).toEqual(long.slice(0, searches.length));
    expect(searches.length).toBeGreaterThan(15);
  });
});
