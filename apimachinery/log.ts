// Structured logs: one JSON object a line on stderr, with klog-style verbosity (--v).
// Level 0 is always on; higher levels are debug detail.
import { pino } from 'pino';

let verbosity = Number(process.env.PODIUM_V ?? 0);
const root = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, level: 'trace' }, pino.destination(2));

export function setVerbosity(v: number): void {
  verbosity = v;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Logged only when --v is at least `level`. */
  v(level: number, msg: string, fields?: Record<string, unknown>): void;
}

export function logger(component: string): Logger {
  const l = root.child({ component });
  return {
    info: (msg, fields) => l.info(fields ?? {}, msg),
    warn: (msg, fields) => l.warn(fields ?? {}, msg),
    error: (msg, fields) => l.error(fields ?? {}, msg),
    v: (level, msg, fields) => { if (verbosity >= level) l.debug({ v: level, ...fields }, msg); },
  };
}
