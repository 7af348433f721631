// Pod volumes as host directories under DATA/pods/<uid>/volumes/<plugin>/<name> (upstream's
// layout, plugin names like kubernetes.io~configmap), bind-mounted into containers. configMap,
// secret, downwardAPI and projected contents are written with the AtomicWriter so updates reach
// running containers. emptyDir with medium Memory is a Docker tmpfs volume shared by the pod's
// containers (a tmpfs mount of the container itself would not be shared).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import { fieldRefValue, resourceFieldRefValue } from '../env.js';
import { PV_HOST_PATH_KEY, type VolumeSources } from '../types.js';
import { writeAtomically, type FileProjection } from './atomic-writer.js';
import { MANAGED_LABEL, POD_UID_LABEL, type PodIdentity } from './labels.js';

/** Where a volume lives on the host, or the Docker volume that backs it. */
export type VolumeMount = { kind: 'bind'; hostPath: string; readOnly?: boolean } | { kind: 'docker'; volumeName: string };

export class VolumeSetupError extends Error {}

export const podDir = (dataDir: string, uid: string): string => path.join(dataDir, 'pods', uid);

const pluginDir = (dataDir: string, uid: string, plugin: string, name: string): string =>
  path.join(podDir(dataDir, uid), 'volumes', `kubernetes.io~${plugin}`, name);

const DEFAULT_MODE = 0o644;

/** Upstream's makePayload for configMap and secret volumes: all keys, or exactly `items`. */
function keysPayload(
  what: string,
  data: Record<string, Buffer> | undefined,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number | undefined,
  optional: boolean | undefined,
  out: Map<string, FileProjection>,
  prefix = '',
): void {
  const mode = defaultMode ?? DEFAULT_MODE;
  if (!data) {
    if (optional) return;
    throw new VolumeSetupError(`${what} not found`);
  }
  if (!items?.length) {
    for (const [k, v] of Object.entries(data)) out.set(k, { data: v, mode });
    return;
  }
  for (const it of items) {
    const v = data[prefix + it.key];
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(`configured to use key ${it.key} of ${what}, but the key does not exist`);
    }
    out.set(it.path, { data: v, mode: it.mode ?? mode });
  }
}

function downwardPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, defaultMode: number | undefined, podIP: string | undefined, out: Map<string, FileProjection>): void {
  for (const it of items ?? []) {
    let value = '';
    if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef, { podIP });
    else if (it.resourceFieldRef) value = resourceFieldRefValue(pod, it.resourceFieldRef, undefined);
    out.set(it.path, { data: Buffer.from(value), mode: it.mode ?? defaultMode ?? DEFAULT_MODE });
  }
}

/** The entries of a projected volume's source map under `<kind>/<object>/`, with that prefix removed. */
function sub(src: Record<string, Buffer> | undefined, prefix: string): Record<string, Buffer> | undefined {
  if (!src) return undefined;
  const out: Record<string, Buffer> = {};
  let any = false;
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith(prefix)) {
      out[k.slice(prefix.length)] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}

export interface SetUpContext {
  dataDir: string;
  docker: Docker;
  identity: PodIdentity;
  sources: VolumeSources | undefined;
  podIP?: string;
}

/**
 * Creates or refreshes every volume of the pod and returns where each lives. Called on every
 * sync, so configMap/secret/downwardAPI contents follow their sources.
 */
export async function setUpVolumes(pod: Pod, ctx: SetUpContext): Promise<Map<string, VolumeMount>> {
  const out = new Map<string, VolumeMount>();
  const uid = ctx.identity.uid;
  for (const v of pod.spec?.volumes ?? []) {
    out.set(v.name, await setUpVolume(pod, v, ctx, uid));
  }
  return out;
}

