// The cluster DNS server: UDP and TCP on one address, answering the cluster zone from the
// informer caches (records.ts) and forwarding every other name to the node's upstream
// resolvers, like a CoreDNS with `kubernetes <zone> in-addr.arpa ip6.arpa { pods insecure;
// fallthrough in-addr.arpa ip6.arpa }` and `forward . /etc/resolv.conf`.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet, Question } from 'dns-packet';
import { logger } from '../../apimachinery/log.js';
import { answerQuestion, inZone, isReverseName, normalizeName, type DnsState, type ZoneAnswer } from './records.js';
import { parseResolvConf } from './resolv-conf.js';

const log = logger('cluster-dns');

export interface ClusterDnsServerOptions {
  /** The address to listen on, e.g. the node's address on the pod bridge. */
  address: string;
  /** Default 53; 0 picks a free port (the same for UDP and TCP), returned by start(). */
  port?: number;
  /** Default cluster.local. */
  clusterDomain?: string;
  /**
   * Resolvers for names outside the zone, as `ip`, `ip:port` or `[ipv6]:port`. Default: the
   * nameservers of the host's /etc/resolv.conf. Empty: such names get REFUSED.
   */
  upstreams?: string[];
  /** Per-upstream timeout; default 2000 ms. */
  upstreamTimeoutMs?: number;
  /** TTL of cluster answers; default 5 (CoreDNS's). */
  ttl?: number;
}

interface Upstream {
  host: string;
  port: number;
}

const FLAG_AA = 0x400;
const FLAG_TC = 0x200;
const FLAG_RD = 0x100;
const FLAG_RA = 0x80;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type RcodeName = keyof typeof RCODE;
const MIN_UDP_SIZE = 512;
const MAX_UDP_SIZE = 4096;
const TCP_IDLE_MS = 10_000;

export function parseUpstream(spec: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : 53 };
  if (net.isIP(spec)) return { host: spec, port: 53 };
  const i = spec.lastIndexOf(':');
  if (i > 0 && net.isIP(spec.slice(0, i)) === 4) return { host: spec.slice(0, i), port: Number(spec.slice(i + 1)) };
  throw new Error(`invalid upstream DNS server ${JSON.stringify(spec)}`);
}

function hostUpstreams(): string[] {
  try {
    return parseResolvConf(readFileSync('/etc/resolv.conf', 'utf8')).servers.filter((s) => net.isIP(s.replace(/%.*$/, '')) !== 0);
  } catch {
    return [];
  }
}

export class ClusterDnsServer {
  private readonly zone: string;
  private readonly upstreams: Upstream[];
  private readonly timeoutMs: number;
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly connections = new Set<net.Socket>();
  private port = 0;
  private preferred = 0;

  constructor(
    private readonly state: DnsState,
    private readonly options: ClusterDnsServerOptions,
  ) {
    this.zone = normalizeName(options.clusterDomain ?? 'cluster.local');
    this.upstreams = (options.upstreams ?? hostUpstreams()).map(parseUpstream);
    this.timeoutMs = options.upstreamTimeoutMs ?? 2000;
  }

