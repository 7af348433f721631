// Stateful zlib contexts for SPDY/3 header blocks. Each direction of a connection is
// ONE zlib stream primed with the SPDY/3 dictionary: every header block is the output
// of a Z_SYNC_FLUSH on that stream, so a block can only be decoded after all earlier
// blocks of the same direction. Node's public zlib API for a long-lived context is
// asynchronous, so calls are chained to keep them in frame order.
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './dictionary.js';

class ZlibContext {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly engine: Deflate | Inflate) {
    // Errors surface through process(); without a listener an 'error' event would throw.
    engine.on('error', () => undefined);
  }

  /** Feeds `input` and returns everything the context emits up to a sync flush. */
  process(input: Buffer): Promise<Buffer> {
    const run = (): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        this.engine.once('error', onError);
        this.engine.write(input);
        this.engine.flush(constants.Z_SYNC_FLUSH, () => {
          this.engine.removeListener('error', onError);
          // zlib pushes output before it runs the flush callback, and the stream is in
          // paused mode, so everything produced is in the read buffer now.
          const chunks: Buffer[] = [];
          let chunk: Buffer | null;
          while ((chunk = this.engine.read() as Buffer | null) !== null) chunks.push(chunk);
          resolve(Buffer.concat(chunks));
        });
      });
    const result = this.chain.then(run, run);
    this.chain = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.engine.close();
  }
}

/** Compresses outgoing header blocks (one per connection). */
export class HeaderCompressor {
  private readonly ctx = new ZlibContext(createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY }));
  compress(block: Buffer): Promise<Buffer> {
    return this.ctx.process(block);
  }
  close(): void {
    this.ctx.close();
  }
}

/** Decompresses incoming header blocks (one per connection). */
export class HeaderDecompressor {
  private readonly ctx = new ZlibContext(createInflate({ dictionary: SPDY3_HEADER_DICTIONARY }));
  decompress(block: Buffer): Promise<Buffer> {
    return this.ctx.process(block);
  }
  close(): void {
    this.ctx.close();
  }
}
