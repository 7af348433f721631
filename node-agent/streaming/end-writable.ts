// Ending a channel must not report the session finished before its bytes are out.
import type { Writable } from 'node:stream';

/** Ends a writable and waits until its buffered data has been written (or it failed). */
export function endWritable(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w.writableFinished || w.destroyed) return resolve();
    w.once('finish', () => resolve());
    w.once('close', () => resolve());
    w.once('error', () => resolve());
    if (!w.writableEnded) w.end();
  });
}
