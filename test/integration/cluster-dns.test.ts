// The cluster DNS server on real sockets: queries over UDP and TCP with dns-packet, truncation,
// forwarding to fake upstream servers this test runs on 127.0.0.1, and busybox nslookup from a
// container on a Docker network of this test's own, resolving through the server bound to the
// network's gateway with the resolv.conf podResolvConf writes.
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import dnsPacket from 'dns-packet';
import type { DecodedPacket, Packet, RecordType, SrvAnswer } from 'dns-packet';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ClusterDnsServer } from '../../node-agent/dns/server.js';
import { podResolvConf } from '../../node-agent/dns/resolv-conf.js';
import type { DnsState } from '../../node-agent/dns/records.js';
import { MemoryStore } from '../support/memory-store.js';


const NS = 'shop';
const svc = (name: string, spec: Service['spec']): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec });
const slice = (service: string, ips: string[], port: number, portName = 'http'): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-x`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  ports: [{ name: portName, port, protocol: 'TCP' }],
});

const bigIPs = Array.from({ length: 80 }, (_, i) => `10.244.${Math.floor(i / 200) + 5}.${(i % 200) + 1}`);
const services = new MemoryStore<Service>([
  svc('web', { clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }),
  svc('web-headless', { clusterIP: 'None', ports: [{ name: 'http', port: 8080 }] }),
  svc('big', { clusterIP: 'None', ports: [{ name: 'http', port: 8080 }] }),
  svc('alias', { type: 'ExternalName', externalName: 'web.shop.svc.cluster.local' }),
  svc('outside', { type: 'ExternalName', externalName: 'example.com' }),
]);
const endpointSlices = new MemoryStore<EndpointSlice>([slice('web-headless', ['10.244.1.5', '10.244.1.6'], 8080), slice('big', bigIPs, 8080)]);
const state: DnsState = { services, endpointSlices, pods: new MemoryStore<Pod>() };

let nextId = 1;
function query(name: string, type: RecordType, edns = false): Buffer {
  const p: Packet = { type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }] };
  if (edns) p.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }];
  return dnsPacket.encode(p);
}

async function udp(port: number, name: string, type: RecordType, edns = false, host = '127.0.0.1'): Promise<DecodedPacket & { rcode?: string }> {
  const msg = query(name, type, edns);
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no UDP answer for ${name}`)), 5000);
      sock.on('message', (res) => {
        clearTimeout(t);
        resolve(dnsPacket.decode(res));
      });
      sock.send(msg, port, host);
    });
  } finally {
    sock.close();
  }
}

