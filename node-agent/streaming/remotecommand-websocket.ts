// exec/attach over WebSocket, channel protocol v5.channel.k8s.io (and v4, same framing
// without the close signal). Every binary message starts with a channel byte:
//   client→server 0=stdin, 4=resize, 255=close signal ([255, 0] = stdin EOF, v5 only)
//   server→client 1=stdout, 2=stderr, 3=error (Status JSON)
// With a TTY stdout and stderr share channel 1: kubectl discards channel 2 then.
import type { IncomingMessage } from 'node:http';
import { Readable, Writable, type Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { RemoteCommandParams, RemoteCommandSession } from './remotecommand.js';
import { TerminalSizeQueue } from './resize.js';
import { statusForResult, textForResult, type RemoteCommandResult } from './status.js';
import { endWritable } from './end-writable.js';
import { acceptWebSocketUpgrade } from './upgrade.js';

// v3, v2 and channel.k8s.io (v1): the same framing with a plain-text error stream that stays
// empty on success (what the kubelet answers clients such as upstream's e2e websocket test).
export const WS_REMOTECOMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;
const LEGACY_TEXT_ERRORS = new Set(['v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);

const STDIN = 0, STDOUT = 1, STDERR = 2, ERROR = 3, RESIZE = 4, CLOSE = 255;

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function channelWriter(ws: WebSocket, channel: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (ws.readyState !== ws.OPEN) return callback();
      // The send callback fires once the frame is handed to the socket: natural backpressure.
      ws.send(Buffer.concat([Buffer.of(channel), chunk]), { binary: true }, () => callback());
    },
  });
}

export async function serveWebSocketRemoteCommand(
  req: IncomingMessage, socket: Duplex, head: Buffer, params: RemoteCommandParams,
): Promise<RemoteCommandSession | undefined> {
  const accepted = acceptWebSocketUpgrade(req, socket, head, WS_REMOTECOMMAND_PROTOCOLS);
  const upgraded = accepted && (await accepted);
  if (!upgraded) return undefined;
  const { ws, protocol } = upgraded;
  const abort = new AbortController();
  const resize = new TerminalSizeQueue();
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));

  let stdin: Readable | undefined;
  if (params.stdin) {
    stdin = new Readable({ read: () => { if (ws.isPaused) ws.resume(); } });
  }
  const stdout = params.stdout ? channelWriter(ws, STDOUT) : undefined;
  // With a TTY kubectl rejects channel 2, so stderr (if any) is folded onto stdout's channel.
  const stderr = params.stderr && !params.tty ? channelWriter(ws, STDERR) : undefined;

  ws.on('message', (data: RawData) => {
    const msg = toBuffer(data);
    if (msg.length === 0) return;
    const payload = msg.subarray(1);
    switch (msg[0]) {
      case STDIN:
        if (stdin && !stdin.readableEnded && payload.length > 0 && !stdin.push(payload)) ws.pause();
        return;
      case RESIZE:
        resize.pushJson(payload.toString('utf8'));
        return;
      case CLOSE:
        if (payload[0] === STDIN && stdin) stdin.push(null);
        return;
      default:
        return;
    }
  });
  ws.on('error', () => undefined);
  ws.once('close', () => {
    resize.close();
    if (stdin && !stdin.readableEnded) stdin.push(null);
    if (!finished) abort.abort();
  });

  let finished = false;
  const finish = (result: RemoteCommandResult): void => {
    if (finished) return;
    finished = true;
    void (async () => {
      await Promise.all([stdout, stderr].map((w) => w && endWritable(w)));
      if (ws.readyState === ws.OPEN) {
        const status = Buffer.from(LEGACY_TEXT_ERRORS.has(protocol) ? textForResult(result) : JSON.stringify(statusForResult(result)));
        if (status.length > 0) {
          await new Promise<void>((resolve) => ws.send(Buffer.concat([Buffer.of(ERROR), status]), { binary: true }, () => resolve()));
        }
        ws.close(1000);
      }
      resize.close();
      // A client that never answers the close frame must not hold the socket forever.
      setTimeout(() => ws.terminate(), 5000).unref();
    })();
  };

  return { protocol, transport: 'websocket', stdin, stdout, stderr, tty: params.tty, resize, signal: abort.signal, finish, closed };
}
