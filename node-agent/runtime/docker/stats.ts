// Usage figures for the summary API and metrics: per container, CPU in nanocores from Docker's
// two samples (cpu_stats against precpu_stats) and memory working set as upstream's cadvisor
// computes it (usage minus inactive file pages); per node, the same from /proc.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type Docker from 'dockerode';

export interface Usage {
  cpuUsageNanoCores?: number;
  memoryWorkingSetBytes?: number;
}

/** Nanocores and working set from one `docker stats --no-stream` sample. */
export function usageFromStats(s: Docker.ContainerStats): Usage {
  const out: Usage = {};
  const cpu = s.cpu_stats?.cpu_usage?.total_usage;
  const pre = s.precpu_stats?.cpu_usage?.total_usage;
  const read = Date.parse(s.read);
  const preread = Date.parse(s.preread);
  // total_usage is cumulative CPU nanoseconds; per elapsed second that is nanocores.
  if (cpu !== undefined && pre !== undefined && pre > 0 && read > preread) out.cpuUsageNanoCores = Math.max(0, Math.round(((cpu - pre) * 1000) / (read - preread)));
  const usage = s.memory_stats?.usage;
  if (usage !== undefined) {
    const st = (s.memory_stats?.stats ?? {}) as Record<string, number | undefined>;
    // cgroup v1 reports total_inactive_file (hierarchical), v2 inactive_file.
    const inactive = st.total_inactive_file ?? st.inactive_file ?? 0;
    out.memoryWorkingSetBytes = Math.max(0, usage - inactive);
  }
  return out;
}

export async function containerUsage(docker: Docker, id: string): Promise<Usage> {
  const s = (await docker.getContainer(id).stats({ stream: false })) as Docker.ContainerStats;
  return usageFromStats(s);
}

/** The node's CPU from /proc/stat deltas between calls (the first call has no CPU figure). */
export class NodeUsage {
  private last?: { busy: number; at: number };

  async sample(): Promise<Usage> {
    const out: Usage = { memoryWorkingSetBytes: os.totalmem() - os.freemem() };
    try {
      const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0];
      const f = line.trim().split(/\s+/).slice(1).map(Number);
      // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
      const busyTicks = f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
      const busyNs = (busyTicks * 1e9) / 100; // USER_HZ is 100 on Linux
      const now = Date.now();
      if (this.last && now > this.last.at) out.cpuUsageNanoCores = Math.round(((busyNs - this.last.busy) * 1000) / (now - this.last.at));
      this.last = { busy: busyNs, at: now };
    } catch {
      // not Linux: memory only
    }
    return out;
  }
}

/** Per-pod sums over the running containers this runtime manages (sandboxes included), and each container's own figures. */
export async function podUsage(docker: Docker, filterLabel: string, uidLabel: string, containerLabel: string): Promise<(Usage & { uid: string; containers: (Usage & { name: string })[] })[]> {
  const list = await docker.listContainers({ filters: { label: [filterLabel], status: ['running'] } });
  const samples = await Promise.all(list.map(async (c) => ({ uid: c.Labels?.[uidLabel] ?? '', name: c.Labels?.[containerLabel] ?? '', u: await containerUsage(docker, c.Id).catch((): Usage => ({})) })));
  const pods = new Map<string, Usage & { uid: string; containers: (Usage & { name: string })[] }>();
  for (const { uid, name, u } of samples) {
    if (!uid) continue;
    const p = pods.get(uid) ?? { uid, containers: [] };
    if (u.cpuUsageNanoCores !== undefined) p.cpuUsageNanoCores = (p.cpuUsageNanoCores ?? 0) + u.cpuUsageNanoCores;
    if (u.memoryWorkingSetBytes !== undefined) p.memoryWorkingSetBytes = (p.memoryWorkingSetBytes ?? 0) + u.memoryWorkingSetBytes;
    // The sandbox (dockershim's "POD") counts towards the pod, as cadvisor's pod cgroup does, but is no container of the spec.
    if (name && name !== 'POD') p.containers.push({ name, ...u });
    pods.set(uid, p);
  }
  return [...pods.values()];
}
