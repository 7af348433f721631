// Slow and stuck clients against a real API server on real Redis: watchers that stop reading
// while large objects are written are cut off by the server (as upstream's cacher forces an
// unresponsive watcher closed) with the server's memory bounded, while a watcher that reads
// keeps getting its events promptly; and 1000 idle watches cost a bounded amount of memory
// each, leave the server responsive, and are all released when their clients go.
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { printFigures } from './figures.js';
import { pick } from './mode.js';
import { call } from '../support/http.js';
import { startApiServer, startRedis, type ApiServerProcess, type RedisProcess } from '../support/processes.js';
import { sleep, until } from '../support/wait.js';

const SLOW_WATCHERS = pick(4, 16);
const OBJECT_BYTES = 400 * 1024;
const OBJECTS = 10;
const IDLE_WATCHES = 1000;
const IDLE_ROUNDS = pick(1, 3);

let redis: RedisProcess | undefined;
let api: ApiServerProcess | undefined;

beforeAll(async () => {
  redis = await startRedis();
}, 60_000);

// Each test has an API server of its own, so one's garbage does not show in the other's memory.
beforeEach(async () => {
  // A short event ring: the cache itself then holds only a few of the large events, so what the
  // server's memory does under stuck watchers is theirs, not the ring's.
  api = await startApiServer(redis!.url, ['--event-window', '20']);
}, 60_000);

afterEach(async () => {
  await api?.stop();
});

afterAll(async () => {
  await redis?.stop();
});

function rssMB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

/** Samples a process's RSS every 50 ms until stopped; the peak and the last value. */
function rssSampler(pid: number): { stop(): { peak: number; last: number } } {
  let peak = rssMB(pid);
  let last = peak;
  const timer = setInterval(() => {
    last = rssMB(pid);
    peak = Math.max(peak, last);
  }, 50);
  return { stop: () => { clearInterval(timer); return { peak, last }; } };
}

/** RSS once it has stopped moving: the median of a few samples after a pause. */
async function settledRssMB(pid: number): Promise<number> {
  await sleep(1500);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssMB(pid));
    await sleep(200);
  }
  return samples.sort((a, b) => a - b)[2];
}

/** The kernel's view of the server's end of each loopback connection: client port -> TCP state (01 = ESTABLISHED). */
function serverSideStates(serverPort: number): Map<number, string> {
  const states = new Map<number, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4) continue;
      const local = parseInt(f[1].split(':')[1], 16);
      const remote = parseInt(f[2].split(':')[1], 16);
      if (local === serverPort) states.set(remote, f[3]);
    }
  }
  return states;
}

/** apiserver_registered_watchers for configmaps, when the server exports it. */
async function registeredWatchers(base: string): Promise<number | undefined> {
  const res = await fetch(`${base}/metrics`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const m = /^apiserver_registered_watchers\{[^}]*resource="configmaps"[^}]*\} (\d+)/m.exec(await res.text());
  return m ? Number(m[1]) : undefined;
}

interface RawWatch { socket: Socket; localPort: number; received(): number; text(): string }

/**
 * A watch over a plain socket, so the test controls reading exactly: `read: false` pauses it as
 * soon as the response head is in, and Node then stops reading once its small buffer is full.
 */
function rawWatch(port: number, path: string, read: boolean, keepText = false): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    let body = '';
    let bytes = 0;
    let started = false;
    socket.once('error', reject);
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: application/json\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      if (started) {
        if (keepText) body += d.toString('utf8');
        return;
      }
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      started = true;
      if (!head.startsWith('HTTP/1.1 200')) return reject(new Error(`watch refused: ${head.slice(0, 200)}`));
      if (keepText) body += head.slice(end + 4);
      if (!read) socket.pause();
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve({ socket, localPort: socket.localPort!, received: () => bytes, text: () => body });
    });
  });
}

/** A watcher that reads everything and notes when each update (by its `seq` annotation) arrived. */
function timedWatch(base: string, path: string): { arrivals: Map<string, number>; stop(): void } {
  const arrivals = new Map<string, number>();
  const req = request(`${base}${path}`, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.trim()) continue;
        const seq = (JSON.parse(line) as { object: { metadata?: { annotations?: Record<string, string> } } }).object.metadata?.annotations?.seq;
        if (seq && !arrivals.has(seq)) arrivals.set(seq, Date.now());
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { arrivals, stop: () => req.destroy() };
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)] ?? NaN, max: s.at(-1) ?? NaN, n: s.length };
};

