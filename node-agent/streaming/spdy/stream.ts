// One SPDY stream as a Node Duplex: the readable side carries the peer's DATA frames,
// the writable side becomes our DATA frames, end() sends FIN. Flow-control credit is
// returned to the peer only as the reader consumes data, so a slow consumer slows the
// peer rather than buffering without bound.
import { Duplex } from 'node:stream';
import { DEFAULT_WINDOW, FLAG_FIN, RstStatus, type SpdyHeaders } from './frames.js';
import type { SpdyConnection } from './connection.js';

/** Events a SpdyStream emits besides the Duplex ones. */
export interface SpdyStreamEvents {
  reply: [headers: SpdyHeaders];
  headers: [headers: SpdyHeaders];
  reset: [status: number];
}

export class SpdyStream extends Duplex {
  /** Bytes the peer still lets us send on this stream. */
  sendWindow: number;
  /** Headers of the reply, for streams this side opened. */
  replyHeaders: SpdyHeaders | undefined;
  private replied: boolean;
  private localFinSent = false;
  private remoteFin = false;
  private resetSeen = false;
  private creditOwed = 0;

  constructor(
    private readonly connection: SpdyConnection,
    readonly id: number,
    /** The SYN_STREAM headers (ours if this side opened the stream, the peer's otherwise). */
    readonly headers: SpdyHeaders,
    readonly locallyInitiated: boolean,
    initialSendWindow: number,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = initialSendWindow;
    // A stream we open needs no reply from us; a peer's stream does before any DATA.
    this.replied = locallyInitiated;
  }

  get remoteFinReceived(): boolean {
    return this.remoteFin;
  }

  /** Answers a peer-initiated stream (SYN_REPLY). Writing or ending replies implicitly. */
  reply(headers: SpdyHeaders = {}, fin = false): Promise<void> {
    if (this.replied) return Promise.resolve();
    this.replied = true;
    if (fin) this.markLocalFinSent();
    return this.connection.send({ type: 'SYN_REPLY', streamId: this.id, flags: fin ? FLAG_FIN : 0, headers });
  }

  /** Aborts the stream in both directions (RST_STREAM). */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.resetSeen && !this.connection.isClosed) {
      this.resetSeen = true;
      void this.connection.send({ type: 'RST_STREAM', streamId: this.id, status });
    }
    this.destroy();
  }

  // ---- called by the connection --------------------------------------------------

  markLocalFinSent(): void {
    this.localFinSent = true;
    this.maybeFullyClosed();
  }

  receiveData(data: Buffer, fin: boolean): void {
    if (this.destroyed) return;
    if (data.length > 0) {
      this.creditOwed += data.length;
      if (this.push(data)) this.maybeGrantCredit();
    }
    if (fin && !this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
      this.maybeFullyClosed();
    }
  }

  receiveReply(headers: SpdyHeaders): void {
    this.replyHeaders = headers;
    this.emit('reply', headers);
  }

  receiveReset(status: number): void {
    this.resetSeen = true;
    this.emit('reset', status);
    this.destroy();
  }

  /** The session is gone. A stream whose peer already finished keeps its buffered input. */
  abort(): void {
    this.localFinSent = true;
    if (!this.remoteFin) this.destroy();
  }

  // ---- Duplex --------------------------------------------------------------------

  override _read(): void {
    this.maybeGrantCredit();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const run = async (): Promise<void> => {
      if (!this.replied) await this.reply();
      await this.connection.sendData(this, chunk);
    };
    run().then(() => callback(), (err: Error) => callback(err));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localFinSent) return callback();
    const fin = this.replied
      ? this.connection.send({ type: 'DATA', streamId: this.id, flags: FLAG_FIN, data: Buffer.alloc(0) })
      : this.reply({}, true);
    this.localFinSent = true;
    fin.then(() => { this.maybeFullyClosed(); callback(); }, (err: Error) => callback(err));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.localFinSent && this.remoteFin) && !this.resetSeen && !this.connection.isClosed) {
      this.resetSeen = true;
      void this.connection.send({ type: 'RST_STREAM', streamId: this.id, status: RstStatus.CANCEL });
    }
    this.connection.removeStream(this.id);
    callback(error);
  }

  private maybeGrantCredit(): void {
    // Batch updates: one WINDOW_UPDATE per half window consumed.
    if (this.creditOwed >= DEFAULT_WINDOW / 2) {
      this.connection.grantStreamCredit(this, this.creditOwed);
      this.creditOwed = 0;
    }
  }

  private maybeFullyClosed(): void {
    if (this.localFinSent && this.remoteFin) this.connection.removeStream(this.id);
  }
}
