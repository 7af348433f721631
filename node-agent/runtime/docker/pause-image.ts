// Makes sure the sandbox image exists. No registry is reachable, so on first use the runtime
// imports a one-file root file system (the generated pause executable) as `podium.local/pause:1`.
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import { buildPauseElf } from './pause-elf.js';
import { buildTar } from './tar.js';

export const PAUSE_IMAGE = 'podium.local/pause:1';
/** The pause image has no config of its own (an import), so containers name the entrypoint. */
export const PAUSE_ENTRYPOINT = ['/pause'];

/** The gzipped root file system of the pause image: `/pause`, mode 0755. */
export function pauseRootfs(arch = process.arch): Buffer {
  const elf = buildPauseElf(arch === 'arm64' ? 'arm64' : 'x64');
  return gzipSync(buildTar([{ name: 'pause', data: elf, mode: 0o755 }]));
}

let pending: Promise<void> | undefined;

/** Imports the pause image unless Docker has it; concurrent callers share one import. */
export function ensurePauseImage(docker: Docker, image = PAUSE_IMAGE): Promise<void> {
  pending ??= (async () => {
    try {
      await docker.getImage(image).inspect();
      return;
    } catch {
      // not there yet: import it
    }
    const [repo, tag] = image.split(/:(?=[^:/]+$)/);
    const stream = await docker.importImage(Readable.from([pauseRootfs()]), { repo, tag: tag ?? 'latest' });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    await docker.getImage(image).inspect();
  })().finally(() => {
    pending = undefined;
  });
  return pending;
}