async function tcp(port: number, name: string, type: RecordType): Promise<DecodedPacket & { rcode?: string }> {
  const msg = query(name, type);
  return new Promise((resolve, reject) => {
    const conn = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no TCP answer for ${name}`));
    }, 5000);
    conn.on('error', reject);
    conn.on('connect', () => conn.write(dnsPacket.streamEncode(dnsPacket.decode(msg))));
    conn.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        conn.destroy();
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
  });
}

// A fake upstream resolver: example.com A, a name too big for UDP (answered in full over TCP
// only), NXDOMAIN for everything else. Counts what it is asked.
interface FakeUpstream {
  port: number;
  asked: string[];
  close(): Promise<void>;
}
async function startFakeUpstream(): Promise<FakeUpstream> {
  const asked: string[] = [];
  const answer = (msg: Buffer, overTcp: boolean): Buffer => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0];
    asked.push(`${question.name}/${question.type}${overTcp ? '/tcp' : ''}`);
    const base: Packet = { type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions };
    if (question.name.toLowerCase() === 'example.com' && question.type === 'A') return dnsPacket.encode({ ...base, answers: [{ type: 'A', name: question.name, ttl: 60, data: '192.0.2.80' }] });
    if (question.name === 'huge.example' && question.type === 'TXT') {
      if (!overTcp) return dnsPacket.encode({ ...base, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.TRUNCATED_RESPONSE });
      return dnsPacket.encode({ ...base, answers: Array.from({ length: 20 }, (_, i) => ({ type: 'TXT' as const, name: 'huge.example', ttl: 60, data: `${i}-${'z'.repeat(100)}` })) });
    }
    return dnsPacket.encode({ ...base, flags: dnsPacket.RECURSION_AVAILABLE | 3 });
  };
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  sock.on('message', (msg, rinfo) => sock.send(answer(msg, false), rinfo.port, rinfo.address));
  const server = net.createServer((conn) => {
    let buf = Buffer.alloc(0);
    conn.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 + buf.readUInt16BE(0)) {
        const res = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)), true);
        const head = Buffer.alloc(2);
        head.writeUInt16BE(res.length);
        conn.end(Buffer.concat([head, res]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    port,
    asked,
    close: async () => {
      await new Promise<void>((r) => sock.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('cluster DNS server on sockets', () => {
  let upstream: FakeUpstream;
  let silent: dgram.Socket;
  let server: ClusterDnsServer;
  let port: number;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // A resolver that never answers: the server must time out on it and try the next one.
    silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    server = new ClusterDnsServer(state, { address: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${silent.address().port}`, `127.0.0.1:${upstream.port}`], upstreamTimeoutMs: 1000 });
    ({ port } = await server.start());
  });

  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    silent?.close();
  });

  test('A over UDP and TCP, authoritative', async () => {
    for (const res of [await udp(port, 'web.shop.svc.cluster.local', 'A'), await tcp(port, 'web.shop.svc.cluster.local', 'A')]) {
      expect(res.rcode).toBe('NOERROR');
      expect(res.flag_aa).toBe(true);
      expect(res.answers).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, class: 'IN', flush: false, data: '10.96.0.20' }]);
    }
  });

  test('SRV with the target address in additional', async () => {
    const res = await udp(port, '_http._tcp.web-headless.shop.svc.cluster.local', 'SRV');
    expect((res.answers as SrvAnswer[]).map((a) => `${a.data.target}:${a.data.port}`).sort()).toEqual([
      '10-244-1-5.web-headless.shop.svc.cluster.local:8080',
      '10-244-1-6.web-headless.shop.svc.cluster.local:8080',
    ]);
    expect(res.additionals?.filter((a) => a.type === 'A')).toHaveLength(2);
  });

  test('NXDOMAIN with SOA, NODATA for AAAA; never forwarded', async () => {
    const nx = await udp(port, 'missing.shop.svc.cluster.local', 'A');
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities?.[0]?.type).toBe('SOA');
    const nodata = await tcp(port, 'web.shop.svc.cluster.local', 'AAAA');
    expect(nodata.rcode).toBe('NOERROR');
    expect(nodata.answers).toEqual([]);
    expect(upstream.asked.filter((a) => a.includes('cluster.local'))).toEqual([]);
  });

  test('CNAME for ExternalName, chained to the in-zone target', async () => {
    const res = await udp(port, 'alias.shop.svc.cluster.local', 'A');
    expect(res.answers?.map((a) => [a.type, 'data' in a ? a.data : ''])).toEqual([
      ['CNAME', 'web.shop.svc.cluster.local'],
      ['A', '10.96.0.20'],
    ]);
  });

  test('CNAME to an outside name is resolved through the upstream', async () => {
    const res = await udp(port, 'outside.shop.svc.cluster.local', 'A');
    expect(res.answers?.map((a) => [a.type, a.name, 'data' in a ? a.data : ''])).toEqual([
      ['CNAME', 'outside.shop.svc.cluster.local', 'example.com'],
      ['A', 'example.com', '192.0.2.80'],
    ]);
  });

  test('a big headless answer is truncated over UDP and complete over TCP', async () => {
    const small = await udp(port, 'big.shop.svc.cluster.local', 'A');
    expect(small.flag_tc).toBe(true);
    expect(small.answers!.length).toBeGreaterThan(0);
    expect(small.answers!.length).toBeLessThan(bigIPs.length);
    // EDNS0 lets the client take it all over UDP.
    const edns = await udp(port, 'big.shop.svc.cluster.local', 'A', true);
    expect(edns.flag_tc).toBe(false);
    expect(edns.answers!.length).toBe(bigIPs.length);
    const full = await tcp(port, 'big.shop.svc.cluster.local', 'A');
    expect(full.flag_tc).toBe(false);
    expect(full.answers!.map((a) => ('data' in a ? a.data : '')).sort()).toEqual([...bigIPs].sort());
  });

  test('store changes show on the next query', async () => {
    const lateSlice = slice('late', ['10.244.7.7'], 80);
    const lateService = svc('late', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] });
    endpointSlices.set(lateSlice);
    services.set(lateService);
    try {
      const res = await udp(port, 'late.shop.svc.cluster.local', 'A');
      expect(res.answers?.map((a) => ('data' in a ? a.data : ''))).toEqual(['10.244.7.7']);
    } finally {
      services.remove(lateService);
      endpointSlices.remove(lateSlice);
    }
    expect((await udp(port, 'late.shop.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });

  test('outside names are forwarded, past a dead upstream, keeping the id', async () => {
    const res = await udp(port, 'Example.com', 'A');
    expect(res.rcode).toBe('NOERROR');
    expect(res.answers?.map((a) => ('data' in a ? a.data : ''))).toEqual(['192.0.2.80']);
    // The live upstream is now preferred: no more waiting on the dead one first.
    const started = Date.now();
    expect((await udp(port, 'nope.example', 'A')).rcode).toBe('NXDOMAIN');
    expect(Date.now() - started).toBeLessThan(700);
    expect(upstream.asked).toContain('nope.example/A');
  });

  test('a truncated upstream answer is retried over TCP for a TCP client, passed on as is to a UDP client', async () => {
    const viaTcp = await tcp(port, 'huge.example', 'TXT');
    expect(viaTcp.answers).toHaveLength(20);
    const viaUdp = await udp(port, 'huge.example', 'TXT');
    expect(viaUdp.flag_tc).toBe(true);
    expect(upstream.asked).toContain('huge.example/TXT/tcp');
  });

  test('unknown reverse names fall through to the upstream; known ones are answered here', async () => {
    const known = await udp(port, '20.0.96.10.in-addr.arpa', 'PTR');
    expect(known.answers?.map((a) => ('data' in a ? a.data : ''))).toEqual(['web.shop.svc.cluster.local']);
    await udp(port, '1.2.0.192.in-addr.arpa', 'PTR');
    expect(upstream.asked).toContain('1.2.0.192.in-addr.arpa/PTR');
  });

  test('SERVFAIL when every upstream fails, REFUSED when there are none', async () => {
    const dead = dgram.createSocket('udp4');
    await new Promise<void>((r) => dead.bind(0, '127.0.0.1', () => r()));
    const lonely = new ClusterDnsServer(state, { address: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${dead.address().port}`], upstreamTimeoutMs: 200 });
    const none = new ClusterDnsServer(state, { address: '127.0.0.1', port: 0, upstreams: [] });
    try {
      const p1 = (await lonely.start()).port;
      const p2 = (await none.start()).port;
      expect((await udp(p1, 'example.com', 'A')).rcode).toBe('SERVFAIL');
      expect((await udp(p2, 'example.com', 'A')).rcode).toBe('REFUSED');
      expect((await udp(p2, 'web.shop.svc.cluster.local', 'A')).answers).toHaveLength(1);
    } finally {
      await lonely.stop();
      await none.stop();
      dead.close();
    }
  });
});

describe('busybox nslookup from a container', () => {
  const IMAGE = 'podium.local/busybox:1.35';
  const NETWORK = `podium-dns-${randomUUID().slice(0, 8)}`;
  const docker = new Docker();
  let server: ClusterDnsServer | undefined;
  let dir: string;
  let gateway: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-dns-'));
    const network = await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: { 'podium.test': 'cluster-dns' } });
    const info = (await network.inspect()) as { IPAM?: { Config?: { Gateway?: string }[] } };
    gateway = info.IPAM?.Config?.[0]?.Gateway ?? '';
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    server = new ClusterDnsServer(state, { address: gateway, port: 53, upstreams: [] });
    await server.start();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`podium.test.network=${NETWORK}`] } }).catch(() => []);
    for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await docker.getNetwork(NETWORK).remove().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function run(script: string): Promise<string> {
    const pod: Pod = { metadata: { name: 'client', namespace: NS }, spec: { containers: [{ name: 'c' }] } };
    const resolv = podResolvConf(pod, { clusterDNS: [gateway], clusterDomain: 'cluster.local', hostResolvConf: 'nameserver 127.0.0.53\n' })!;
    const file = path.join(dir, `resolv-${randomUUID().slice(0, 6)}.conf`);
    writeFileSync(file, resolv);
    const container = await docker.createContainer({
      Image: IMAGE,
      Cmd: ['sh', '-c', script],
      Labels: { 'podium.test.network': NETWORK },
      HostConfig: { NetworkMode: NETWORK, Binds: [`${file}:/etc/resolv.conf:ro`] },
    });
    try {
      await container.start();
      await container.wait();
      const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
      return demux(logs);
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  test('nslookup of a headless service prints both addresses, the alias its target', async () => {
    const out = await run(
      'cat /etc/resolv.conf; echo ===; nslookup web-headless.shop.svc.cluster.local; echo ===; nslookup alias.shop.svc.cluster.local; echo ===; nslookup missing.shop.svc.cluster.local; echo rc=$?',
    );
    if (process.env.PODIUM_DNS_TEST_VERBOSE) console.log(out);
    const [conf, headless, alias, missing] = out.split('===\n');
    expect(conf).toContain(`nameserver ${gateway}`);
    expect(conf).toContain('search shop.svc.cluster.local svc.cluster.local cluster.local');
    const afterName = headless.slice(headless.indexOf('Name:'));
    expect(afterName.match(/^Address: (\S+)$/gm)?.map((l) => l.replace('Address: ', '')).sort()).toEqual(['10.244.1.5', '10.244.1.6']);
    expect(alias).toMatch(/canonical name = web\.shop\.svc\.cluster\.local/);
    expect(alias).toMatch(/Address: 10\.96\.0\.20/);
    expect(missing).toMatch(/NXDOMAIN/);
  }, 180_000);
});

// Docker's multiplexed log format (no TTY): 8-byte frame headers, the size in the last four.
function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString();
}
