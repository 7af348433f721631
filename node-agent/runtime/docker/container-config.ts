// The Docker create request for one container of a pod: upstream's generateContainerConfig as
// dockershim translated it. Pure: everything it needs is passed in.
import path from 'node:path';
import type Docker from 'dockerode';
import type { Container, EnvVar, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../../server/registry/quantity.js';
import { ContainerConfigError, expand, expandCommand, mappingFor } from '../env.js';
import type { VolumeMount } from './volumes.js';

// Upstream cm.MinShares / MaxShares / SharesPerCPU.
const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;

/** Upstream milliCPUToShares: a CPU request as cgroup cpu.shares, at least 2. */
export function milliCPUToShares(milliCPU: number): number {
  if (milliCPU === 0) return MIN_SHARES;
  const shares = Math.floor((milliCPU * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

const milli = (q: string | undefined): number => Math.round((parseQuantity(q) ?? 0) * 1000);

export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  env: EnvVar[];
  name: string;
  labels: Record<string, string>;
  sandboxID: string;
  volumes: Map<string, VolumeMount>;
  /** The kubelet-managed /etc/hosts of the pod; undefined with hostNetwork. */
  hostsFile?: string;
  /** The pod's /etc/resolv.conf (its dnsPolicy); undefined keeps Docker's. */
  resolvConf?: string;
}

/** Where a volumeMount's subPath (or subPathExpr, expanded with the container env) points. */
export function subPathOf(vm: { subPath?: string; subPathExpr?: string }, env: EnvVar[]): string | undefined {
  const raw = vm.subPathExpr ? expand(vm.subPathExpr, mappingFor(new Map(env.map((e) => [e.name, e.value ?? ''])))) : vm.subPath;
  if (!raw) return undefined;
  if (path.isAbsolute(raw) || raw.split('/').includes('..')) throw new ContainerConfigError(`invalid subPath ${JSON.stringify(raw)}`);
  return raw;
}

/** The Mounts of the container; subPath directories are created by the caller beforehand. */
export function containerMounts(c: Container, env: EnvVar[], volumes: Map<string, VolumeMount>, hostsFile: string | undefined, resolvConf?: string): NonNullable<Docker.HostConfig['Mounts']> {
  const mounts: NonNullable<Docker.HostConfig['Mounts']> = [];
  for (const vm of c.volumeMounts ?? []) {
    const v = volumes.get(vm.name);
    if (!v) throw new ContainerConfigError(`volume "${vm.name}" not found in the pod`);
    const sub = subPathOf(vm, env);
    if (v.kind === 'docker') {
      if (sub) throw new ContainerConfigError(`subPath is not supported on memory-backed emptyDir "${vm.name}"`);
      mounts.push({ Type: 'volume', Source: v.volumeName, Target: vm.mountPath, ReadOnly: !!vm.readOnly });
      continue;
    }
    mounts.push({ Type: 'bind', Source: sub ? path.join(v.hostPath, sub) : v.hostPath, Target: vm.mountPath, ReadOnly: !!(vm.readOnly || v.readOnly) });
  }
  // Upstream mounts its managed hosts file unless the container mounts /etc/hosts itself.
  if (hostsFile && !mounts.some((m) => m.Target === '/etc/hosts')) mounts.push({ Type: 'bind', Source: hostsFile, Target: '/etc/hosts', ReadOnly: false });
  if (resolvConf && !mounts.some((m) => m.Target === '/etc/resolv.conf')) mounts.push({ Type: 'bind', Source: resolvConf, Target: '/etc/resolv.conf', ReadOnly: false });
  return mounts;
}

/** The Docker create options for one container joining the sandbox's namespaces. */
export function containerCreateOptions(i: ContainerConfigInput): Docker.ContainerCreateOptions {
  const { pod, container: c, env } = i;
  const psc = pod.spec?.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  // Docker cannot name a group without a user; a group alone keeps the image's user (gap).
  const user = runAsUser !== undefined ? (runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser)) : undefined;

  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const memory = parseQuantity(limits.memory);
  const cpuLimit = milli(limits.cpu);
  const cpuRequest = milli(requests.cpu);
  const sandbox = `container:${i.sandboxID}`;

  const hostConfig: Docker.HostConfig = {
    NetworkMode: sandbox,
    IpcMode: sandbox,
    PidMode: pod.spec?.shareProcessNamespace ? sandbox : undefined,
    Mounts: containerMounts(c, env, i.volumes, i.hostsFile, i.resolvConf),
    // Upstream: a container with only a limit is requested at its limit.
    CpuShares: milliCPUToShares(cpuRequest || cpuLimit),
    NanoCpus: cpuLimit ? cpuLimit * 1_000_000 : undefined,
    Memory: memory ? Math.round(memory) : undefined,
    // Without swap accounting off, Docker would let the container swap past its limit.
    MemorySwap: memory ? Math.round(memory) : undefined,
    Privileged: sc.privileged === true,
    ReadonlyRootfs: sc.readOnlyRootFilesystem === true,
    CapAdd: sc.capabilities?.add?.slice(),
    CapDrop: sc.capabilities?.drop?.slice(),
    GroupAdd: psc.supplementalGroups?.map(String),
    SecurityOpt: sc.allowPrivilegeEscalation === false ? ['no-new-privileges'] : undefined,
    // The kubelet restarts containers itself, following the pod's restart policy and back-off.
    RestartPolicy: { Name: 'no' },
    // Logs stay readable with `docker logs` for the previous attempt.
    LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
  };
  return {
    name: i.name,
    Image: c.image,
    // Upstream: command replaces the image's ENTRYPOINT and drops its CMD; args replaces CMD.
    Entrypoint: expandCommand(c.command, env),
    Cmd: expandCommand(c.args, env),
    WorkingDir: c.workingDir,
    Env: env.map((e) => `${e.name}=${e.value ?? ''}`),
    User: user,
    Labels: i.labels,
    Tty: !!c.tty,
    OpenStdin: !!c.stdin,
    StdinOnce: !!c.stdinOnce,
    AttachStdin: false,
    HostConfig: hostConfig,
  };
}
