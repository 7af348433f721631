// Server side of exec/attach as kubectl speaks it (kubectl-wire.md §10): WebSocket
// v5.channel.k8s.io (1.30+), or SPDY/3.1 with X-Stream-Protocol-Version v4…v1 (1.27–1.29,
// and the fallback of 1.30+). Either way the runtime gets one RemoteCommandSession of
// plain Node streams and reports the command's outcome through finish().
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { RemoteCommandResult } from './status.js';
import type { TerminalSizeQueue } from './resize.js';
import { isSpdyUpgrade, isWebSocketUpgrade, rejectUpgrade } from './upgrade.js';
import { serveWebSocketRemoteCommand } from './remotecommand-websocket.js';
import { serveSpdyRemoteCommand } from './remotecommand-spdy.js';

export type { RemoteCommandResult } from './status.js';
export type { TerminalSize } from './resize.js';

/** The query of …/exec and …/attach. */
export interface RemoteCommandParams {
  /** argv for exec; empty for attach. */
  command: string[];
  container: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface RemoteCommandSession {
  /** The negotiated subprotocol, e.g. v5.channel.k8s.io or v4.channel.k8s.io. */
  protocol: string;
  transport: 'websocket' | 'spdy';
  /** Present when stdin=true; ends when the client closes its stdin. */
  stdin?: Readable;
  stdout?: Writable;
  /** Absent with a TTY: on a terminal stdout and stderr are one stream. */
  stderr?: Writable;
  tty: boolean;
  resize: TerminalSizeQueue;
  /** Aborted when the client goes away before finish(). */
  signal: AbortSignal;
  /**
   * Ends the session: flushes and ends stdout/stderr, sends the Status (or v1–v3 text) on
   * the error channel and closes the connection. Only the first call counts.
   */
  finish(result: RemoteCommandResult): void;
  /** Settles once the connection is closed. */
  closed: Promise<void>;
}

export type RemoteCommandHandler = (session: RemoteCommandSession, params: RemoteCommandParams) => Promise<void>;

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

export function parseRemoteCommandParams(url: string): RemoteCommandParams {
  const q = new URL(url, 'http://localhost').searchParams;
  return {
    command: q.getAll('command'),
    container: q.get('container') ?? '',
    stdin: flag(q, 'stdin'),
    stdout: flag(q, 'stdout'),
    stderr: flag(q, 'stderr'),
    tty: flag(q, 'tty'),
  };
}

/**
 * Runs `handler` for one exec/attach upgrade. If the handler returns without calling
 * finish(), the session finishes with exit code 0; if it throws, with its error.
 */
export async function serveRemoteCommand(
  req: IncomingMessage, socket: Duplex, head: Buffer, handler: RemoteCommandHandler,
): Promise<void> {
  const params = parseRemoteCommandParams(req.url ?? '/');
  if (!params.stdin && !params.stdout && !params.stderr) {
    rejectUpgrade(socket, 400, 'you must specify at least 1 of stdin, stdout, stderr');
    return;
  }
  let session: RemoteCommandSession | undefined;
  if (isWebSocketUpgrade(req)) session = await serveWebSocketRemoteCommand(req, socket, head, params);
  else if (isSpdyUpgrade(req)) session = await serveSpdyRemoteCommand(req, socket, head, params);
  else rejectUpgrade(socket, 400, `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}`);
  if (!session) return;
  const s = session;
  try {
    await handler(s, params);
    s.finish({ exitCode: 0 });
  } catch (err) {
    s.finish({ error: err instanceof Error ? err.message : String(err) });
  }
  await s.closed;
}
