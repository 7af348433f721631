// Image presence and pulls under imagePullPolicy (upstream's imageManager.EnsureImageExists),
// and the image ids containers report.
import type Docker from 'dockerode';
import type { Container } from 'kubernetes-types/core/v1.js';

/** Why an image is not available, in upstream's waiting reasons. */
export class ImageError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** The repository:tag Docker uses, `latest` added when the reference has neither tag nor digest. */
export function normalizeImage(image: string): string {
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  return image.slice(slash + 1).includes(':') ? image : `${image}:latest`;
}

/** The API server defaults the policy; this mirrors it for pods that reach us without defaults. */
export function pullPolicy(c: Container): 'Always' | 'IfNotPresent' | 'Never' {
  const p = c.imagePullPolicy;
  if (p === 'Always' || p === 'IfNotPresent' || p === 'Never') return p;
  return normalizeImage(c.image ?? '').endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

async function present(docker: Docker, image: string): Promise<Docker.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(image).inspect();
  } catch {
    return undefined;
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = err ?? out?.find((o) => o.error);
      if (failed) reject(failed instanceof Error ? failed : new Error(failed.error));
      else resolve();
    });
  });
}

/** Pull progress for kubelet events: Pulling, Pulled (or already present), Failed. */
export type ImageEventFn = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** Go's time.Duration rendering for the Pulled message ("1.234s", "512ms"). */
function goDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s` : `${Math.round(ms)}ms`;
}

/** Makes sure the container's image is there; returns its inspect data. */
export async function ensureImage(docker: Docker, c: Container, event: ImageEventFn = () => undefined): Promise<Docker.ImageInspectInfo> {
  const image = c.image ?? '';
  if (!image) throw new ImageError('InvalidImageName', 'container has no image');
  const ref = normalizeImage(image);
  const policy = pullPolicy(c);
  const have = await present(docker, ref);
  if (have && policy !== 'Always') {
    event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
    return have;
  }
  if (policy === 'Never') {
    const msg = `Container image "${image}" is not present with pull policy of Never`;
    event('Warning', 'ErrImageNeverPull', msg);
    throw new ImageError('ErrImageNeverPull', msg);
  }
  event('Normal', 'Pulling', `Pulling image "${image}"`);
  const started = Date.now();
  try {
    await pull(docker, ref);
  } catch (err) {
    const msg = `failed to pull and unpack image "${image}": ${(err as Error).message}`;
    event('Warning', 'Failed', `Failed to pull image "${image}": ${msg}`);
    event('Warning', 'Failed', 'Error: ErrImagePull');
    throw new ImageError('ErrImagePull', msg);
  }
  const took = goDuration(Date.now() - started);
  const after = await present(docker, ref);
  if (!after) throw new ImageError('ErrImagePull', `image "${image}" not present after pull`);
  event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${after.Size} bytes.`);
  return after;
}

/**
 * The imageID a container status reports: `docker-pullable://repo@sha256:…` for images that came
 * from a registry, `docker://sha256:…` for local ones (dockershim's convention).
 */
export function reportedImageID(info: Pick<Docker.ImageInspectInfo, 'Id' | 'RepoDigests'> | undefined, fallbackId: string): string {
  const digest = info?.RepoDigests?.[0];
  if (digest) return `docker-pullable://${digest}`;
  return `docker://${info?.Id ?? fallbackId}`;
}
