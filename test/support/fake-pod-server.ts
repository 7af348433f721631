// A stand-in for "API server + kubelet" that is just enough for stock kubectl's exec,
// attach, cp and port-forward: discovery, one Running pod ns/p with container c, and the
// streaming upgrades served by node-agent/streaming. The "container" is the local
// machine: commands run as child processes with their absolute paths mapped under a
// temp dir, so the protocol layer is tested end to end without Docker.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { serveRemoteCommand, type RemoteCommandParams, type RemoteCommandSession } from '../../node-agent/streaming/remotecommand.js';
import { servePortForward } from '../../node-agent/streaming/portforward.js';
import { rejectUpgrade } from '../../node-agent/streaming/upgrade.js';

export interface UpgradeRecord { path: string; upgrade: string; protocols: string[]; rejected: boolean }

export interface FakePodServer {
  url: string;
  /** The pod's filesystem root: absolute paths in commands are mapped under it. */
  root: string;
  /** A kubeconfig file pointing at the server, namespace ns. */
  kubeconfig: string;
  /** A scratch HOME / cache dir for kubectl. */
  home: string;
  upgrades: UpgradeRecord[];
  /** argv of every command run, before path mapping. */
  commands: string[][];
  /** Terminal sizes kubectl reported (TTY sessions). */
  resizes: { width: number; height: number }[];
  /** requestid headers of port-forward data streams, in arrival order. */
  portForwardRequests: string[];
  /** The next `n` WebSocket upgrades get 403, forcing kubectl's SPDY fallback (0 stops it). */
  rejectWebSockets(n?: number): void;
  close(): Promise<void>;
}

const POD = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: '8d5d3a4e-0000-4000-8000-000000000001', resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'n1' },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: { startedAt: '2024-01-01T00:00:00Z' } } }] },
};

const RESOURCES = {
  kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch', 'update'], shortNames: ['po'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
  ],
};

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Maps a command's paths into `root`. Plain absolute arguments get the root prefixed.
 * tar needs care because kubectl matches member names against the path it asked for:
 * `tar cf - /a/b` must still produce members named `a/b`, so tar runs with `-C root`
 * and the path made relative; `-C /dir` becomes `-C root/dir`.
 */
export function mapCommand(argv: string[], root: string): string[] {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return [];
  if (cmd !== 'tar') return [cmd, ...args.map((a) => (a.startsWith('/') ? join(root, a) : a))];
  const out: string[] = ['tar'];
  // Old-style bundled options ("cf") must stay first, so the mode is read from there.
  const creating = /^-?[a-zA-Z]*c/.test(args[0] ?? '') && !(args[0] ?? '').startsWith('--');
  let rooted = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' && args[i + 1] !== undefined) {
      out.push('-C', join(root, args[i + 1]!));
      rooted = true;
      i++;
    } else if (a.startsWith('/') && creating) {
      if (!rooted) out.push('-C', root);
      rooted = true;
      out.push(a.replace(/^\/+/, '') || '.');
    } else if (a.startsWith('/')) {
      out.push(join(root, a));
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Runs the command as a local child process wired to the session. */
async function runLocally(session: RemoteCommandSession, params: RemoteCommandParams, root: string): Promise<void> {
  const argv = mapCommand(params.command, root);
  if (argv.length === 0) {
    session.finish({ error: 'attach to a process is not supported by the fake' });
    return;
  }
  const child = spawn(argv[0]!, argv.slice(1), { cwd: root, stdio: 'pipe' });
  session.signal.addEventListener('abort', () => child.kill('SIGKILL'));
  child.stdin.on('error', () => undefined);
  if (session.stdin) session.stdin.pipe(child.stdin);
  else child.stdin.end();
  const out = session.stdout;
  const err = session.stderr ?? (session.tty ? out : undefined);
  if (out) child.stdout.pipe(out, { end: err !== out });
  else child.stdout.resume();
  if (err) child.stderr.pipe(err, { end: err !== out });
  else child.stderr.resume();
  const result = await new Promise<{ exitCode: number } | { error: string }>((resolve) => {
    child.once('error', (e) => resolve({ error: e.message }));
    child.once('close', (code, signal) => resolve({ exitCode: code ?? 128 + (signal ? osConstants.signals[signal] : 0) }));
  });
  if (err === out && out) out.end();
  session.finish(result);
}

export async function startFakePodServer(options: { forward?: (port: number) => Promise<Duplex> } = {}): Promise<FakePodServer> {
  const root = mkdtempSync(join(tmpdir(), 'podium-fakepod-root-'));
  const home = mkdtempSync(join(tmpdir(), 'podium-fakepod-home-'));
  const upgrades: UpgradeRecord[] = [];
  const commands: string[][] = [];
  const portForwardRequests: string[] = [];
  const resizes: { width: number; height: number }[] = [];
  let rejectWs = 0;
  const sockets = new Set<Duplex>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/version') return json(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-fake', platform: 'linux/amd64' });
    if (path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1') return json(res, 200, RESOURCES);
    if (req.method === 'GET' && path === '/api/v1/namespaces/ns/pods/p') return json(res, 200, POD);
    json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  });
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  const forward = options.forward ?? (async (port: number): Promise<Duplex> => {
    throw new Error(`nothing listens on port ${port}`);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const upgrade = String(req.headers.upgrade ?? '');
    const protocols = upgrade.toLowerCase() === 'websocket'
      ? String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim())
      : (req.headersDistinct['x-stream-protocol-version'] ?? []);
    const rejected = upgrade.toLowerCase() === 'websocket' && rejectWs > 0;
    upgrades.push({ path, upgrade, protocols, rejected });
    if (rejected) {
      rejectWs--;
      rejectUpgrade(socket, 403, 'websocket refused by test');
      return;
    }
    if (/^\/api\/v1\/namespaces\/ns\/pods\/p\/(exec|attach)$/.test(path)) {
      void serveRemoteCommand(req, socket, head, async (session, params) => {
        commands.push(params.command);
        session.resize.on('resize', (size) => resizes.push(size));
        await runLocally(session, params, root);
      });
    } else if (path === '/api/v1/namespaces/ns/pods/p/portforward') {
      void servePortForward(req, socket, head, (port, request) => {
        portForwardRequests.push(request.requestId ?? '');
        return forward(port);
      });
    } else {
      rejectUpgrade(socket, 404, 'not found');
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: fake', '  cluster:', `    server: ${url}`,
    'users:', '- name: anon', '  user: {}',
    'contexts:', '- name: fake', '  context:', '    cluster: fake', '    user: anon', '    namespace: ns',
    'current-context: fake', '',
  ].join('\n'));

  return {
    url, root, kubeconfig, home, upgrades, commands, resizes, portForwardRequests,
    rejectWebSockets(n = 1) { rejectWs = n; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Connects to a local TCP port (the fake pod's "port" is a listener on this machine). */
export function connectLocal(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
