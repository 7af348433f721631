// NodePorts: a hostPort may be taken once per (protocol, port) per host IP, and 0.0.0.0
// conflicts with every IP.
import type { HostPort, NodeInfo } from '../node-info.js';
import { unschedulable, type CycleState, type FilterPlugin, type Status } from './types.js';

export const ERR_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

export function portsConflict(want: readonly HostPort[], used: readonly HostPort[]): boolean {
  for (const w of want) {
    for (const u of used) {
      if (w.port !== u.port || w.protocol !== u.protocol) continue;
      if (w.hostIP === '0.0.0.0' || u.hostIP === '0.0.0.0' || w.hostIP === u.hostIP) return true;
    }
  }
  return false;
}

export const NodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter(state: CycleState, node: NodeInfo): Status | null {
    const want = state.podInfo.hostPorts;
    if (want.length === 0) return null;
    return portsConflict(want, node.usedPorts) ? unschedulable(ERR_NODE_PORTS) : null;
  },
};
