// SPDY/3.1 frame layout: the 8-byte envelope, the body of each frame type and the
// (uncompressed) name/value header block. Compression of header blocks lives in
// header-compression.ts; this file is pure, synchronous byte shuffling.
//
// Control frame:  |1| version(15) | type(16) | flags(8) | length(24) | body
// Data frame:     |0| stream-id(31)          | flags(8) | length(24) | body

export const SPDY_VERSION = 3;
export const FRAME_HEADER_LENGTH = 8;
/** SPDY/3 §2.6.8: stream windows (and, in 3.1, the session window) start at 64 KiB. */
export const DEFAULT_WINDOW = 65_536;
/** The length field is 24 bits wide. */
export const MAX_FRAME_BODY = 0xffffff;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

/** FLAG_FIN applies to DATA, SYN_STREAM, SYN_REPLY and HEADERS. */
export const FLAG_FIN = 0x01;
/** FLAG_UNIDIRECTIONAL applies to SYN_STREAM only. */
export const FLAG_UNIDIRECTIONAL = 0x02;
/** FLAG_SETTINGS_CLEAR_SETTINGS applies to SETTINGS only. */
export const FLAG_SETTINGS_CLEAR = 0x01;

export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

export const GoAwayStatus = { OK: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2 } as const;

export const SettingsId = {
  UPLOAD_BANDWIDTH: 1,
  DOWNLOAD_BANDWIDTH: 2,
  ROUND_TRIP_TIME: 3,
  MAX_CONCURRENT_STREAMS: 4,
  CURRENT_CWND: 5,
  DOWNLOAD_RETRANS_RATE: 6,
  INITIAL_WINDOW_SIZE: 7,
  CLIENT_CERTIFICATE_VECTOR_SIZE: 8,
} as const;

/**
 * Header names are lower-case on the wire (SPDY/3 §2.6.10). A value holding several
 * values separates them with NUL, which is kept as-is here.
 */
export type SpdyHeaders = Record<string, string>;

export interface SettingEntry { id: number; value: number; flags: number }

export type SpdyFrame =
  | { type: 'DATA'; streamId: number; flags: number; data: Buffer }
  | { type: 'SYN_STREAM'; streamId: number; associatedStreamId: number; priority: number; slot: number; flags: number; headers: SpdyHeaders }
  | { type: 'SYN_REPLY'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'RST_STREAM'; streamId: number; status: number }
  | { type: 'SETTINGS'; flags: number; settings: SettingEntry[] }
  | { type: 'PING'; id: number }
  | { type: 'GOAWAY'; lastGoodStreamId: number; status: number }
  | { type: 'HEADERS'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'WINDOW_UPDATE'; streamId: number; delta: number };

export class SpdyProtocolError extends Error {
  constructor(message: string, readonly status: number = RstStatus.PROTOCOL_ERROR) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/** An envelope split off the byte stream; header blocks are still compressed. */
export type RawFrame =
  | { control: false; streamId: number; flags: number; body: Buffer }
  | { control: true; version: number; type: number; flags: number; body: Buffer };

/** Splits one frame off the front of `buf`, or returns undefined if it is incomplete. */
export function readRawFrame(buf: Buffer): { frame: RawFrame; size: number } | undefined {
  if (buf.length < FRAME_HEADER_LENGTH) return undefined;
  const length = buf.readUIntBE(5, 3);
  const size = FRAME_HEADER_LENGTH + length;
  if (buf.length < size) return undefined;
  const flags = buf[4]!;
  const body = buf.subarray(FRAME_HEADER_LENGTH, size);
  if (buf[0]! & 0x80) {
    return { frame: { control: true, version: buf.readUInt16BE(0) & 0x7fff, type: buf.readUInt16BE(2), flags, body }, size };
  }
  return { frame: { control: false, streamId: buf.readUInt32BE(0) & 0x7fffffff, flags, body }, size };
}

function envelope(control: boolean, typeOrStream: number, flags: number, body: Buffer): Buffer {
  if (body.length > MAX_FRAME_BODY) throw new SpdyProtocolError('frame body too large', RstStatus.FRAME_TOO_LARGE);
  const head = Buffer.alloc(FRAME_HEADER_LENGTH);
  if (control) {
    head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
    head.writeUInt16BE(typeOrStream, 2);
  } else {
    head.writeUInt32BE(typeOrStream & 0x7fffffff, 0);
  }
  head[4] = flags;
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/**
 * Encodes a frame. `compressedHeaders` is the already-compressed header block for
 * SYN_STREAM, SYN_REPLY and HEADERS (compression is stateful and so is done by the caller
 * in frame order).
 */
export function encodeFrame(frame: SpdyFrame, compressedHeaders?: Buffer): Buffer {
  const block = (): Buffer => {
    if (!compressedHeaders) throw new Error(`${frame.type} needs a compressed header block`);
    return compressedHeaders;
  };
  switch (frame.type) {
    case 'DATA':
      return envelope(false, frame.streamId, frame.flags, frame.data);
    case 'SYN_STREAM': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedStreamId & 0x7fffffff, 4);
      fixed[8] = (frame.priority & 0x7) << 5;
      fixed[9] = frame.slot & 0xff;
      return envelope(true, FrameType.SYN_STREAM, frame.flags, Buffer.concat([fixed, block()]));
    }
    case 'SYN_REPLY':
      return envelope(true, FrameType.SYN_REPLY, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fffffff), block()]));
    case 'HEADERS':
      return envelope(true, FrameType.HEADERS, frame.flags, Buffer.concat([u32(frame.streamId & 0x7fffffff), block()]));
    case 'RST_STREAM':
      return envelope(true, FrameType.RST_STREAM, 0, u32(frame.streamId & 0x7fffffff, frame.status));
    case 'SETTINGS': {
      const body = Buffer.alloc(4 + 8 * frame.settings.length);
      body.writeUInt32BE(frame.settings.length, 0);
      frame.settings.forEach((s, i) => {
        const off = 4 + i * 8;
        body[off] = s.flags & 0xff;
        body.writeUIntBE(s.id & 0xffffff, off + 1, 3);
        body.writeUInt32BE(s.value >>> 0, off + 4);
      });
      return envelope(true, FrameType.SETTINGS, frame.flags, body);
    }
    case 'PING':
      return envelope(true, FrameType.PING, 0, u32(frame.id));
    case 'GOAWAY':
      return envelope(true, FrameType.GOAWAY, 0, u32(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case 'WINDOW_UPDATE':
      return envelope(true, FrameType.WINDOW_UPDATE, 0, u32(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff));
  }
}