test('watchers that stop reading are cut off with bounded server memory, and a reading watcher is not delayed', async () => {
  const { url, port, pid } = api!;
  const ns = 'slow';
  expect((await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  const payload = 'x'.repeat(OBJECT_BYTES);
  const cmPath = `/api/v1/namespaces/${ns}/configmaps`;
  for (let i = 0; i < OBJECTS; i++) {
    expect((await call(url, 'POST', cmPath, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}` }, data: { payload } })).status).toBe(201);
  }
  const currentRv = async () => (await call(url, 'GET', cmPath)).body.metadata.resourceVersion as string;
  const normal = timedWatch(url, `${cmPath}?watch=true&resourceVersion=${await currentRv()}`);
  await sleep(200);

  // One write: an update of one of the large objects, timed from the moment it is sent.
  let seq = 0;
  const sent = new Map<string, number>();
  const update = async () => {
    const n = String(++seq);
    sent.set(n, Date.now());
    const res = await call(url, 'PUT', `${cmPath}/big-${seq % OBJECTS}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${seq % OBJECTS}`, annotations: { seq: n } }, data: { payload } });
    if (res.status !== 200) throw new Error(`update ${n}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  };
  const paceMs = 40;
  /** `count` updates at a steady pace, sampling the server's RSS meanwhile; the peak above where it started. */
  const writes = async (count: number, until?: () => boolean) => {
    const start = rssMB(pid);
    const sampler = rssSampler(pid);
    for (let i = 0; i < count && !until?.(); i++) {
      await update();
      await sleep(paceMs);
    }
    return sampler.stop().peak - start;
  };
  const latencies = (from: number, to: number) => {
    const xs: number[] = [];
    for (let i = from; i <= to; i++) {
      const at = normal.arrivals.get(String(i));
      xs.push(at === undefined ? Infinity : at - sent.get(String(i))!);
    }
    return xs;
  };

  // Warm-up (the server's heap grows to these object sizes), then the control: the same writes
  // at the same pace with no stuck watcher.
  await writes(20);
  const firstBefore = seq + 1;
  const controlPeakDelta = await writes(pick(30, 60));
  await until('the normal watcher to see every update before the stall', async () => normal.arrivals.size >= seq, 10_000);
  const before = stats(latencies(firstBefore, seq));
  const baselineRss = rssMB(pid);
  const watchersBefore = await registeredWatchers(url);

  // The stall: watchers that read their response head and then nothing.
  const watchPath = `${cmPath}?watch=true&resourceVersion=${await currentRv()}`;
  const slow = await Promise.all(Array.from({ length: SLOW_WATCHERS }, () => rawWatch(port, watchPath, false)));
  const watchersStalled = await registeredWatchers(url);
  const open = () => {
    const states = serverSideStates(port);
    return slow.filter((w) => states.get(w.localPort) === '01').length;
  };
  const stallStart = Date.now();
  const firstDuring = seq + 1;
  let cutAfterMs = NaN;
  const stallPeakDelta = await writes(1000, () => {
    if (open() > 0 && Date.now() - stallStart < 60_000) return false;
    cutAfterMs = open() === 0 ? Date.now() - stallStart : NaN;
    return true;
  });
  const writtenDuringStallMB = ((seq - firstDuring + 1) * OBJECT_BYTES) / 1024 / 1024;
  const lastDuring = seq;
  // More writes once they are gone: memory must not keep what the cut watchers held.
  const afterPeakDelta = await writes(pick(30, 60));
  await until('the normal watcher to see every update', async () => normal.arrivals.size >= seq, 10_000);
  const during = stats(latencies(firstDuring, lastDuring));
  const watchersAfter = await registeredWatchers(url);

  // The client's side: once it reads again, the stream ends instead of going on.
  const ended = await Promise.all(slow.map((w) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 15_000);
    w.socket.once('close', () => { clearTimeout(timer); resolve(true); });
    w.socket.resume();
  })));
  const slowReceivedMB = slow.map((w) => w.received() / 1024 / 1024);
  normal.stop();

  printFigures('slow-watchers stuck', {
    slowWatchers: SLOW_WATCHERS,
    cutOffLogged: api!.output().match(/Forcing watcher close due to unresponsiveness/g)?.length ?? 0,
    objectKB: OBJECT_BYTES / 1024,
    cutOffAfterMs: cutAfterMs,
    writtenDuringStallMB: writtenDuringStallMB.toFixed(1),
    slowWatcherStreamsEnded: ended.filter(Boolean).length,
    slowWatcherReceivedMaxMB: Math.max(...slowReceivedMB).toFixed(1),
    rssBaselineMB: baselineRss.toFixed(1),
    rssPeakDeltaControlMB: controlPeakDelta.toFixed(1),
    rssPeakDeltaStalledMB: stallPeakDelta.toFixed(1),
    rssPeakDeltaAfterCutMB: afterPeakDelta.toFixed(1),
    rssEndDeltaMB: (rssMB(pid) - baselineRss).toFixed(1),
    normalLatencyBeforeP50Ms: before.p50,
    normalLatencyBeforeMaxMs: before.max,
    normalLatencyDuringP50Ms: during.p50,
    normalLatencyDuringMaxMs: during.max,
    normalEventsDuring: during.n,
    registeredWatchers: `${watchersBefore ?? 'n/a'}->${watchersStalled ?? 'n/a'}->${watchersAfter ?? 'n/a'}`,
  });

  expect(cutAfterMs).toBeLessThan(60_000);
  // The server says why, as upstream's cacher does.
  expect(api!.output().match(/Forcing watcher close due to unresponsiveness/g)?.length).toBe(SLOW_WATCHERS);
  expect(ended.every(Boolean)).toBe(true);
  // What the stuck watchers held on top of the same writes without them: at most their bound
  // each (16 MiB of unsent events), far less in practice since they share the ring's bytes.
  expect(stallPeakDelta - controlPeakDelta).toBeLessThan(SLOW_WATCHERS * 16);
  expect(slowReceivedMB.every((mb) => mb > 1)).toBe(true);
  expect(during.max).toBeLessThan(Math.max(3000, before.max * 10));
  expect(during.p50).toBeLessThan(Math.max(500, before.p50 * 5));
  if (watchersBefore !== undefined && watchersAfter !== undefined) expect(watchersAfter).toBe(watchersBefore);
}, pick(120_000, 240_000));

test(`${IDLE_WATCHES} idle watches cost bounded memory each, the server stays responsive, and closing them releases them`, async () => {
  const { url, port, pid } = api!;
  const ns = 'idle';
  expect((await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  const cmPath = `/api/v1/namespaces/${ns}/configmaps`;
  for (let i = 0; i < 5; i++) await call(url, 'POST', cmPath, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { k: 'v' } });
  const rv = (await call(url, 'GET', cmPath)).body.metadata.resourceVersion as string;
  const path = `${cmPath}?watch=true&resourceVersion=${rv}`;
  const established = () => [...serverSideStates(port).values()].filter((s) => s === '01').length;
  // Warm-up: the first connections grow the server's heap and pools once, whatever their number.
  const warm = await Promise.all(Array.from({ length: 100 }, () => rawWatch(port, path, true)));
  for (const w of warm) w.socket.destroy();

  for (let round = 1; round <= IDLE_ROUNDS; round++) {
    const rssBefore = await settledRssMB(pid);
    const connectionsBefore = established();
    const watchersBefore = await registeredWatchers(url);
    const watches: RawWatch[] = [];
    const openStart = Date.now();
    for (let i = 0; i < IDLE_WATCHES; i += 100) {
      watches.push(...(await Promise.all(Array.from({ length: Math.min(100, IDLE_WATCHES - i) }, () => rawWatch(port, path, true, true)))));
    }
    const openMs = Date.now() - openStart;
    const rssOpen = await settledRssMB(pid);
    const watchersOpen = await registeredWatchers(url);

    // Responsiveness with them all open: reads and writes answer quickly...
    const requestMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      const res = await call(url, 'GET', i % 2 ? cmPath : `${cmPath}/cm-${i % 5}`);
      requestMs.push(Date.now() - t);
      expect(res.status).toBe(200);
    }
    // ...and one write reaches every one of the watchers.
    const name = `fanout-${round}`;
    const writeAt = Date.now();
    expect((await call(url, 'POST', cmPath, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } })).status).toBe(201);
    await until('every idle watcher to see the write', async () => watches.every((w) => w.text().includes(`"name":"${name}"`)), 20_000);
    const fanoutMs = Date.now() - writeAt;
    await call(url, 'DELETE', `${cmPath}/${name}`);

    for (const w of watches) w.socket.destroy();
    await until('the server to drop the closed watches', async () => established() <= connectionsBefore, 20_000);
    const rssClosed = await settledRssMB(pid);
    const watchersClosed = await registeredWatchers(url);
    const req = stats(requestMs);
    printFigures('slow-watchers idle', {
      round,
      watches: IDLE_WATCHES,
      openMs,
      rssBeforeMB: rssBefore.toFixed(1),
      rssOpenMB: rssOpen.toFixed(1),
      totalMB: (rssOpen - rssBefore).toFixed(1),
      perWatchKB: (((rssOpen - rssBefore) * 1024) / IDLE_WATCHES).toFixed(1),
      requestP50Ms: req.p50,
      requestMaxMs: req.max,
      fanoutToAllMs: fanoutMs,
      rssAfterCloseMB: rssClosed.toFixed(1),
      serverConnectionsAfterClose: established(),
      registeredWatchers: `${watchersBefore ?? 'n/a'}->${watchersOpen ?? 'n/a'}->${watchersClosed ?? 'n/a'}`,
    });

    expect(((rssOpen - rssBefore) * 1024) / IDLE_WATCHES).toBeLessThan(64);
    expect(req.max).toBeLessThan(1000);
    expect(fanoutMs).toBeLessThan(10_000);
    if (watchersOpen !== undefined && watchersBefore !== undefined) expect(watchersOpen - watchersBefore).toBe(IDLE_WATCHES);
    if (watchersClosed !== undefined && watchersBefore !== undefined) expect(watchersClosed).toBe(watchersBefore);
    // Nothing of the closed watches stays: memory comes back to within the per-watch bound's total.
    expect(rssClosed - rssBefore).toBeLessThan((64 * IDLE_WATCHES) / 1024);
  }
}, pick(90_000, 240_000));