  async start(): Promise<{ port: number }> {
    const wanted = this.options.port ?? 53;
    // With port 0 the kernel picks the UDP port; TCP must then get the same one, which can
    // (rarely) be taken, so try a few times.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(wanted);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(port);
        this.udp = udp;
        this.port = port;
        break;
      } catch (e) {
        udp.close();
        if (wanted !== 0 || attempt >= 10) throw e;
      }
    }
    // Never forward to ourselves: that would loop until every hop times out.
    const self = this.upstreams.findIndex((u) => u.host === this.options.address && u.port === this.port);
    if (self >= 0) this.upstreams.splice(self, 1);
    log.v(1, 'cluster DNS listening', { address: this.options.address, port: this.port, zone: this.zone, upstreams: this.upstreams.map((u) => `${u.host}:${u.port}`) });
    return { port: this.port };
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }

  private bindUdp(port: number): Promise<dgram.Socket> {
    const sock = dgram.createSocket({ type: net.isIPv6(this.options.address) ? 'udp6' : 'udp4' });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, this.options.address, () => {
        sock.off('error', reject);
        sock.on('error', (err) => log.warn('UDP socket error', { err: err.message }));
        sock.on('message', (msg, rinfo) => {
          void this.handle(msg, 'udp').then(
            (reply) => {
              // The socket may have been closed by stop() while the answer was on its way.
              if (reply && this.udp === sock) sock.send(reply, rinfo.port, rinfo.address);
            },
            (err: Error) => log.warn('DNS query failed', { err: err.message }),
          );
        });
        resolve(sock);
      });
    });
  }

  private listenTcp(port: number): Promise<net.Server> {
    const server = net.createServer((conn) => this.serveTcp(conn));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.address, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private serveTcp(conn: net.Socket): void {
    this.connections.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    conn.on('close', () => this.connections.delete(conn));
    conn.on('error', () => conn.destroy());
    let buf = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.handle(msg, 'tcp').then(
          (reply) => {
            if (!reply || conn.destroyed) return;
            const head = Buffer.alloc(2);
            head.writeUInt16BE(reply.length);
            conn.write(Buffer.concat([head, reply]));
          },
          (err: Error) => log.warn('DNS query failed', { err: err.message }),
        );
      }
    });
  }

  /** One wire-format query in, its wire-format reply out (undefined: no reply, e.g. garbage). */
  async handle(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12) return undefined;
      // Echo the id so the client can match the FORMERR to its query.
      return dnsPacket.encode({ type: 'response', id: msg.readUInt16BE(0), flags: RCODE.FORMERR, questions: [] });
    }
    if (query.type !== 'query') return undefined;
    const opcode = (query as DecodedPacket & { opcode?: string }).opcode;
    const question = query.questions?.[0];
    if (opcode !== 'QUERY') return this.reply(query, transport, 'NOTIMP', undefined);
    if (!question) return this.reply(query, transport, 'FORMERR', undefined);

    let local: ZoneAnswer | undefined;
    try {
      local = answerQuestion(this.state, question, { clusterDomain: this.zone, ttl: this.options.ttl });
    } catch (e) {
      // A malformed object in a cache must cost one answer, not the server.
      log.warn('answering from the cluster state failed', { name: question.name, type: question.type, err: (e as Error).message });
      return this.reply(query, transport, 'SERVFAIL', undefined);
    }
    log.v(4, 'query', { name: question.name, type: question.type, transport, local: local?.rcode ?? 'forward' });
    if (local) {
      if (local.externalTarget && local.answers.length > 0) await this.chaseExternal(local, question);
      return this.reply(query, transport, local.rcode, local);
    }
    // Names in the zone are ours alone; reverse names nothing here knows fall through.
    if (inZone(question.name, this.zone) && !isReverseName(question.name)) return this.reply(query, transport, 'NXDOMAIN', undefined);
    if (this.upstreams.length === 0) return this.reply(query, transport, 'REFUSED', undefined);
    const forwarded = await this.forward(msg, transport === 'tcp');
    return forwarded ?? this.reply(query, transport, 'SERVFAIL', undefined);
  }

  // CoreDNS resolves an ExternalName's target through its upstreams and returns the chain.
  private async chaseExternal(local: ZoneAnswer, question: Question): Promise<void> {
    if (this.upstreams.length === 0 || (question.type !== 'A' && question.type !== 'AAAA')) return;
    const q = dnsPacket.encode({ type: 'query', id: Math.floor(Math.random() * 65536), flags: FLAG_RD, questions: [{ name: local.externalTarget!, type: question.type, class: 'IN' }] });
    const res = await this.forward(q, false);
    if (!res) return;
    try {
      const decoded = dnsPacket.decode(res);
      local.answers.push(...(decoded.answers ?? []).filter((a) => a.type !== 'OPT'));
    } catch {
      // A garbled upstream reply leaves the bare CNAME, which the client can follow itself.
    }
  }

  private reply(query: DecodedPacket, transport: 'udp' | 'tcp', rcode: RcodeName | ZoneAnswer['rcode'], answer: ZoneAnswer | undefined): Buffer {
    const opt = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
    let flags = (query.flags ?? 0) & FLAG_RD;
    if (answer) flags |= FLAG_AA;
    if (this.upstreams.length > 0) flags |= FLAG_RA;
    flags |= RCODE[rcode];
    const additionals: Answer[] = [...(answer?.additionals ?? [])];
    const ednsOpt: Answer | undefined = opt ? ({ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as OptAnswer) : undefined;
    const packet: Packet = {
      type: 'response',
      id: query.id,
      flags,
      questions: query.questions ?? [],
      answers: answer?.answers ?? [],
      authorities: answer?.authorities ?? [],
      additionals: ednsOpt ? [...additionals, ednsOpt] : additionals,
    };
    let out = dnsPacket.encode(packet);
    if (transport === 'udp') {
      const limit = opt ? Math.min(Math.max(opt.udpPayloadSize, MIN_UDP_SIZE), MAX_UDP_SIZE) : MIN_UDP_SIZE;
      if (out.length > limit) out = truncate(packet, limit, ednsOpt);
    }
    return out;
  }

  /** The upstreams in order, each with the timeout; undefined when none answered. */
  private async forward(msg: Buffer, overTcp: boolean): Promise<Buffer | undefined> {
    // Start at the upstream that answered last, so a dead first resolver costs one timeout,
    // not one per query.
    const n = this.upstreams.length;
    for (let i = 0; i < n; i++) {
      const index = (this.preferred + i) % n;
      const u = this.upstreams[index];
      try {
        let res = await udpExchange(u, msg, this.timeoutMs);
        // A truncated upstream answer is only good enough for a UDP client, which will retry over TCP.
        if (overTcp && (res.readUInt16BE(2) & FLAG_TC) !== 0) res = await tcpExchange(u, msg, this.timeoutMs);
        this.preferred = index;
        return res;
      } catch (e) {
        log.v(2, 'upstream DNS server failed', { upstream: `${u.host}:${u.port}`, err: (e as Error).message });
      }
    }
    return undefined;
  }
}

