// Terminal resize events from the client: channel 4 on WebSocket, the `resize` stream
// on SPDY. Both carry JSON objects {"Width":W,"Height":H} (Go's json.Encoder, so each
// is followed by a newline).
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

export interface TerminalSize { width: number; height: number }

/** Resize events, consumable as an EventEmitter ('resize') or an async iterator. */
export class TerminalSizeQueue extends EventEmitter<{ resize: [TerminalSize]; close: [] }> implements AsyncIterable<TerminalSize> {
  private readonly pending: TerminalSize[] = [];
  private waiter: ((r: IteratorResult<TerminalSize>) => void) | undefined;
  private closed = false;
  /** The most recent size, for handlers that start after the first event arrived. */
  last: TerminalSize | undefined;

  push(size: TerminalSize): void {
    if (this.closed) return;
    this.last = size;
    this.emit('resize', size);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: size, done: false });
    } else {
      this.pending.push(size);
    }
  }

  /** Parses one JSON resize message; malformed ones are ignored, as the kubelet does. */
  pushJson(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const { Width, Height } = parsed as { Width?: unknown; Height?: unknown };
    if (typeof Width === 'number' && typeof Height === 'number') this.push({ width: Width, height: Height });
  }

  /** Reads newline-separated JSON objects from a stream until it ends. */
  consume(source: Readable): void {
    let buffered = '';
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) this.pushJson(line);
      }
    });
    source.on('end', () => {
      if (buffered.trim()) this.pushJson(buffered.trim());
    });
    source.on('error', () => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TerminalSize> {
    return {
      next: () => {
        const size = this.pending.shift();
        if (size) return Promise.resolve({ value: size, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { this.waiter = resolve; });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
