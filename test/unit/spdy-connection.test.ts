// SpdyConnection over real TCP sockets: streams with Kubernetes-style headers, half-close,
// reset, ping, and flow control in both directions (WINDOW_UPDATEs keep big transfers
// moving; the peer's window holds a fast sender back; a peer that never grants credit,
// like Go's spdystream, does not stall us).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FLAG_FIN, RstStatus, buildHeaderBlock, encodeFrame, readRawFrame } from '../../node-agent/streaming/spdy/frames.js';
import { HeaderCompressor } from '../../node-agent/streaming/spdy/header-compression.js';
import { SpdyConnection } from '../../node-agent/streaming/spdy/connection.js';
import type { SpdyStream } from '../../node-agent/streaming/spdy/stream.js';

interface Pair { server: SpdyConnection; client: SpdyConnection; close(): Promise<void> }

async function socketPair(): Promise<{ a: Socket; b: Socket; listener: Server }> {
  const listener = createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const port = (listener.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => listener.once('connection', r));
  const b = connect(port, '127.0.0.1');
  await new Promise<void>((r) => b.once('connect', () => r()));
  return { a: await accepted, b, listener };
}

async function pair(serverGraceMs?: number): Promise<Pair> {
  const { a, b, listener } = await socketPair();
  const server = new SpdyConnection(a, { isServer: true, flowControlGraceMs: serverGraceMs });
  const client = new SpdyConnection(b, { isServer: false });
  return {
    server, client,
    async close() {
      client.destroy();
      server.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
    },
  };
}

function readAll(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

const nextStream = (c: SpdyConnection): Promise<SpdyStream> => new Promise((r) => c.once('stream', (s) => r(s)));

describe('SpdyConnection', () => {
  let p: Pair;
  afterEach(async () => { await p.close(); });

  test('streams carry Kubernetes headers, replies, data both ways and half-close', async () => {
    p = await pair();
    const incoming = nextStream(p.server);
    const cs = p.client.openStream({ streamtype: 'data', port: '80', requestid: '0' });
    const replied = new Promise((r) => cs.once('reply', r));
    const ss = await incoming;
    expect(ss.headers).toEqual({ streamtype: 'data', port: '80', requestid: '0' });
    expect(ss.id % 2).toBe(1);
    await ss.reply({ ok: 'yes' });
    expect(await replied).toEqual({ ok: 'yes' });

    const serverGot = readAll(ss);
    cs.end('ping from client');
    expect((await serverGot).toString()).toBe('ping from client');
    // The client half-closed; the server can still answer.
    const clientGot = readAll(cs);
    ss.end('pong from server');
    expect((await clientGot).toString()).toBe('pong from server');
  });

  test('a stream opened with FIN (kubectl error stream) ends at once on the server', async () => {
    p = await pair();
    const incoming = nextStream(p.server);
    p.client.openStream({ streamtype: 'error' }, { fin: true });
    const ss = await incoming;
    expect((await readAll(ss)).length).toBe(0);
  });

  test('RST_STREAM from the peer destroys the stream and reports the status', async () => {
    p = await pair();
    const incoming = nextStream(p.server);
    const cs = p.client.openStream({ streamtype: 'stdin' });
    const ss = await incoming;
    const status = new Promise<number>((r) => ss.once('reset', r));
    const closed = new Promise((r) => ss.once('close', r));
    cs.reset(RstStatus.CANCEL);
    expect(await status).toBe(RstStatus.CANCEL);
    await closed;
    expect(ss.destroyed).toBe(true);
  });

  test('ping round trip', async () => {
    p = await pair();
    expect(await p.client.ping()).toBeGreaterThanOrEqual(0);
    expect(await p.server.ping()).toBeGreaterThanOrEqual(0);
  });

  test('a few MB each way: WINDOW_UPDATEs keep both directions moving', async () => {
    p = await pair(60_000); // never give up on the peer's windows: credit must come from updates
    const incoming = nextStream(p.server);
    const cs = p.client.openStream({ streamtype: 'stdin' });
    const ss = await incoming;
    const up = Buffer.alloc(3 * 1024 * 1024, 1);
    const down = Buffer.alloc(3 * 1024 * 1024, 2);
    const [gotUp, gotDown] = await Promise.all([readAll(ss), readAll(cs), cs.end(up), ss.end(down)]);
    expect(gotUp.equals(up)).toBe(true);
    expect(gotDown.equals(down)).toBe(true);
  }, 30_000);

  test("the peer's window holds a sender back until the reader consumes", async () => {
    p = await pair(60_000);
    const incoming = nextStream(p.server);
    const cs = p.client.openStream({ streamtype: 'stdout' });
    const ss = await incoming;
    cs.pause();
    let written = false;
    ss.end(Buffer.alloc(1024 * 1024, 3), () => { written = true; });
    await new Promise((r) => setTimeout(r, 300));
    // Only the initial 64 KiB window may be in flight while nobody reads.
    expect(cs.readableLength).toBeLessThanOrEqual(65_536);
    expect(cs.readableLength).toBeGreaterThan(0);
    expect(written).toBe(false);
    const all = await readAll(cs.resume() as SpdyStream);
    expect(all.length).toBe(1024 * 1024);
    expect(written).toBe(true);
  }, 30_000);

  test('a peer that never sends WINDOW_UPDATE (Go spdystream) still gets everything', async () => {
    const { a, b, listener } = await socketPair();
    const server = new SpdyConnection(a, { isServer: true, flowControlGraceMs: 50 });
    try {
      const incoming = nextStream(server);
      // A hand-rolled client: one SYN_STREAM, then it only reads.
      const deflate = new HeaderCompressor();
      b.write(encodeFrame(
        { type: 'SYN_STREAM', streamId: 1, associatedStreamId: 0, priority: 0, slot: 0, flags: 0, headers: { streamtype: 'stdout' } },
        await deflate.compress(buildHeaderBlock({ streamtype: 'stdout' })),
      ));
      deflate.close();
      const ss = await incoming;
      const size = 400_000;
      let received = 0;
      let fin = false;
      let buf = Buffer.alloc(0);
      const done = new Promise<void>((resolve) => {
        b.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          for (let next = readRawFrame(buf); next; next = readRawFrame(buf)) {
            buf = buf.subarray(next.size);
            if (!next.frame.control && next.frame.streamId === 1) {
              received += next.frame.body.length;
              if (next.frame.flags & FLAG_FIN) fin = true;
            }
          }
          if (fin) resolve();
        });
      });
      ss.end(Buffer.alloc(size, 4));
      await done;
      expect(received).toBe(size);
    } finally {
      server.destroy();
      b.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
    }
    p = { server, client: server, close: async () => undefined };
  }, 30_000);
});
