// The request's audit ID (upstream's WithAuditInit): the one the client sent in Audit-ID, else
// a new UUID. It names the request in the audit log, in request log lines, and in the
// Audit-Id response header, so a client's report can be matched with the server's records.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Longer or non-printable IDs are replaced: they end up in logs and a response header. */
const ACCEPTABLE = /^[\x21-\x7e]{1,256}$/;

export function auditIdOf(req: IncomingMessage): string {
  const sent = req.headers['audit-id'];
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value !== undefined && ACCEPTABLE.test(value) ? value : randomUUID();
}
