// `docker attach` with the caller's streams: joins a running container's stdio (its stdin only
// when the spec asked for stdin), and resolves with the container's exit code when it ends, as
// upstream's attach does for `kubectl attach` and `kubectl run -i`.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import type { StreamIO } from '../types.js';
import { FrameParser } from './stream-frames.js';

export async function runAttach(docker: Docker, containerID: string, io: StreamIO = {}): Promise<number> {
  const container = docker.getContainer(containerID);
  const info = await container.inspect();
  const tty = !!info.Config.Tty;
  const withStdin = !!io.stdin && !!info.Config.OpenStdin;
  const stream = (await container.attach({ stream: true, stdin: withStdin, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
  const parser = new FrameParser((type, payload) => {
    if (type === 2) io.stderr?.write(payload);
    else if (type === 1) io.stdout?.write(payload);
  });
  stream.on('data', (chunk: Buffer) => {
    if (tty) io.stdout?.write(chunk);
    else parser.push(chunk);
  });
  if (withStdin && io.stdin) {
    io.stdin.on('data', (d: Buffer) => stream.write(d));
    io.stdin.on('end', () => stream.end());
  }
  const exited = (await container.wait()) as { StatusCode?: number };
  // Output written just before the exit may still be in flight on the attach stream.
  await new Promise<void>((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    const timer = setTimeout(resolve, 500);
    stream.once('end', () => { clearTimeout(timer); resolve(); });
    stream.once('close', () => { clearTimeout(timer); resolve(); });
  });
  stream.destroy();
  return exited.StatusCode ?? 0;
}
