// Server side of port-forward (kubectl-wire.md §10). kubectl 1.31+ tunnels SPDY inside
// WebSocket binary messages (subprotocol SPDY/3.1+portforward.k8s.io; message boundaries
// mean nothing, it is a byte stream); older ones, and the fallback, upgrade straight to
// SPDY/3.1 with X-Stream-Protocol-Version: portforward.k8s.io. For each local connection the
// client opens an `error` stream (half-closed at once) and a `data` stream with the same
// `port` and `requestid`; data carries the TCP bytes, error carries our failure text.
import type { IncomingMessage } from 'node:http';
import { pipeline, type Duplex } from 'node:stream';
import { createWebSocketStream } from 'ws';
import { SpdyConnection } from './spdy/connection.js';
import type { SpdyStream } from './spdy/stream.js';
import { acceptSpdyUpgrade, acceptWebSocketUpgrade, isSpdyUpgrade, isWebSocketUpgrade, rejectUpgrade } from './upgrade.js';
import { endWritable } from './end-writable.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const WS_PORT_FORWARD_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/** Which client connection a forward serves: kubectl numbers them 0, 1, 2… per session. */
export interface PortForwardRequest { requestId: string | undefined }

/** Opens the connection to `port` inside the pod. */
export type PortForwardConnect = (port: number, request: PortForwardRequest) => Promise<Duplex>;

/** How long a pair may stay incomplete before we give up on it (the kubelet uses 30 s). */
const PAIR_TIMEOUT_MS = 30_000;

interface StreamPair { error?: SpdyStream; data?: SpdyStream; timer: NodeJS.Timeout }

/** Serves one port-forward upgrade; resolves when the session is over. */
export async function servePortForward(
  req: IncomingMessage, socket: Duplex, head: Buffer, connect: PortForwardConnect,
): Promise<void> {
  let connection: SpdyConnection;
  if (isWebSocketUpgrade(req)) {
    const accepted = acceptWebSocketUpgrade(req, socket, head, [WS_PORT_FORWARD_PROTOCOL]);
    const upgraded = accepted && (await accepted);
    if (!upgraded) return;
    const { ws } = upgraded;
    const bytes = createWebSocketStream(ws);
    bytes.on('error', () => undefined);
    connection = new SpdyConnection(bytes, { isServer: true });
  } else if (isSpdyUpgrade(req)) {
    const accepted = acceptSpdyUpgrade(req, socket, head, [PORT_FORWARD_PROTOCOL], PORT_FORWARD_PROTOCOL);
    if (!accepted) return;
    connection = accepted.connection;
  } else {
    rejectUpgrade(socket, 400, `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}`);
    return;
  }
  await servePortForwardSession(connection, connect);
}

/** Pairs error/data streams on an established session and forwards each pair. */
export function servePortForwardSession(connection: SpdyConnection, connect: PortForwardConnect): Promise<void> {
  const pairs = new Map<string, StreamPair>();
  connection.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const type = headers['streamtype'];
    const port = Number(headers['port']);
    if ((type !== 'error' && type !== 'data') || !Number.isInteger(port) || port <= 0 || port > 65535) {
      stream.reset();
      return;
    }
    // Clients older than requestid paired streams by id: error first, then data (id + 2).
    const key = headers['requestid'] ?? String(type === 'error' ? stream.id : stream.id - 2);
    void stream.reply();
    let pair = pairs.get(key);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(key);
        pair?.error?.reset();
        pair?.data?.reset();
      }, PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(key, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      pairs.delete(key);
      void forward(port, headers['requestid'], pair.error, pair.data, connect);
    }
  });
  return new Promise((resolve) => connection.once('close', () => resolve()));
}

async function forward(port: number, requestId: string | undefined, errorStream: SpdyStream, data: SpdyStream, connect: PortForwardConnect): Promise<void> {
  // The client half-closes `error` straight away; drain it so its FIN is seen.
  errorStream.resume();
  let target: Duplex;
  try {
    target = await connect(port, { requestId });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    errorStream.write(`error forwarding port ${port} to pod: ${reason}`);
    await endWritable(errorStream);
    data.reset();
    return;
  }
  target.on('error', () => undefined);
  // allowHalfOpen lets each direction finish on its own, like TCP.
  await Promise.all([
    new Promise<void>((resolve) => pipeline(data, target, (err) => {
      if (err) target.destroy();
      resolve();
    })),
    new Promise<void>((resolve) => pipeline(target, data, (err) => {
      if (err) {
        const message = `error forwarding port ${port} to pod: ${err.message}`;
        if (!errorStream.writableEnded) errorStream.write(message);
      }
      resolve();
    })),
  ]);
  await endWritable(errorStream);
}
