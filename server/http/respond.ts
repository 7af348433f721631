// Writing answers: JSON bodies, Status errors, and what the Accept header asks for.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStatusError, internalError, StatusError } from '../../apimachinery/errors.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('http');

export type OutputFormat = 'object' | 'table' | 'metadata';

export interface Negotiated {
  format: OutputFormat;
  tableVersion: 'v1' | 'v1beta1';
}

/** Table when the client asks for it (kubectl get), PartialObjectMetadata for metadata informers. */
export function negotiate(req: IncomingMessage): Negotiated {
  const accept = req.headers.accept ?? '';
  for (const part of accept.split(',')) {
    if (/as=Table/.test(part) && /g=meta\.k8s\.io/.test(part)) return { format: 'table', tableVersion: /v=v1beta1/.test(part) ? 'v1beta1' : 'v1' };
    if (/as=PartialObjectMetadata/.test(part) && /g=meta\.k8s\.io/.test(part)) return { format: 'metadata', tableVersion: /v=v1beta1/.test(part) ? 'v1beta1' : 'v1' };
    if (/application\/json|\*\/\*|application\/vnd\.kubernetes\.protobuf|^\s*$/.test(part)) return { format: 'object', tableVersion: 'v1' };
  }
  return { format: 'object', tableVersion: 'v1' };
}

export function sendJson(res: ServerResponse, code: number, body: unknown | string, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  let status: StatusError;
  if (isStatusError(err)) status = err;
  else {
    log.error('unexpected error', { auditID: res.getHeader('Audit-Id'), err: (err as Error)?.stack ?? String(err) });
    status = internalError((err as Error)?.message ?? String(err));
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status.code, status.toStatus());
}

/** An error on a connection that asked to upgrade and was not switched: a plain HTTP answer, then close. */
export function sendErrorOnSocket(socket: Duplex, err: unknown, auditID?: string): void {
  const status = isStatusError(err) ? err : internalError((err as Error)?.message ?? String(err));
  if (!isStatusError(err)) log.error('unexpected error', { err: (err as Error)?.stack ?? String(err) });
  const body = JSON.stringify(status.toStatus());
  if (!socket.writable) return void socket.destroy();
  const audit = auditID ? `Audit-Id: ${auditID}\r\n` : '';
  socket.end(`HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? ''}\r\nContent-Type: application/json\r\n${audit}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The `Warning: 299 - "text"` header kubectl prints once. */
export function addWarning(res: ServerResponse, text: string): void {
  const value = `299 - ${JSON.stringify(text)}`;
  // A write retried after a conflict runs its checks again; say each thing once.
  const prev = ([] as string[]).concat((res.getHeader('Warning') as string[] | string | undefined) ?? []);
  if (!prev.includes(value)) res.setHeader('Warning', [...prev, value]);
}
