// The pod sandbox: a pause container that owns the pod's network, IPC and UTS namespaces. It sits
// on the pod network (its IP is the pod IP) and carries the pod's hostname, which containers
// joining its network namespace share.
import type Docker from 'dockerode';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podHostname } from './hosts-file.js';
import { dockerName, sandboxLabels, type PodIdentity } from './labels.js';
import { PAUSE_ENTRYPOINT } from './pause-image.js';

export interface SandboxOptions {
  image: string;
  network: string;
  clusterDomain: string;
  /** Extra labels (the node label). */
  labels?: Record<string, string>;
  /** Docker volumes backing memory emptyDirs: the sandbox holds them mounted for the pod's life. */
  memoryVolumes?: string[];
}

export async function createSandbox(docker: Docker, pod: Pod, id: PodIdentity, attempt: number, o: SandboxOptions): Promise<string> {
  const hostNetwork = pod.spec?.hostNetwork === true;
  const { hostname, domain } = podHostname(pod, o.clusterDomain);
  const c = await docker.createContainer({
    name: dockerName(id, 'POD', attempt),
    Image: o.image,
    Entrypoint: PAUSE_ENTRYPOINT,
    Hostname: hostNetwork ? undefined : hostname,
    Domainname: hostNetwork ? undefined : domain,
    Labels: sandboxLabels(id, attempt, o.labels),
    HostConfig: {
      NetworkMode: hostNetwork ? 'host' : o.network,
      // Containers join with IpcMode container:<sandbox>; Docker requires the owner to share it.
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      // Upstream gives the sandbox a tiny CPU weight: it only sleeps.
      CpuShares: 2,
      Mounts: (o.memoryVolumes ?? []).map((name, i) => ({ Type: 'volume' as const, Source: name, Target: `/.podium/memory-volume-${i}` })),
    },
  });
  await c.start();
  return c.id;
}

/** The sandbox's IP on the pod network ('' with hostNetwork: the caller uses the host IP). */
export function sandboxIP(info: Docker.ContainerInspectInfo, network: string): string {
  return info.NetworkSettings?.Networks?.[network]?.IPAddress ?? '';
}
