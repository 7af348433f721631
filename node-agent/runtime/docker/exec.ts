// `docker exec` with the caller's streams wired in: stdin is copied into the hijacked connection
// (its end half-closes the connection, which the process sees as EOF), output is demultiplexed
// into stdout and stderr unless a TTY merges them, and the exit code comes from exec inspect.
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import type { StreamIO } from '../types.js';
import { FrameParser } from './stream-frames.js';

export async function runExec(docker: Docker, containerID: string, cmd: string[], io: StreamIO = {}): Promise<number> {
  const exec = await docker.getContainer(containerID).exec({
    Cmd: cmd,
    AttachStdin: !!io.stdin,
    AttachStdout: true,
    AttachStderr: true,
    Tty: !!io.tty,
  });
  const stream = (await exec.start({ hijack: true, stdin: !!io.stdin, Tty: !!io.tty })) as Duplex;
  await new Promise<void>((resolve, reject) => {
    const parser = new FrameParser((type, payload) => {
      if (type === 2) io.stderr?.write(payload);
      else if (type === 1) io.stdout?.write(payload);
    });
    stream.on('data', (chunk: Buffer) => {
      if (io.tty) io.stdout?.write(chunk);
      else parser.push(chunk);
    });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    if (io.stdin) {
      io.stdin.on('data', (d: Buffer) => stream.write(d));
      io.stdin.on('end', () => stream.end());
    }
  });
  // The stream can close a moment before Docker records the exit code.
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode ?? 0;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await exec.inspect()).ExitCode ?? 1;
}
