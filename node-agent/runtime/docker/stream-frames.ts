// Docker's multiplexed stream format for non-TTY containers (logs, attach, exec): each frame is an
// 8-byte header — stream type (0 stdin, 1 stdout, 2 stderr), three zero bytes, a big-endian
// uint32 payload length — followed by the payload. Frames may straddle chunks.
import { Transform, type TransformCallback } from 'node:stream';

export type FrameSink = (streamType: number, payload: Buffer) => void;

/** A parser fed with chunks; calls `sink` for each complete frame. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      this.sink(this.buf[0], this.buf.subarray(8, 8 + size));
      this.buf = this.buf.subarray(8 + size);
    }
  }
}

/** A transform that strips frame headers: stdout and stderr interleaved, as `kubectl logs` shows. */
export function demuxTransform(): Transform {
  let parser: FrameParser;
  const t = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      parser.push(chunk);
      cb();
    },
  });
  parser = new FrameParser((_type, payload) => t.push(Buffer.from(payload)));
  return t;
}

/** Frames a payload (for tests and for anyone faking a Docker stream). */
export function frame(streamType: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = streamType;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}
