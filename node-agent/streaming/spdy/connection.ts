// A SPDY/3.1 session over any Duplex byte stream: a TCP/TLS socket after an HTTP 101,
// or a byte-stream view of WebSocket binary messages (port-forward tunnelling).
// Kubernetes' streams carry their own headers (streamtype, port, requestid) and none
// of HTTP's (:method, :path), so this layer attaches no meaning to headers at all.
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_WINDOW, FLAG_FIN, GoAwayStatus, RstStatus, SettingsId, SpdyProtocolError,
  buildHeaderBlock, decodeControlFrame, encodeFrame, readRawFrame,
  type RawFrame, type SpdyFrame, type SpdyHeaders,
} from './frames.js';
import { HeaderCompressor, HeaderDecompressor } from './header-compression.js';
import { SpdyStream } from './stream.js';

/** Upper bound on one DATA frame we send; small frames keep streams interleaved. */
const MAX_DATA_FRAME = 16_384;
/** Incoming frames queued behind an async header inflate before we stop reading. */
const MAX_PENDING_INBOUND = 256;

export interface SpdyConnectionOptions {
  /** Server sessions open even stream ids and answer odd ones (SPDY/3 §2.3.2). */
  isServer: boolean;
  /**
   * Peers that never send WINDOW_UPDATE (Go's moby/spdystream, i.e. kubectl and the kubelet,
   * implements no flow control) would stall us after 64 KiB if we waited for credit forever.
   * If a send blocks on the window and the peer has not sent a single WINDOW_UPDATE yet, we
   * wait this long and then stop enforcing the peer's windows until it does send one.
   */
  flowControlGraceMs?: number;
  /** Send session-level (stream 0) WINDOW_UPDATEs, a SPDY/3.1 addition. Default true. */
  sessionWindowUpdates?: boolean;
}

interface Waiter { resolve: () => void }

export interface SpdyConnectionEvents {
  stream: [stream: SpdyStream, headers: SpdyHeaders];
  goaway: [lastGoodStreamId: number, status: number];
  close: [error?: Error];
}

