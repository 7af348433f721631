// The audit log (upstream's audit.k8s.io/v1 Event at level Metadata, stage ResponseComplete):
// one JSON line per request with who asked, what for, and how it ended. Request and response
// bodies are never logged, so secrets do not leak into it.
import { createWriteStream, type WriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Attributes, UserInfo } from '../auth/types.js';

export interface AuditRecord {
  user?: UserInfo;
  impersonatedUser?: UserInfo;
  attributes?: Attributes;
  decision?: 'allow' | 'forbid';
  reason?: string;
}

/** A ServerResponse, or the stand-in an upgraded connection gives (its code is 101 once switched). */
export interface AuditedResponse {
  once(event: 'close', listener: () => void): unknown;
  readonly statusCode: number;
}

export class AuditLog {
  private readonly out: WriteStream | NodeJS.WriteStream;

  /** `path` "-" writes to standard output, as upstream's --audit-log-path. */
  constructor(path: string) {
    this.out = path === '-' ? process.stdout : createWriteStream(path, { flags: 'a', mode: 0o600 });
  }

  /** Starts the record of a request; the line is written once the response (or upgraded connection) has ended. */
  begin(req: IncomingMessage, res: AuditedResponse): AuditRecord {
    const record: AuditRecord = {};
    const received = new Date();
    const startedNs = process.hrtime.bigint();
    res.once('close', () => {
      const latencyMs = Number(process.hrtime.bigint() - startedNs) / 1e6;
      this.out.write(`${JSON.stringify(event(req, res, record, received, latencyMs))}\n`);
    });
    return record;
  }

  close(): Promise<void> {
    if (this.out === process.stdout) return Promise.resolve();
    return new Promise((resolve) => (this.out as WriteStream).end(() => resolve()));
  }
}

function userOf(u: UserInfo | undefined): Record<string, unknown> | undefined {
  if (!u) return undefined;
  return { username: u.name, uid: u.uid, groups: u.groups, extra: u.extra };
}

function event(req: IncomingMessage, res: AuditedResponse, r: AuditRecord, received: Date, latencyMs: number): Record<string, unknown> {
  const a = r.attributes;
  const annotations: Record<string, string> = { 'podium.io/latency': `${latencyMs.toFixed(3)}ms` };
  if (r.decision) annotations['authorization.k8s.io/decision'] = r.decision;
  if (r.reason) annotations['authorization.k8s.io/reason'] = r.reason;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: (req.headers['audit-id'] as string | undefined) ?? randomUUID(),
    stage: 'ResponseComplete',
    requestURI: req.url,
    verb: a?.verb ?? req.method?.toLowerCase(),
    user: userOf(r.user),
    impersonatedUser: userOf(r.impersonatedUser),
    sourceIPs: [req.socket.remoteAddress],
    userAgent: req.headers['user-agent'],
    objectRef: a?.resourceRequest
      ? { resource: a.resource, namespace: a.namespace || undefined, name: a.name || undefined, apiGroup: a.apiGroup || undefined, apiVersion: a.apiVersion, subresource: a.subresource || undefined }
      : undefined,
    responseStatus: { metadata: {}, code: res.statusCode },
    requestReceivedTimestamp: received.toISOString(),
    stageTimestamp: new Date().toISOString(),
    annotations,
  };
}
