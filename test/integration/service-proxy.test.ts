// The service proxy against real iptables and real Docker: its own bridge network with busybox
// httpd backends and a client container, a Service + EndpointSlice in in-memory stores, and
// traffic through the ClusterIP and a NodePort on 127.0.0.1. Chains use a per-run prefix and
// everything the suite creates is removed at the end, even on failure.
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Iptables } from '../../node-agent/iptables/iptables.js';
import type { NodeNetworkConfig } from '../../node-agent/network/types.js';
import { computeProxyRules, isProxyChain } from '../../node-agent/proxy/iptables-rules.js';
import { enableHairpin, ServiceProxy, type SyncResult } from '../../node-agent/proxy/service-proxy.js';
import { until } from '../support/wait.js';
import { MemoryStore } from '../support/memory-store.js';

const run = promisify(execFile);
const IMAGE = 'podium.local/busybox:1.35';
const RUN = randomBytes(2).toString('hex');
const PREFIX = `PDT${RUN}-`;
const NETWORK = `podium-proxytest-${RUN}`;
const LABEL = 'podium.test/service-proxy';
const NS = 'proxytest';
const CLUSTER_IP = `10.96.${randomInt(200, 250)}.${randomInt(10, 250)}`;
const NODE_PORT = randomInt(31000, 32700);
const docker = new Docker();
const iptables = new Iptables();


let subnetBase = '';
let bridge = '';
let networkId = '';
const ids: Record<string, string> = {};
const ips: Record<string, string> = {};
const services = new MemoryStore<Service>();
const slices = new MemoryStore<EndpointSlice>();
let config: NodeNetworkConfig;
let proxy: ServiceProxy;
const syncs: SyncResult[] = [];

function svc(name: string, ip: string, extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { type: 'ClusterIP', clusterIP: ip, ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }], ...extra } };
}

function slice(service: string, backends: string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-x1`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: backends.map((b) => ({ addresses: [ips[b]], conditions: { ready: true } })),
  };
}

async function wget(from: string, url: string): Promise<{ ok: boolean; text: string }> {
  try {
    // busybox timeout, not wget -T: this static busybox's wget crashes on -T.
    const { stdout } = await run('docker', ['exec', ids[from], 'timeout', '4', 'wget', '-qO-', url], { timeout: 15_000 });
    return { ok: true, text: stdout.trim() };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, text: (err.stderr ?? err.message).trim() };
  }
}

function hostGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function natChains(): Promise<string[]> {
  return (await iptables.chains('nat', PREFIX)).sort();
}

/** Applies a store change and returns how long until a sync that started after it finished. */
async function timedChange(change: () => void): Promise<number> {
  const t0 = Date.now();
  const seen = syncs.length;
  change();
  const r = await until('a sync after the change', async () => syncs.slice(seen).find((s) => s.at - s.durationMs >= t0), 5000);
  return r.at - t0;
}

async function pickSubnet(): Promise<string> {
  const nets = await docker.listNetworks();
  const used = new Set(nets.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)));
  for (;;) {
    const base = `10.250.${randomInt(1, 254)}`;
    if (!used.has(`${base}.0/24`)) return base;
  }
}

beforeAll(async () => {
  await run('bash', [`${process.cwd()}/scripts/ensure-docker.sh`]);
  subnetBase = await pickSubnet();
  const net = await docker.createNetwork({ Name: NETWORK, Driver: 'bridge', Labels: { [LABEL]: RUN }, IPAM: { Config: [{ Subnet: `${subnetBase}.0/24`, Gateway: `${subnetBase}.1` }] } });
  networkId = net.id;
  bridge = `br-${networkId.slice(0, 12)}`;
  const start = async (name: string, ip: string, cmd: string) => {
    const c = await docker.createContainer({
      Image: IMAGE,
      name: `${NETWORK}-${name}`,
      Hostname: name,
      Cmd: ['sh', '-c', cmd],
      Labels: { [LABEL]: RUN },
      HostConfig: { NetworkMode: NETWORK },
      NetworkingConfig: { EndpointsConfig: { [NETWORK]: { IPAMConfig: { IPv4Address: ip } } } },
    });
    await c.start();
    ids[name] = c.id;
    ips[name] = ip;
  };
  const httpd = 'mkdir -p /www && hostname >/www/index.html && exec httpd -f -p 8080 -h /www';
  await start('be-a', `${subnetBase}.10`, httpd);
  await start('be-b', `${subnetBase}.11`, httpd);
  await start('client', `${subnetBase}.20`, 'exec sleep 3600');
  config = { nodeName: 'proxytest-node', nodeIP: `${subnetBase}.1`, podCIDR: `${subnetBase}.0/24`, bridge, serviceCIDR: '10.96.0.0/16', clusterDomain: 'cluster.local' };
  // The backends answer directly before any service rule exists.
  await until('backends serving', async () => (await wget('client', `http://${ips['be-b']}:8080/`)).text === 'be-b' && (await wget('client', `http://${ips['be-a']}:8080/`)).text === 'be-a');
}, 120_000);