async function setUpVolume(pod: Pod, v: Volume, ctx: SetUpContext, uid: string): Promise<VolumeMount> {
  const src = ctx.sources?.get(v.name);
  if (v.emptyDir) {
    if (v.emptyDir.medium === 'Memory') return { kind: 'docker', volumeName: await ensureTmpfsVolume(ctx.docker, ctx.identity, v) };
    const dir = pluginDir(ctx.dataDir, uid, 'empty-dir', v.name);
    await fs.mkdir(dir, { recursive: true });
    await fs.chmod(dir, 0o777); // upstream: any container user may write an emptyDir
    return { kind: 'bind', hostPath: dir };
  }
  if (v.hostPath) {
    const p = v.hostPath.path;
    const type = v.hostPath.type ?? '';
    if (type === 'DirectoryOrCreate') await fs.mkdir(p, { recursive: true, mode: 0o755 });
    else if (type === 'FileOrCreate') await (await fs.open(p, 'a', 0o644)).close();
    else if (type) {
      const st = await fs.stat(p).catch(() => undefined);
      const ok = !st ? false : type === 'Directory' ? st.isDirectory() : type === 'File' ? st.isFile() : type === 'Socket' ? st.isSocket() : type === 'CharDevice' ? st.isCharacterDevice() : type === 'BlockDevice' ? st.isBlockDevice() : true;
      if (!ok) throw new VolumeSetupError(`hostPath type check failed: ${p} is not a ${type}`);
    }
    return { kind: 'bind', hostPath: p };
  }
  if (v.persistentVolumeClaim) {
    const p = src?.[PV_HOST_PATH_KEY]?.toString('utf8');
    if (!p) throw new VolumeSetupError(`persistentvolumeclaim "${v.persistentVolumeClaim.claimName}" has no resolved hostPath volume`);
    await fs.mkdir(p, { recursive: true });
    return { kind: 'bind', hostPath: p, readOnly: v.persistentVolumeClaim.readOnly };
  }
  const payload = new Map<string, FileProjection>();
  let plugin: string;
  if (v.configMap) {
    plugin = 'configmap';
    keysPayload(`configmap "${v.configMap.name}"`, src, v.configMap.items, v.configMap.defaultMode, v.configMap.optional, payload);
  } else if (v.secret) {
    plugin = 'secret';
    keysPayload(`secret "${v.secret.secretName}"`, src, v.secret.items, v.secret.defaultMode, v.secret.optional, payload);
  } else if (v.downwardAPI) {
    plugin = 'downward-api';
    downwardPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode, ctx.podIP, payload);
  } else if (v.projected) {
    plugin = 'projected';
    const mode = v.projected.defaultMode;
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) keysPayload(`configmap "${s.configMap.name}"`, sub(src, `configMap/${s.configMap.name}/`), s.configMap.items, mode, s.configMap.optional, payload);
      else if (s.secret) keysPayload(`secret "${s.secret.name}"`, sub(src, `secret/${s.secret.name}/`), s.secret.items, mode, s.secret.optional, payload);
      else if (s.downwardAPI) downwardPayload(pod, s.downwardAPI.items, mode, ctx.podIP, payload);
      else if (s.serviceAccountToken) {
        const token = src?.[`serviceAccountToken/${s.serviceAccountToken.path}`];
        if (!token) throw new VolumeSetupError(`service account token for ${s.serviceAccountToken.path} not provided`);
        payload.set(s.serviceAccountToken.path, { data: token, mode: mode ?? 0o600 });
      }
    }
  } else {
    throw new VolumeSetupError(`volume ${v.name}: unsupported volume type`);
  }
  const dir = pluginDir(ctx.dataDir, uid, plugin, v.name);
  await writeAtomically(dir, payload);
  return { kind: 'bind', hostPath: dir, readOnly: true };
}

export const tmpfsVolumeName = (p: PodIdentity, volume: string): string => `k8s_${volume}_${p.name}_${p.namespace}_${p.uid}`;

/**
 * The pod's memory-backed emptyDir volumes, created if need be. The sandbox mounts them too:
 * Docker unmounts a tmpfs volume (losing its files) when no running container uses it, and an
 * emptyDir lives as long as the pod, across container restarts.
 */
export async function ensureMemoryVolumes(docker: Docker, pod: Pod, identity: PodIdentity): Promise<string[]> {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.emptyDir?.medium === 'Memory') out.push(await ensureTmpfsVolume(docker, identity, v));
  }
  return out;
}

async function ensureTmpfsVolume(docker: Docker, identity: PodIdentity, v: Volume): Promise<string> {
  const name = tmpfsVolumeName(identity, v.name);
  try {
    await docker.getVolume(name).inspect();
    return name;
  } catch {
    // create below
  }
  const size = v.emptyDir?.sizeLimit;
  await docker.createVolume({
    Name: name,
    Driver: 'local',
    DriverOpts: size ? { type: 'tmpfs', device: 'tmpfs', o: `size=${size}`.replace(/i$/, '') } : { type: 'tmpfs', device: 'tmpfs' },
    Labels: { [MANAGED_LABEL]: 'true', [POD_UID_LABEL]: identity.uid },
  });
  return name;
}

/** Removes the pod's Docker volumes and its directory (bind-mounted hostPath/PV data stays). */
export async function tearDownVolumes(dataDir: string, docker: Docker, uid: string): Promise<void> {
  const vols = await docker.listVolumes({ filters: { label: [`${MANAGED_LABEL}=true`, `${POD_UID_LABEL}=${uid}`] } });
  for (const v of vols.Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  await fs.rm(podDir(dataDir, uid), { recursive: true, force: true });
}
