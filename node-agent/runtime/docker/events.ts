// The runtime's PLEG: Docker's event stream, filtered to container start/die/oom of objects this
// runtime manages, turned into "pod <uid> changed" calls. Reconnects when dockerd restarts.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { logger } from '../../../apimachinery/log.js';
import { MANAGED_LABEL, POD_UID_LABEL } from './labels.js';

const log = logger('docker-events');
const RETRY_MS = 1000;

export class ContainerEvents {
  private stream?: Readable;
  private retry?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly onPod: (uid: string) => void,
  ) {}

  /** Resolves once the stream is open (or the first attempt failed and a retry is scheduled). */
  async start(): Promise<void> {
    if (this.closed) return;
    try {
      const stream = (await this.docker.getEvents({
        filters: { type: ['container'], event: ['die', 'oom', 'start'], label: [`${MANAGED_LABEL}=true`] },
      })) as unknown as Readable;
      this.stream = stream;
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) this.dispatch(line);
        }
      });
      const again = (): void => {
        if (this.closed || this.stream !== stream) return;
        this.stream = undefined;
        this.retry = setTimeout(() => void this.start(), RETRY_MS);
      };
      stream.on('end', again);
      stream.on('error', again);
    } catch (err) {
      log.warn('docker events unavailable; retrying', { err: (err as Error).message });
      this.retry = setTimeout(() => void this.start(), RETRY_MS);
    }
  }

  private dispatch(line: string): void {
    try {
      const ev = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
      const uid = ev.Actor?.Attributes?.[POD_UID_LABEL];
      if (uid) this.onPod(uid);
    } catch {
      // not JSON: ignore
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const s = this.stream;
    this.stream = undefined;
    s?.destroy();
  }
}