afterAll(async () => {
  await proxy?.cleanup().catch(() => undefined);
  // Safety net when the proxy never got to clean up (e.g. start failed half-way).
  const leftover = new ServiceProxy({ services, endpointSlices: slices }, config, { chainPrefix: PREFIX, setSysctls: false });
  await leftover.cleanup().catch(() => undefined);
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL}=${RUN}`] } }).catch(() => []);
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  if (networkId) await docker.getNetwork(networkId).remove().catch(() => undefined);
}, 60_000);

describe('ServiceProxy on real iptables and Docker', () => {
  test('ClusterIP balances over both backends, NodePort answers on 127.0.0.1', async () => {
    services.set(svc('web', CLUSTER_IP, { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP', nodePort: NODE_PORT }] }));
    slices.set(slice('web', ['be-a', 'be-b']));
    proxy = new ServiceProxy({ services, endpointSlices: slices }, config, { chainPrefix: PREFIX });
    proxy.onSync((r) => syncs.push(r));
    await proxy.start();
    const seen = new Set<string>();
    for (let i = 0; i < 30 && seen.size < 2; i++) {
      const r = await wget('client', `http://${CLUSTER_IP}/`);
      expect(r).toMatchObject({ ok: true });
      seen.add(r.text);
    }
    expect([...seen].sort()).toEqual(['be-a', 'be-b']);
    const fromHost = new Set<string>();
    for (let i = 0; i < 30 && fromHost.size < 2; i++) fromHost.add(await hostGet(NODE_PORT));
    expect([...fromHost].sort()).toEqual(['be-a', 'be-b']);
    // The node itself (outside the pod CIDR) reaches the ClusterIP too.
    const { stdout } = await run('curl', ['-s', '-m', '3', `http://${CLUSTER_IP}/`]);
    expect(['be-a', 'be-b']).toContain(stdout.trim());
    expect((await readFile('/proc/sys/net/ipv4/conf/all/route_localnet', 'utf8')).trim()).toBe('1');
  });

  test('no endpoints: connection refused from pods and on the node port; rules follow within a second', async () => {
    const ms = await timedChange(() => slices.set(slice('web', [])));
    console.log(`store change -> rules applied (remove endpoints): ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    const r = await wget('client', `http://${CLUSTER_IP}/`);
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/Connection refused|can't connect/);
    await expect(hostGet(NODE_PORT)).rejects.toThrow(/ECONNREFUSED/);

    const back = await timedChange(() => slices.set(slice('web', ['be-b'])));
    console.log(`store change -> rules applied (add endpoint): ${back} ms`);
    expect(back).toBeLessThan(1000);
    expect(await wget('client', `http://${CLUSTER_IP}/`)).toEqual({ ok: true, text: 'be-b' });
    expect(await hostGet(NODE_PORT)).toBe('be-b');
  });

  test('a burst of store changes is coalesced into a few syncs and the last state wins', async () => {
    const before = syncs.length;
    for (let i = 0; i < 50; i++) slices.set(slice('web', i % 2 ? ['be-a'] : ['be-a', 'be-b']));
    await new Promise((r) => setTimeout(r, 800));
    expect(syncs.length - before).toBeGreaterThanOrEqual(1);
    expect(syncs.length - before).toBeLessThanOrEqual(3);
    for (let i = 0; i < 6; i++) expect(await wget('client', `http://${CLUSTER_IP}/`)).toEqual({ ok: true, text: 'be-a' });
  });

  test('session affinity ClientIP sticks to one backend', async () => {
    await timedChange(() => {
      services.set(svc('web', CLUSTER_IP, { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }));
      slices.set(slice('web', ['be-a', 'be-b']));
    });
    const first = await wget('client', `http://${CLUSTER_IP}/`);
    expect(first.ok).toBe(true);
    for (let i = 0; i < 8; i++) expect((await wget('client', `http://${CLUSTER_IP}/`)).text).toBe(first.text);
  });

  test('hairpin: a backend reaches itself through its service', async () => {
    await enableHairpin(bridge);
    const ip2 = CLUSTER_IP.replace(/\.\d+$/, (m) => `.${(Number(m.slice(1)) % 250) + 1}`);
    await timedChange(() => {
      services.set(svc('self', ip2));
      slices.set(slice('self', ['be-a']));
    });
    try {
      expect(await wget('be-a', `http://${ip2}/`)).toEqual({ ok: true, text: 'be-a' });
    } finally {
      await timedChange(() => {
        services.remove(svc('self', ip2));
        slices.remove(slice('self', []));
      });
    }
  });

  test('stale service chains are deleted; chains of other shapes under the prefix are left alone', async () => {
    const foreign = `${PREFIX}NP-KEEP`;
    await iptables.restore('nat', [foreign], []);
    try {
      await timedChange(() => {
        services.set(svc('other', CLUSTER_IP.replace(/\.\d+$/, '.251')));
        slices.set(slice('other', ['be-a']));
      });
      const withOther = await natChains();
      expect(withOther.filter((c) => c.startsWith(`${PREFIX}SEP-`))).toHaveLength(3);
      await timedChange(() => {
        services.remove(svc('other', ''));
        slices.remove(slice('other', []));
      });
      const after = await natChains();
      expect(after.filter((c) => c.startsWith(`${PREFIX}SVC-`))).toHaveLength(1);
      expect(after.filter((c) => c.startsWith(`${PREFIX}SEP-`))).toHaveLength(2);
      expect(after).toContain(foreign);
    } finally {
      await iptables.deleteChains('nat', [foreign]);
    }
  });

  test('stop leaves traffic working; a new proxy over the same prefix rebuilds from scratch', async () => {
    await proxy.stop();
    slices.set(slice('web', ['be-a'])); // not followed: the proxy is stopped
    await new Promise((r) => setTimeout(r, 300));
    // Still the rules of before the stop (both backends, affinity on).
    const before = await wget('client', `http://${CLUSTER_IP}/`);
    expect(before.ok).toBe(true);
    expect(['be-a', 'be-b']).toContain(before.text);
    // Remove a rule behind the proxy's back: the restarted proxy must repair it.
    const svcChain = (await natChains()).find((c) => c.startsWith(`${PREFIX}SVC-`))!;
    await run('iptables', ['-w', '-t', 'nat', '-F', svcChain]);
    services.set(svc('web', CLUSTER_IP));
    proxy = new ServiceProxy({ services, endpointSlices: slices }, config, { chainPrefix: PREFIX });
    proxy.onSync((r) => syncs.push(r));
    await proxy.start();
    for (let i = 0; i < 6; i++) expect(await wget('client', `http://${CLUSTER_IP}/`)).toEqual({ ok: true, text: 'be-a' });
  });

  test('every rule shape (UDP, SCTP, affinity, external IPs, REJECT) loads into iptables', async () => {
    // Loaded under a second prefix with no jumps into it, so it never sees a packet.
    const prefix = `PDU${RUN}-`;
    const lb: Service = { ...svc('lb', '10.96.254.1', { type: 'LoadBalancer', externalIPs: ['192.0.2.7'], sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 53, protocol: 'UDP', nodePort: 30999 }, { name: 'sctp', port: 9, protocol: 'SCTP', nodePort: 30998 }] }), status: { loadBalancer: { ingress: [{ ip: '198.51.100.4' }] } } };
    const sl: EndpointSlice = { ...slice('lb', ['be-a', 'be-b']), ports: [{ name: 'http', port: 5353, protocol: 'UDP' }, { name: 'sctp', port: 9999, protocol: 'SCTP' }] };
    const empty: Service = svc('empty', '10.96.254.2', { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', nodePort: 30997 }] });
    const rules = computeProxyRules({ services: [lb, empty], endpointSlices: [sl], config, chainPrefix: prefix });
    try {
      await iptables.restore('nat', rules.nat.chains, rules.nat.rules);
      await iptables.restore('filter', rules.filter.chains, rules.filter.rules);
      const { stdout } = await run('iptables-save', ['-t', 'nat']);
      expect(stdout).toMatch(new RegExp(`-A ${prefix}SEP-\\S+ -p sctp .*-m recent --set .*-j DNAT --to-destination ${ips['be-a'].replace(/\./g, '\\.')}:9999`));
      expect((await iptables.chains('filter', prefix)).length).toBe(3);
    } finally {
      await iptables.deleteChains('nat', await iptables.chains('nat', prefix));
      await iptables.deleteChains('filter', await iptables.chains('filter', prefix));
    }
  });

  test('cleanup removes every chain and jump of the prefix', async () => {
    await proxy.cleanup();
    for (const table of ['nat', 'filter'] as const) expect((await iptables.chains(table, PREFIX)).filter((c) => isProxyChain(PREFIX, c))).toEqual([]);
    const { stdout } = await run('iptables-save');
    expect(stdout).not.toContain(PREFIX);
  });
});
