// SPDY/3.1 framing: every frame type round-trips through encode → split → decode, and
// header blocks share one zlib context per direction, primed with the SPDY/3 dictionary.
import { inflateSync } from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from '../../node-agent/streaming/spdy/dictionary.js';
import {
  FLAG_FIN, FLAG_UNIDIRECTIONAL, SettingsId, buildHeaderBlock, decodeControlFrame, encodeFrame,
  parseHeaderBlock, readRawFrame, type SpdyFrame,
} from '../../node-agent/streaming/spdy/frames.js';
import { HeaderCompressor, HeaderDecompressor } from '../../node-agent/streaming/spdy/header-compression.js';

function adler32(buf: Buffer): number {
  let a = 1, b = 0;
  for (const byte of buf) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

async function roundTrip(frames: SpdyFrame[]): Promise<SpdyFrame[]> {
  const deflate = new HeaderCompressor();
  const inflate = new HeaderDecompressor();
  const wire: Buffer[] = [];
  for (const f of frames) {
    const needsBlock = f.type === 'SYN_STREAM' || f.type === 'SYN_REPLY' || f.type === 'HEADERS';
    wire.push(encodeFrame(f, needsBlock ? await deflate.compress(buildHeaderBlock(f.headers)) : undefined));
  }
  // Split the concatenation back up, as a reader of a byte stream would.
  let buf = Buffer.concat(wire);
  const out: SpdyFrame[] = [];
  for (;;) {
    const next = readRawFrame(buf);
    if (!next) break;
    buf = buf.subarray(next.size);
    const raw = next.frame;
    if (!raw.control) out.push({ type: 'DATA', streamId: raw.streamId, flags: raw.flags, data: Buffer.from(raw.body) });
    else {
      const decoded = await decodeControlFrame(raw, (b) => inflate.decompress(b));
      if (decoded) out.push(decoded);
    }
  }
  expect(buf.length).toBe(0);
  deflate.close();
  inflate.close();
  return out;
}

describe('SPDY/3 dictionary', () => {
  test('has the documented size and starts and ends as specified', () => {
    expect(SPDY3_HEADER_DICTIONARY.length).toBe(1423);
    expect(SPDY3_HEADER_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from('\0\0\0\x07options', 'latin1'));
    expect(SPDY3_HEADER_DICTIONARY.subarray(-6).toString('latin1')).toBe('enq=0.');
  });

  test('the first compressed block announces the dictionary by its Adler-32', async () => {
    const c = new HeaderCompressor();
    const first = await c.compress(buildHeaderBlock({ streamtype: 'error' }));
    c.close();
    // zlib header: CMF, FLG with FDICT (0x20) set, then DICTID big-endian.
    expect(first[1]! & 0x20).toBe(0x20);
    expect(first.readUInt32BE(2)).toBe(adler32(SPDY3_HEADER_DICTIONARY));
    expect(() => inflateSync(first)).toThrow();
  });
});

describe('frame round trip', () => {
  test('every frame type', async () => {
    const frames: SpdyFrame[] = [
      { type: 'SYN_STREAM', streamId: 1, associatedStreamId: 0, priority: 3, slot: 0, flags: FLAG_UNIDIRECTIONAL, headers: { streamtype: 'error', port: '80', requestid: '0' } },
      { type: 'SYN_REPLY', streamId: 1, flags: 0, headers: {} },
      { type: 'HEADERS', streamId: 1, flags: FLAG_FIN, headers: { 'x-trailer': 'a\0b' } },
      { type: 'DATA', streamId: 1, flags: 0, data: Buffer.from('hello') },
      { type: 'DATA', streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) },
      { type: 'RST_STREAM', streamId: 5, status: 5 },
      { type: 'SETTINGS', flags: 0, settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 1 << 20, flags: 0 }, { id: SettingsId.MAX_CONCURRENT_STREAMS, value: 100, flags: 1 }] },
      { type: 'PING', id: 7 },
      { type: 'GOAWAY', lastGoodStreamId: 9, status: 0 },
      { type: 'WINDOW_UPDATE', streamId: 0, delta: 32768 },
      { type: 'WINDOW_UPDATE', streamId: 3, delta: 0x7fffffff },
    ];
    expect(await roundTrip(frames)).toEqual(frames);
  });

  test('a DATA frame larger than 64 KiB and a frame split across reads', () => {
    const big = Buffer.alloc(200_000, 7);
    const wire = encodeFrame({ type: 'DATA', streamId: 1, flags: 0, data: big });
    expect(readRawFrame(wire.subarray(0, 7))).toBeUndefined();
    expect(readRawFrame(wire.subarray(0, wire.length - 1))).toBeUndefined();
    const whole = readRawFrame(wire)!;
    expect(whole.size).toBe(wire.length);
    expect(whole.frame.control).toBe(false);
    expect(whole.frame.body.equals(big)).toBe(true);
  });

  test('header blocks have no :method/:path requirement and fold repeated names', () => {
    const block = Buffer.concat([
      Buffer.from([0, 0, 0, 2]),
      Buffer.from([0, 0, 0, 1]), Buffer.from('A'), Buffer.from([0, 0, 0, 1]), Buffer.from('x'),
      Buffer.from([0, 0, 0, 1]), Buffer.from('a'), Buffer.from([0, 0, 0, 1]), Buffer.from('y'),
    ]);
    expect(parseHeaderBlock(block)).toEqual({ a: 'x\0y' });
  });
});

describe('header compression context', () => {
  test('one context per direction across many frames; later blocks depend on earlier ones', async () => {
    const deflate = new HeaderCompressor();
    const blocks = [
      { streamtype: 'error', port: '8080', requestid: '0' },
      { streamtype: 'data', port: '8080', requestid: '0' },
      { streamtype: 'error', port: '8080', requestid: '1' },
      { streamtype: 'data', port: '8080', requestid: '1' },
    ];
    const compressed = [];
    for (const h of blocks) compressed.push(await deflate.compress(buildHeaderBlock(h)));
    deflate.close();
    // The shared window makes repeats cheap.
    expect(compressed[3]!.length).toBeLessThan(compressed[0]!.length);

    const inflate = new HeaderDecompressor();
    for (let i = 0; i < blocks.length; i++) {
      expect(parseHeaderBlock(await inflate.decompress(compressed[i]!))).toEqual(blocks[i]);
    }
    inflate.close();

    // A fresh context cannot decode a later block on its own: it needs the history.
    const fresh = new HeaderDecompressor();
    await expect(fresh.decompress(compressed[2]!).then(parseHeaderBlock)).rejects.toThrow();
    fresh.close();
  });

  test('concurrent calls are serialised in call order', async () => {
    const deflate = new HeaderCompressor();
    const inflate = new HeaderDecompressor();
    const headers = Array.from({ length: 20 }, (_, i) => ({ streamtype: 'data', requestid: String(i) }));
    const compressed = await Promise.all(headers.map((h) => deflate.compress(buildHeaderBlock(h))));
    const decoded = await Promise.all(compressed.map((c) => inflate.decompress(c).then(parseHeaderBlock)));
    expect(decoded).toEqual(headers);
    deflate.close();
    inflate.close();
  });
});