function need(body: Buffer, n: number, what: string): void {
  if (body.length < n) throw new SpdyProtocolError(`${what} frame too short (${body.length} < ${n})`);
}

/**
 * Decodes a control frame body. For frames with a header block, `inflate` receives the
 * compressed block and must return the uncompressed one (see header-compression.ts).
 * Returns undefined for control frame types this layer ignores (NOOP, CREDENTIAL).
 */
export async function decodeControlFrame(
  raw: Extract<RawFrame, { control: true }>,
  inflate: (block: Buffer) => Promise<Buffer>,
): Promise<SpdyFrame | undefined> {
  const { body, flags } = raw;
  if (raw.version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${raw.version}`, RstStatus.UNSUPPORTED_VERSION);
  switch (raw.type) {
    case FrameType.SYN_STREAM: {
      need(body, 10, 'SYN_STREAM');
      const headers = parseHeaderBlock(await inflate(body.subarray(10)));
      return {
        type: 'SYN_STREAM', flags, headers,
        streamId: body.readUInt32BE(0) & 0x7fffffff,
        associatedStreamId: body.readUInt32BE(4) & 0x7fffffff,
        priority: body[8]! >> 5,
        slot: body[9]!,
      };
    }
    case FrameType.SYN_REPLY:
    case FrameType.HEADERS: {
      need(body, 4, 'SYN_REPLY/HEADERS');
      const headers = parseHeaderBlock(await inflate(body.subarray(4)));
      return { type: raw.type === FrameType.SYN_REPLY ? 'SYN_REPLY' : 'HEADERS', flags, headers, streamId: body.readUInt32BE(0) & 0x7fffffff };
    }
    case FrameType.RST_STREAM:
      need(body, 8, 'RST_STREAM');
      return { type: 'RST_STREAM', streamId: body.readUInt32BE(0) & 0x7fffffff, status: body.readUInt32BE(4) };
    case FrameType.SETTINGS: {
      need(body, 4, 'SETTINGS');
      const count = body.readUInt32BE(0);
      need(body, 4 + 8 * count, 'SETTINGS');
      const settings: SettingEntry[] = [];
      for (let i = 0; i < count; i++) {
        const off = 4 + i * 8;
        settings.push({ flags: body[off]!, id: body.readUIntBE(off + 1, 3), value: body.readUInt32BE(off + 4) });
      }
      return { type: 'SETTINGS', flags, settings };
    }
    case FrameType.PING:
      need(body, 4, 'PING');
      return { type: 'PING', id: body.readUInt32BE(0) };
    case FrameType.GOAWAY:
      // SPDY/2 GOAWAY had no status; tolerate a 4-byte body.
      need(body, 4, 'GOAWAY');
      return { type: 'GOAWAY', lastGoodStreamId: body.readUInt32BE(0) & 0x7fffffff, status: body.length >= 8 ? body.readUInt32BE(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      need(body, 8, 'WINDOW_UPDATE');
      return { type: 'WINDOW_UPDATE', streamId: body.readUInt32BE(0) & 0x7fffffff, delta: body.readUInt32BE(4) & 0x7fffffff };
    default:
      return undefined;
  }
}

/** Serialises a name/value block: count(32), then length(32)+name, length(32)+value. */
export function buildHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function parseHeaderBlock(block: Buffer): SpdyHeaders {
  need(block, 4, 'header block');
  const count = block.readUInt32BE(0);
  const headers: SpdyHeaders = {};
  let off = 4;
  const take = (): string => {
    if (off + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new SpdyProtocolError('truncated header block');
    const s = block.toString('utf8', off, off + len);
    off += len;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    if (name === '') throw new SpdyProtocolError('empty header name');
    const value = take();
    // A repeated name is folded into one NUL-separated value, the SPDY/3 representation.
    headers[name] = name in headers ? `${headers[name]}\0${value}` : value;
  }
  return headers;
}
