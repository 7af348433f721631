// `docker logs` as kubectl logs wants it: tail, since, timestamps and follow, with the non-TTY
// frame headers stripped (stdout and stderr interleaved, as the kubelet serves them).
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { LogOptions } from '../types.js';
import { demuxTransform } from './stream-frames.js';

export async function containerLogs(docker: Docker, id: string, tty: boolean, opts: LogOptions): Promise<Readable> {
  const c = docker.getContainer(id);
  const base = {
    stdout: true,
    stderr: true,
    timestamps: !!opts.timestamps,
    // Docker's `tail` takes a count or "all"; the typings only know numbers.
    tail: opts.tailLines !== undefined ? opts.tailLines : ('all' as unknown as number),
    since: opts.sinceSeconds ? Math.floor(Date.now() / 1000) - opts.sinceSeconds : 0,
  };
  if (!opts.follow) {
    // Without follow Docker answers with the whole log at once.
    const raw = await c.logs({ ...base, follow: false });
    const out = tty ? new PassThrough() : demuxTransform();
    out.end(raw);
    return out;
  }
  const raw = (await c.logs({ ...base, follow: true })) as unknown as Readable;
  return tty ? raw : raw.pipe(demuxTransform());
}
