// NetworkPolicy enforcement with real iptables and real containers: a private Docker bridge
// network, a busybox httpd "server" and two busybox clients, pods in in-memory stores that carry
// the containers' addresses. Policies are added and removed through the stores, as the informers
// would, and reachability is checked with wget from inside the clients. Everything the suite
// creates (containers, network, chains with its own prefix, the FORWARD jump) is removed at the end.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { Iptables } from '../../node-agent/iptables/iptables.js';
import { NetworkPolicyEnforcer } from '../../node-agent/network-policy/network-policy.js';
import type { NodeNetworkConfig } from '../../node-agent/network/types.js';
import { until } from '../support/wait.js';
import { MemoryStore } from '../support/memory-store.js';

const run = promisify(execFile);
const IMAGE = 'podium.local/busybox:1.35';
const RUN_ID = randomBytes(2).toString('hex');
const PREFIX = `PDN${RUN_ID}-`;
const NETWORK = `podium-np-${RUN_ID}`;
const LABEL = `podium.test.netpol=${RUN_ID}`;
const NODE = 'np-node';
const NS = 'default';
const docker = new Docker();
const iptables = new Iptables();


const state = {
  networkPolicies: new MemoryStore<NetworkPolicy>(),
  pods: new MemoryStore<Pod>(),
  namespaces: new MemoryStore<Namespace>(),
};

let bridge = '';
let gateway = '';
let subnet = '';
const ips: Record<string, string> = {};
const containers: Record<string, string> = {};
let enforcer: NetworkPolicyEnforcer | undefined;

async function createNetwork(): Promise<void> {
  const used = new Set<string>();
  for (const n of await docker.listNetworks()) for (const c of n.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  for (let attempt = 0; attempt < 20; attempt++) {
    const x = 1 + Math.floor(Math.random() * 250);
    subnet = `10.251.${x}.0/24`;
    if (used.has(subnet)) continue;
    gateway = `10.251.${x}.1`;
    try {
      const net = await docker.createNetwork({
        Name: NETWORK,
        Driver: 'bridge',
        IPAM: { Config: [{ Subnet: subnet, Gateway: gateway }] },
        Options: { 'com.docker.network.bridge.name': `pdn${RUN_ID}` },
        Labels: { 'podium.test.netpol': RUN_ID },
      });
      bridge = `pdn${RUN_ID}`;
      void net;
      return;
    } catch (e) {
      if (!/overlap|already/i.test((e as Error).message)) throw e;
    }
  }
  throw new Error('no free 10.251.X.0/24 for the test network');
}

async function startContainer(name: string, cmd: string[]): Promise<void> {
  const c = await docker.createContainer({
    name: `${NETWORK}-${name}`,
    Image: IMAGE,
    Cmd: cmd,
    Labels: { 'podium.test.netpol': RUN_ID },
    HostConfig: { NetworkMode: NETWORK },
  });
  containers[name] = c.id;
  await c.start();
  const info = await c.inspect();
  ips[name] = info.NetworkSettings.Networks[NETWORK].IPAddress;
}

function pod(name: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels },
    spec: { nodeName: NODE, containers: [{ name: 'main', image: IMAGE, ports: name === 'server' ? [{ name: 'http', containerPort: 8080 }] : [] }] },
    status: { phase: 'Running', podIP: ips[name], podIPs: [{ ip: ips[name] }] },
  };
}

/** Whether `from` fetches the server's page (wget fails fast when the packet is rejected). */
async function reaches(from: string): Promise<boolean> {
  try {
    const { stdout } = await run('docker', ['exec', containers[from], 'timeout', '3', 'wget', '-qO-', `http://${ips.server}:8080/`]);
    return stdout.trim() === 'ok';
  } catch {
    return false;
  }
}

async function forwardRules(): Promise<string[]> {
  const { stdout } = await run('iptables', ['-w', '-t', 'filter', '-S', 'FORWARD']);
  return stdout.split('\n').filter((l) => l.startsWith('-A FORWARD '));
}

const PROBE = ['-s', '192.0.2.1/32', '-m', 'comment', '--comment', `${PREFIX}probe`, '-j', 'DROP'];

beforeAll(async () => {
  await createNetwork();
  await startContainer('server', ['sh', '-c', 'mkdir -p /www && echo ok >/www/index.html && exec httpd -f -p 8080 -h /www']);
  await startContainer('client', ['sleep', '3600']);
  await startContainer('stranger', ['sleep', '3600']);
  state.namespaces.set({ metadata: { name: NS, labels: { 'kubernetes.io/metadata.name': NS } } });
  state.pods.set(pod('server', { role: 'server' }));
  state.pods.set(pod('client', { role: 'client' }));
  state.pods.set(pod('stranger', { role: 'stranger' }));
}, 60_000);

afterAll(async () => {
  enforcer?.stop();
  await run('iptables', ['-w', '-t', 'filter', '-D', 'FORWARD', ...PROBE]).catch(() => undefined);
  await iptables.removeJump('filter', 'FORWARD', `${PREFIX}FORWARD`, ['-m', 'comment', '--comment', 'podium network policy']).catch(() => undefined);
  await iptables.deleteChains('filter', await iptables.chains('filter', PREFIX)).catch(() => undefined);
  const leftovers = await docker.listContainers({ all: true, filters: { label: [LABEL] } }).catch(() => []);
  for (const c of leftovers) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  await docker.getNetwork(NETWORK).remove().catch(() => undefined);
}, 60_000);

