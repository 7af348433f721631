// One watch stream (newline-delimited JSON events, as kubectl and client-go read them) that
// records when each expected object's ADDED event arrived. Every watcher has its own
// connection, outside the request pool, as a real informer would.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const VERIFY_EVERY = 50;

/** The JSON string value right after `marker` (searched from `from`), if it has no escapes. */
function scan(line: string, marker: string, from = 0): string | undefined {
  if (from < 0) return undefined;
  const at = line.indexOf(marker, from);
  if (at < 0) return undefined;
  const start = at + marker.length;
  const end = line.indexOf('"', start);
  if (end < 0) return undefined;
  const value = line.slice(start, end);
  return value.includes('\\') ? undefined : value;
}

export class WatchClient {
  /** Receipt time (performance.now() ms) per object index; NaN until its event arrives. */
  readonly received: Float64Array;
  count = 0;
  duplicates = 0;
  /** Events for objects the run did not create, or of a type other than ADDED: a count and the first few. */
  unexpectedCount = 0;
  readonly unexpected: string[] = [];
  bytes = 0;
  private lines = 0;
  private req?: http.ClientRequest;
  private res?: http.IncomingMessage;
  private settle?: { resolve: () => void; reject: (err: Error) => void };
  private failure?: Error;
  private closing = false;
  readonly complete: Promise<void>;

  constructor(private readonly port: number, private readonly path: string, private readonly index: ReadonlyMap<string, number>) {
    this.received = new Float64Array(index.size).fill(NaN);
    this.complete = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Rejections are read through `complete`; do not let an early one count as unhandled.
    this.complete.catch(() => undefined);
    if (index.size === 0) this.settle!.resolve();
  }

  /** Resolves once the server answered 200 with the stream's headers. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = http.request({ host: '127.0.0.1', port: this.port, path: this.path, method: 'GET', agent: false, headers: { accept: 'application/json' } }, (res) => {
        this.res = res;
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => reject(new Error(`watch ${this.path}: HTTP ${res.statusCode}: ${body.slice(0, 500)}`)));
          return;
        }
        resolve();
        this.consume(res);
      });
      this.req.on('error', (err) => {
        if (this.closing) return;
        reject(err);
        this.fail(new Error(`watch ${this.path}: ${err.message}`));
      });
      this.req.end();
    });
  }

  private consume(res: http.IncomingMessage): void {
    let partial = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      // One timestamp per chunk, taken before parsing, so parsing earlier lines of the same chunk does not count as delivery time.
      const now = performance.now();
      this.bytes += Buffer.byteLength(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) this.onLine(line, now);
    });
    res.on('end', () => {
      if (!this.closing) this.fail(new Error(`watch ${this.path}: the server ended the stream after ${this.count}/${this.index.size} events`));
    });
    res.on('error', (err) => {
      if (!this.closing) this.fail(new Error(`watch ${this.path}: ${err.message}`));
    });
  }

  private onLine(line: string, now: number): void {
    // Decoding 50 × 2000 events in full would make the client, which shares the machine with
    // the server, the bottleneck. So the type and name are scanned for, and every
    // VERIFY_EVERY-th line (and anything the scan does not recognise) is decoded in full to
    // check the scan. A wrong scan cannot pass silently: its name is not in the index.
    let type = scan(line, '{"type":"');
    let name = type === 'ADDED' ? scan(line, '"name":"', line.indexOf('"metadata":{')) : undefined;
    if (type !== 'ADDED' || name === undefined || this.lines++ % VERIFY_EVERY === 0) {
      let ev: { type?: string; object?: { metadata?: { name?: string } } };
      try {
        ev = JSON.parse(line);
      } catch {
        this.fail(new Error(`watch ${this.path}: not JSON: ${line.slice(0, 200)}`));
        return;
      }
      if (ev.type === 'ERROR') {
        this.fail(new Error(`watch ${this.path}: ERROR event: ${JSON.stringify(ev.object).slice(0, 500)}`));
        return;
      }
      const decodedName = ev.object?.metadata?.name ?? '';
      if (type === 'ADDED' && name !== undefined && (ev.type !== type || decodedName !== name)) {
        this.fail(new Error(`watch ${this.path}: scanned ${type} ${name}, but the event is ${ev.type} ${decodedName}`));
        return;
      }
      type = ev.type;
      name = decodedName;
    }
    const i = this.index.get(name ?? '');
    if (type !== 'ADDED' || i === undefined) {
      if (++this.unexpectedCount <= 5) this.unexpected.push(`${type} ${name}`);
      return;
    }
    if (!Number.isNaN(this.received[i]!)) {
      this.duplicates++;
      return;
    }
    this.received[i] = now;
    if (++this.count === this.index.size) this.settle?.resolve();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.settle?.reject(err);
  }

  close(): void {
    this.closing = true;
    this.res?.destroy();
    this.req?.destroy();
  }
}
