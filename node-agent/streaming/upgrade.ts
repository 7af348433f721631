// HTTP/1.1 upgrade plumbing shared by exec/attach and port-forward: protocol
// negotiation for SPDY (X-Stream-Protocol-Version) and WebSocket (Sec-WebSocket-Protocol),
// the raw 101 for SPDY, and plain HTTP refusals on the raw socket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SpdyConnection } from './spdy/connection.js';

export const STREAM_PROTOCOL_HEADER = 'x-stream-protocol-version';

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'spdy/3.1';
}

/** All values of a possibly repeated, possibly comma-joined header. */
function headerValues(req: IncomingMessage, name: string): string[] {
  const raw = req.headersDistinct[name] ?? [];
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Picks the protocol like k8s.io/apimachinery's httpstream.Handshake: the first of the
 * server's protocols, in the server's order of preference, that the client offered.
 */
export function negotiate(clientProtocols: readonly string[], serverProtocols: readonly string[]): string | undefined {
  return serverProtocols.find((p) => clientProtocols.includes(p));
}

/** Answers on the raw socket with a plain HTTP error and closes it. */
export function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' }[code] ?? 'Error';
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Completes a SPDY/3.1 upgrade: negotiates X-Stream-Protocol-Version, writes the 101 and
 * starts a server session on the socket. Returns undefined after refusing the request.
 * `allowLegacy` accepts a client that offers no protocol at all (the oldest clients).
 */
export function acceptSpdyUpgrade(
  req: IncomingMessage, socket: Duplex, head: Buffer, serverProtocols: readonly string[], allowLegacy: string | undefined,
): { connection: SpdyConnection; protocol: string } | undefined {
  const offered = headerValues(req, STREAM_PROTOCOL_HEADER);
  const protocol = offered.length === 0 ? allowLegacy : negotiate(offered, serverProtocols);
  if (protocol === undefined) {
    rejectUpgrade(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(serverProtocols)}`);
    return undefined;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
    (offered.length > 0 ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') + '\r\n',
  );
  const connection = new SpdyConnection(socket, { isServer: true });
  connection.feed(head);
  return { connection, protocol };
}

/**
 * Completes a WebSocket upgrade offering one of `serverProtocols` (preference order), or
 * refuses with 400 so the client can fall back to SPDY.
 */
export function acceptWebSocketUpgrade(
  req: IncomingMessage, socket: Duplex, head: Buffer, serverProtocols: readonly string[],
): Promise<{ ws: WebSocket; protocol: string } | undefined> | undefined {
  const offered = headerValues(req, 'sec-websocket-protocol');
  const protocol = negotiate(offered, serverProtocols);
  if (protocol === undefined) {
    rejectUpgrade(socket, 400, `unable to upgrade: no supported WebSocket subprotocol in ${JSON.stringify(offered)}`);
    return undefined;
  }
  // `ws` validates subprotocols as RFC 7230 tokens and refuses the handshake for
  // "SPDY/3.1+portforward.k8s.io" ('/' is not a token character). So the negotiation is
  // ours: hide the offer from `ws` and add the answer through its 'headers' hook.
  delete req.headers['sec-websocket-protocol'];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('headers', (headers) => { headers.push(`Sec-WebSocket-Protocol: ${protocol}`); });
  return new Promise((resolve) => {
    // On a malformed handshake `ws` answers 400 itself and never calls back.
    const onClose = (): void => resolve(undefined);
    socket.once('close', onClose);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.removeListener('close', onClose);
      resolve({ ws, protocol });
    });
  });
}