describe('NetworkPolicyEnforcer on real iptables and Docker', () => {
  const config = (): NodeNetworkConfig => ({ nodeName: NODE, nodeIP: gateway, podCIDR: subnet, bridge, serviceCIDR: '10.96.0.0/16', clusterDomain: 'cluster.local' });

  const allowClients: NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'server-allow-clients', namespace: NS },
    spec: { podSelector: { matchLabels: { role: 'server' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] }] },
  };
  const clientEgressDeny: NetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'client-egress-deny', namespace: NS },
    spec: { podSelector: { matchLabels: { role: 'client' } }, policyTypes: ['Egress'] },
  };

  test('without policies both clients reach the server; the jump sits at the top of FORWARD', async () => {
    enforcer = new NetworkPolicyEnforcer(state, config(), { chainPrefix: PREFIX, iptables, minSyncIntervalMs: 100 });
    await enforcer.start();
    expect(await iptables.chains('filter', PREFIX)).toEqual([`${PREFIX}FORWARD`]);
    const rules = await forwardRules();
    expect(rules.findIndex((l) => l.endsWith(`-j ${PREFIX}FORWARD`))).toBeGreaterThanOrEqual(0);
    expect(rules.findIndex((l) => l.endsWith(`-j ${PREFIX}FORWARD`))).toBeLessThan(rules.findIndex((l) => / -j DOCKER/.test(l)));
    expect(await reaches('client')).toBe(true);
    expect(await reaches('stranger')).toBe(true);
  });

  test('a policy allowing only role=client blocks the stranger, fast', async () => {
    state.networkPolicies.set(allowClients);
    await until('stranger blocked', async () => !(await reaches('stranger')), 10_000);
    const t0 = Date.now();
    expect(await reaches('stranger')).toBe(false);
    // REJECT, not DROP: the refused connection fails well before the 3 s timeout.
    expect(Date.now() - t0).toBeLessThan(2_500);
    expect(await reaches('client')).toBe(true);
    expect((await iptables.chains('filter', PREFIX)).filter((c) => c.startsWith(`${PREFIX}ING-`)).length).toBe(1);
  });

  test('removing the policy lets the stranger in again and drops the pod chain', async () => {
    state.networkPolicies.remove(allowClients);
    await until('stranger allowed', () => reaches('stranger'), 10_000);
    expect(await reaches('client')).toBe(true);
    await until('pod chain removed', async () => (await iptables.chains('filter', PREFIX)).length === 1, 5_000);
  });

  test('an egress deny-all on the client blocks it, not the stranger', async () => {
    state.networkPolicies.set(clientEgressDeny);
    await until('client blocked', async () => !(await reaches('client')), 10_000);
    expect(await reaches('stranger')).toBe(true);
    // Relabelling the client so the policy no longer selects it is a pod update: it takes effect too.
    state.pods.set(pod('client', { role: 'former-client' }));
    await until('client allowed after relabel', () => reaches('client'), 10_000);
    state.pods.set(pod('client', { role: 'client' }));
    await until('client blocked again', async () => !(await reaches('client')), 10_000);
    state.networkPolicies.remove(clientEgressDeny);
    await until('client allowed', () => reaches('client'), 10_000);
  });

  test('a sync puts the jump back above rules inserted on top of it (as Docker does on restart)', async () => {
    await run('iptables', ['-w', '-t', 'filter', '-I', 'FORWARD', '1', ...PROBE]);
    let rules = await forwardRules();
    const probeAt = rules.findIndex((l) => l.includes(`${PREFIX}probe`));
    expect(probeAt).toBeLessThan(rules.findIndex((l) => l.endsWith(`-j ${PREFIX}FORWARD`)));
    await enforcer!.sync();
    rules = await forwardRules();
    const jumps = rules.map((l, i) => (l.endsWith(`-j ${PREFIX}FORWARD`) ? i : -1)).filter((i) => i >= 0);
    expect(jumps.length).toBe(1);
    expect(jumps[0]).toBeLessThan(rules.findIndex((l) => l.includes(`${PREFIX}probe`)));
    await run('iptables', ['-w', '-t', 'filter', '-D', 'FORWARD', ...PROBE]);
    // Rules removed behind its back (the top chain flushed) come back with the next repair sync.
    state.networkPolicies.set(allowClients);
    await until('stranger blocked', async () => !(await reaches('stranger')), 10_000);
    await run('iptables', ['-w', '-t', 'filter', '-F', `${PREFIX}FORWARD`]);
    expect(await reaches('stranger')).toBe(true);
    await enforcer!.sync();
    expect(await reaches('stranger')).toBe(false);
    expect(await reaches('client')).toBe(true);
  });

  test('cleanup removes the jump and every chain with the prefix', async () => {
    await enforcer!.cleanup();
    expect(await iptables.chains('filter', PREFIX)).toEqual([]);
    expect((await forwardRules()).some((l) => l.includes(PREFIX))).toBe(false);
    expect(await reaches('stranger')).toBe(true);
  });
});