export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  readonly isServer: boolean;
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private inbound: Buffer = Buffer.alloc(0);
  private inChain: Promise<void> = Promise.resolve();
  private pendingInbound = 0;
  private outChain: Promise<void> = Promise.resolve();
  private nextStreamId: number;
  private nextPingId: number;
  private readonly pings = new Map<number, () => void>();
  private lastPeerStreamId = 0;
  private goAwaySent = false;
  private goAwayReceived = false;
  private closed = false;

  // Flow control (send side): the peer's windows for us.
  private peerInitialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private peerSentWindowUpdate = false;
  private enforcePeerWindows = true;
  private windowWaiters: Waiter[] = [];
  private readonly graceMs: number;
  // Flow control (receive side): credit owed to the peer for the session window.
  private sessionCreditOwed = 0;
  private readonly sessionWindowUpdates: boolean;

  constructor(readonly transport: Duplex, options: SpdyConnectionOptions) {
    super();
    this.isServer = options.isServer;
    this.nextStreamId = this.isServer ? 2 : 1;
    this.nextPingId = this.isServer ? 2 : 1;
    this.graceMs = options.flowControlGraceMs ?? 250;
    this.sessionWindowUpdates = options.sessionWindowUpdates ?? true;
    // Flow control trades small WINDOW_UPDATE frames against big DATA; with Nagle on, each
    // update can sit out a delayed ACK (40 ms) and throttle transfers to a crawl.
    if (transport instanceof Socket) transport.setNoDelay(true);
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('end', () => this.teardown());
    transport.on('close', () => this.teardown());
    transport.on('error', (err: Error) => this.teardown(err));
  }

  /** Feeds bytes that arrived before the session took over the transport (the upgrade `head`). */
  feed(bytes: Buffer): void {
    if (bytes.length > 0) this.onData(bytes);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream from this side (SYN_STREAM). */
  openStream(headers: SpdyHeaders, options: { fin?: boolean; priority?: number } = {}): SpdyStream {
    if (this.closed || this.goAwayReceived) throw new Error('SPDY session is closing');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, true, this.peerInitialWindow);
    this.streams.set(id, stream);
    void this.send({
      type: 'SYN_STREAM', streamId: id, associatedStreamId: 0, priority: options.priority ?? 0, slot: 0,
      flags: options.fin ? FLAG_FIN : 0, headers,
    });
    if (options.fin) stream.markLocalFinSent();
    return stream;
  }

  /** Round-trip time of a PING, in milliseconds. */
  ping(): Promise<number> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    const started = Date.now();
    return new Promise((resolve) => {
      this.pings.set(id, () => resolve(Date.now() - started));
      void this.send({ type: 'PING', id });
    });
  }

  /** Announces GOAWAY and ends the transport once queued frames are written. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.goAwaySent) {
      this.goAwaySent = true;
      await this.send({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.OK });
    }
    await this.outChain;
    this.transport.end();
  }

  destroy(error?: Error): void {
    this.transport.destroy();
    this.teardown(error);
  }

  // ---- sending -------------------------------------------------------------------

  /** Queues a frame; header blocks are compressed in queue order. Resolves once written. */
  send(frame: SpdyFrame): Promise<void> {
    const write = async (): Promise<void> => {
      if (this.closed) return;
      let bytes: Buffer;
      if (frame.type === 'SYN_STREAM' || frame.type === 'SYN_REPLY' || frame.type === 'HEADERS') {
        bytes = encodeFrame(frame, await this.compressor.compress(buildHeaderBlock(frame.headers)));
      } else {
        bytes = encodeFrame(frame);
      }
      await this.writeTransport(bytes);
    };
    const done = this.outChain.then(write);
    this.outChain = done.catch(() => undefined);
    return done;
  }

  private writeTransport(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || this.transport.destroyed || this.transport.writableEnded) return resolve();
      if (this.transport.write(bytes)) return resolve();
      // Backpressure: hold the queue until the transport drains (or dies).
      const done = (): void => {
        this.transport.removeListener('drain', done);
        this.transport.removeListener('close', done);
        resolve();
      };
      this.transport.once('drain', done);
      this.transport.once('close', done);
    });
  }

  /**
   * Sends `data` on a stream as DATA frames, honouring the stream and session windows.
   * Called by SpdyStream._write, one call at a time per stream.
   */
  async sendData(stream: SpdyStream, data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.closed || stream.destroyed) return;
      const allowed = await this.acquireWindow(stream, Math.min(MAX_DATA_FRAME, data.length - offset));
      if (allowed === 0) return;
      const piece = data.subarray(offset, offset + allowed);
      offset += allowed;
      await this.send({ type: 'DATA', streamId: stream.id, flags: 0, data: piece });
    }
  }

  private async acquireWindow(stream: SpdyStream, wanted: number): Promise<number> {
    for (;;) {
      if (this.closed || stream.destroyed) return 0;
      const available = Math.min(stream.sendWindow, this.sessionSendWindow);
      if (!this.enforcePeerWindows || available > 0) {
        const n = this.enforcePeerWindows ? Math.min(wanted, available) : wanted;
        stream.sendWindow -= n;
        this.sessionSendWindow -= n;
        return n;
      }
      await this.waitForWindow();
    }
  }

  private waitForWindow(): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve: () => { clearTimeout(timer); resolve(); } };
      this.windowWaiters.push(waiter);
      const timer = this.peerSentWindowUpdate
        ? undefined
        : setTimeout(() => {
          // The peer has never granted credit: treat it as not doing flow control.
          if (!this.peerSentWindowUpdate) this.enforcePeerWindows = false;
          this.wakeWindowWaiters();
        }, this.graceMs);
    });
  }

  private wakeWindowWaiters(): void {
    const waiters = this.windowWaiters;
    this.windowWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Called by a stream as its reader consumes data: returns stream credit to the peer. */
  grantStreamCredit(stream: SpdyStream, bytes: number): void {
    if (bytes > 0 && !this.closed) void this.send({ type: 'WINDOW_UPDATE', streamId: stream.id, delta: bytes });
  }

  removeStream(id: number): void {
    this.streams.delete(id);
  }

  // ---- receiving -----------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    for (;;) {
      const next = readRawFrame(this.inbound);
      if (!next) break;
      this.inbound = this.inbound.subarray(next.size);
      const raw = next.frame;
      this.pendingInbound++;
      if (this.pendingInbound > MAX_PENDING_INBOUND) this.transport.pause();
      this.inChain = this.inChain.then(async () => {
        try {
          await this.handleRaw(raw);
        } catch (err) {
          this.protocolError(err instanceof Error ? err : new Error(String(err)));
        } finally {
          this.pendingInbound--;
          if (this.pendingInbound <= MAX_PENDING_INBOUND / 2 && this.transport.isPaused()) this.transport.resume();
        }
      });
    }
  }

  private protocolError(err: Error): void {
    if (this.closed) return;
    if (!this.goAwaySent) {
      this.goAwaySent = true;
      void this.send({ type: 'GOAWAY', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.PROTOCOL_ERROR })
        .then(() => this.transport.end());
    }
    this.teardown(err);
  }

  private async handleRaw(raw: RawFrame): Promise<void> {
    if (this.closed) return;
    if (!raw.control) {
      this.onDataFrame(raw.streamId, raw.flags, raw.body);
      return;
    }
    const frame = await decodeControlFrame(raw, (block) => this.decompressor.decompress(block));
    if (frame) this.onControlFrame(frame);
  }

  private onDataFrame(streamId: number, flags: number, body: Buffer): void {
    if (body.length > 0 && this.sessionWindowUpdates) {
      // Session credit goes back as soon as the bytes are handed to a stream; each
      // stream's own window provides the per-reader backpressure.
      this.sessionCreditOwed += body.length;
      if (this.sessionCreditOwed >= DEFAULT_WINDOW / 2) {
        void this.send({ type: 'WINDOW_UPDATE', streamId: 0, delta: this.sessionCreditOwed });
        this.sessionCreditOwed = 0;
      }
    }
    const stream = this.streams.get(streamId);
    if (!stream) {
      void this.send({ type: 'RST_STREAM', streamId, status: RstStatus.INVALID_STREAM });
      return;
    }
    if (stream.remoteFinReceived) {
      void this.send({ type: 'RST_STREAM', streamId, status: RstStatus.STREAM_ALREADY_CLOSED });
      return;
    }
    stream.receiveData(body, (flags & FLAG_FIN) !== 0);
  }

  private onControlFrame(frame: SpdyFrame): void {
    switch (frame.type) {
      case 'SYN_STREAM': {
        const id = frame.streamId;
        const peerParity = this.isServer ? 1 : 0;
        if (id === 0 || id % 2 !== peerParity || id <= this.lastPeerStreamId) {
          void this.send({ type: 'RST_STREAM', streamId: id, status: RstStatus.PROTOCOL_ERROR });
          return;
        }
        this.lastPeerStreamId = id;
        if (this.goAwaySent) {
          void this.send({ type: 'RST_STREAM', streamId: id, status: RstStatus.REFUSED_STREAM });
          return;
        }
        const stream = new SpdyStream(this, id, frame.headers, false, this.peerInitialWindow);
        this.streams.set(id, stream);
        this.emit('stream', stream, frame.headers);
        if (frame.flags & FLAG_FIN) stream.receiveData(Buffer.alloc(0), true);
        return;
      }
      case 'SYN_REPLY':
      case 'HEADERS': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (frame.type === 'SYN_REPLY') stream.receiveReply(frame.headers);
        else stream.emit('headers', frame.headers);
        if (frame.flags & FLAG_FIN) stream.receiveData(Buffer.alloc(0), true);
        return;
      }
      case 'RST_STREAM': {
        const stream = this.streams.get(frame.streamId);
        if (stream) stream.receiveReset(frame.status);
        return;
      }
      case 'SETTINGS':
        for (const s of frame.settings) {
          if (s.id === SettingsId.INITIAL_WINDOW_SIZE) {
            // SPDY/3 §2.6.8: a new initial window adjusts every open stream by the difference.
            const delta = s.value - this.peerInitialWindow;
            this.peerInitialWindow = s.value;
            for (const stream of this.streams.values()) stream.sendWindow += delta;
            this.wakeWindowWaiters();
          }
        }
        return;
      case 'PING': {
        const ours = (frame.id % 2) === (this.isServer ? 0 : 1);
        if (ours) {
          this.pings.get(frame.id)?.();
          this.pings.delete(frame.id);
        } else {
          void this.send({ type: 'PING', id: frame.id });
        }
        return;
      }
      case 'GOAWAY':
        this.goAwayReceived = true;
        this.emit('goaway', frame.lastGoodStreamId, frame.status);
        return;
      case 'WINDOW_UPDATE':
        if (!this.peerSentWindowUpdate) {
          this.peerSentWindowUpdate = true;
          this.enforcePeerWindows = true;
        }
        if (frame.streamId === 0) {
          this.sessionSendWindow += frame.delta;
        } else {
          const stream = this.streams.get(frame.streamId);
          if (stream) stream.sendWindow += frame.delta;
        }
        this.wakeWindowWaiters();
        return;
      case 'DATA':
        return;
    }
  }

  private teardown(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeWindowWaiters();
    for (const resolve of this.pings.values()) resolve();
    this.pings.clear();
    for (const stream of this.streams.values()) stream.abort();
    this.streams.clear();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close', error);
  }
}

export { SpdyProtocolError };
