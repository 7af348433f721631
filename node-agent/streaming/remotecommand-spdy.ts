// exec/attach over SPDY/3.1. The client opens one stream per channel, named by the
// `streamtype` header: error, stdin, stdout, stderr (not with a TTY) and resize (TTY,
// v3+). We answer each SYN_STREAM at once (the client waits for the reply), wait for the
// set the query asked for, then hand them over. The outcome goes on `error`: a Status JSON
// for v4, plain text for v1–v3; ending the streams and the session lets kubectl exit.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RemoteCommandParams, RemoteCommandSession } from './remotecommand.js';
import { endWritable } from './end-writable.js';
import { TerminalSizeQueue } from './resize.js';
import type { SpdyStream } from './spdy/stream.js';
import { statusForResult, textForResult, type RemoteCommandResult } from './status.js';
import { acceptSpdyUpgrade } from './upgrade.js';

/**
 * Server preference order. kubectl 1.27–1.33 also offer v5.channel.k8s.io over SPDY, which
 * is v4 on the wire; we answer v4, which every one of them accepts.
 */
export const SPDY_REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** How long the client gets to open the streams the query announced (the kubelet's default). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

export async function serveSpdyRemoteCommand(
  req: IncomingMessage, socket: Duplex, head: Buffer, params: RemoteCommandParams,
): Promise<RemoteCommandSession | undefined> {
  const accepted = acceptSpdyUpgrade(req, socket, head, SPDY_REMOTECOMMAND_PROTOCOLS, 'channel.k8s.io');
  if (!accepted) return undefined;
  const { connection, protocol } = accepted;
  const version = protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);

  const expected = new Set<string>(['error']);
  if (params.stdin) expected.add('stdin');
  if (params.stdout) expected.add('stdout');
  if (params.stderr && !params.tty) expected.add('stderr');
  if (params.tty && version >= 3) expected.add('resize');

  const streams = new Map<string, SpdyStream>();
  const closed = new Promise<void>((resolve) => connection.once('close', () => resolve()));
  const ready = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), STREAM_CREATION_TIMEOUT_MS);
    const check = (): void => {
      if ([...expected].every((t) => streams.has(t))) { clearTimeout(timer); resolve(true); }
    };
    connection.on('stream', (stream) => {
      const type = stream.headers['streamtype'] ?? '';
      stream.on('error', () => undefined);
      if (streams.has(type) || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type)) {
        stream.reset();
        return;
      }
      void stream.reply();
      streams.set(type, stream);
      check();
    });
    connection.once('close', () => { clearTimeout(timer); resolve(false); });
  });
  if (!(await ready)) {
    connection.destroy();
    return undefined;
  }

  const abort = new AbortController();
  connection.once('close', () => { if (!finished) abort.abort(); });
  const resize = new TerminalSizeQueue();
  const resizeStream = streams.get('resize');
  if (resizeStream) resize.consume(resizeStream);
  const errorStream = streams.get('error')!;
  const stdout = streams.get('stdout');
  const stderr = streams.get('stderr');

  let finished = false;
  const finish = (result: RemoteCommandResult): void => {
    if (finished) return;
    finished = true;
    void (async () => {
      await Promise.all([stdout, stderr].map((w) => w && endWritable(w)));
      const message = version >= 4 ? JSON.stringify(statusForResult(result)) : textForResult(result);
      if (message) errorStream.write(message);
      await endWritable(errorStream);
      resize.close();
      await connection.close();
    })();
  };

  return {
    protocol, transport: 'spdy', tty: params.tty, resize, signal: abort.signal, finish, closed,
    stdin: streams.get('stdin'), stdout, stderr,
  };
}