// As miekg/dns Msg.Truncate: keep as many answers as fit and set TC, so that clients without
// TCP fallback still get something usable.
function truncate(packet: Packet, limit: number, opt: Answer | undefined): Buffer {
  const answers = [...(packet.answers ?? [])];
  const additionals = opt ? [opt] : [];
  const base: Packet = { ...packet, flags: (packet.flags ?? 0) | FLAG_TC, authorities: [], additionals, answers };
  let out = dnsPacket.encode(base);
  while (out.length > limit && answers.length > 0) {
    answers.pop();
    out = dnsPacket.encode(base);
  }
  return out;
}

function udpExchange(u: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  const id = msg.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
    const done = (err: Error | undefined, res?: Buffer): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => done(new Error('timeout')), timeoutMs);
    sock.on('error', (err) => done(err));
    sock.on('message', (res, rinfo) => {
      // Ignore strays: only the upstream's answer to this very query counts.
      if (rinfo.port !== u.port || res.length < 12 || res.readUInt16BE(0) !== id) return;
      done(undefined, res);
    });
    sock.send(msg, u.port, u.host);
  });
}

function tcpExchange(u: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const conn = net.connect({ host: u.host, port: u.port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('connect', () => {
      const head = Buffer.alloc(2);
      head.writeUInt16BE(msg.length);
      conn.write(Buffer.concat([head, msg]));
    });
    conn.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        conn.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
  });
}
