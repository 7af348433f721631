// The pod network: one user-defined Docker bridge whose IPAM hands out pod IPs. Sandboxes join it;
// containers share their sandbox's namespace. The host has an address on the bridge, so the agent
// reaches pod IPs directly (port-forward, probes).
import type Docker from 'dockerode';
import { MANAGED_LABEL } from './labels.js';

export interface PodNetworkOptions {
  name: string;
  /** IPv4 CIDR for pod IPs, e.g. 10.244.0.0/16; Docker picks a free range when absent. */
  subnet?: string;
}

/** Creates the bridge unless it exists; returns its id. A network of the same name is reused. */
export async function ensurePodNetwork(docker: Docker, o: PodNetworkOptions): Promise<string> {
  const found = await docker.listNetworks({ filters: { name: [o.name] } });
  const exact = found.find((n) => n.Name === o.name);
  if (exact) return exact.Id;
  try {
    const net = await docker.createNetwork({
      Name: o.name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { [MANAGED_LABEL]: 'true' },
      IPAM: o.subnet ? { Driver: 'default', Config: [{ Subnet: o.subnet }] } : undefined,
      Options: {
        // Pods reaching themselves through a Service need hairpin traffic and masquerading (see
        // the networking section of ARCHITECTURE.md); Docker's bridge masquerades by default.
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
      },
    });
    return net.id;
  } catch (err) {
    // Another agent process created it between our list and create.
    const again = (await docker.listNetworks({ filters: { name: [o.name] } })).find((n) => n.Name === o.name);
    if (again) return again.Id;
    throw err;
  }
}
