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

/** Makes sure the container's image is there; returns its inspect data. */
export async function ensureImage(docker: Docker, c: Container): Promise<Docker.ImageInspectInfo> {
  const image = c.image ?? '';
  if (!image) throw new ImageError('InvalidImageName', 'container has no image');
  const ref = normalizeImage(image);
  const policy = pullPolicy(c);
  const have = await present(docker, ref);
  if (have && policy !== 'Always') return have;
  if (policy === 'Never') {
    throw new ImageError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
  }
  try {
    await pull(docker, ref);
  } catch (err) {
    throw new ImageError('ErrImagePull', `failed to pull and unpack image "${image}": ${(err as Error).message}`);
  }
  const after = await present(docker, ref);
  if (!after) throw new ImageError('ErrImagePull', `image "${image}" not present after pull`);
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
