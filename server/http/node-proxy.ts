// Pod subresources the node agent serves (upstream's kubelet paths): the API server finds the
// pod's node, checks the container, and forwards the request to the agent over TLS with its own
// client certificate. Logs are a plain proxied GET; exec, attach and port-forward are upgrades
// whose bytes are piped both ways unchanged, so the agent speaks WebSocket or SPDY with kubectl.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { badRequest, serviceUnavailable, StatusError } from '../../apimachinery/errors.js';
import type { Registry } from '../generic/registry.js';
import { logger } from '../../apimachinery/log.js';

const log = logger('node-proxy');

/** What the API server presents to node agents (upstream's --kubelet-client-certificate/-key/--kubelet-certificate-authority). */
export interface KubeletClientTls {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

export const NODE_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward']);

/** The headers that belong to this hop, or to the client's credentials, never to the agent. */
const HOP_HEADERS = new Set(['authorization', 'host', 'proxy-authorization']);

interface Target { host: string; port: number; path: string }

export class NodeProxy {
  private readonly tls: KubeletClientTls & { checkServerIdentity: () => undefined };

  /**
   * Agents are dialed by IP, and an agent may not know its address when its certificate is
   * made (the Docker node's address is its bridge's gateway): the chain must lead to the
   * cluster CA, the name is not checked.
   */
  constructor(private readonly registry: Registry, tls: KubeletClientTls) {
    this.tls = { ...tls, checkServerIdentity: () => undefined };
  }

  private async target(namespace: string, podName: string, sub: string, query: URLSearchParams): Promise<Target> {
    const pod = (await this.registry.store('', 'pods').get(namespace, podName)) as Pod;
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) throw badRequest(`pod ${podName} does not have a host assigned`);
    const node = (await this.registry.store('', 'nodes').get('', nodeName)) as Node;
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node.status?.addresses?.[0]?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !port) throw serviceUnavailable(`node ${nodeName} reports no address and port for its agent`);
    const rest = new URLSearchParams(query);
    if (sub === 'portforward') return { host: address, port, path: `/portForward/${namespace}/${podName}${suffix(rest)}` };
    const container = containerOf(pod, rest.get('container'));
    rest.delete('container');
    const kind = sub === 'log' ? 'containerLogs' : sub;
    return { host: address, port, path: `/${kind}/${namespace}/${podName}/${container}${suffix(rest)}` };
  }

  /** A JSON document from a node's agent (its resource usage), or undefined when it has no endpoint or does not answer. */
  async nodeJson<T>(node: Node, path: string, timeoutMs = 5000): Promise<T | undefined> {
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !port) return undefined;
    return new Promise<T | undefined>((resolve) => {
      const out = httpsRequest({ host: address, port, path, method: 'GET', ...this.tls, agent: false, timeout: timeoutMs }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () => {
          try {
            resolve(r.statusCode === 200 ? (JSON.parse(body) as T) : undefined);
          } catch {
            resolve(undefined);
          }
        });
      });
      out.on('timeout', () => out.destroy());
      out.on('error', () => resolve(undefined));
      out.end();
    });
  }

  /**
   * nodes/proxy (upstream's node proxy, authorized as get on nodes/proxy): the request passed to
   * the node's agent at `path`, its answer streamed back as is. This is how /metrics of a node
   * is read: `kubectl get --raw /api/v1/nodes/NODE/proxy/metrics`.
   */
  async proxyToNode(req: IncomingMessage, res: ServerResponse, nodeName: string, path: string, query: URLSearchParams): Promise<void> {
    const node = (await this.registry.store('', 'nodes').get('', nodeName)) as Node;
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node.status?.addresses?.[0]?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !port) throw serviceUnavailable(`node ${nodeName} reports no address and port for its agent`);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_HEADERS.has(k) && !/^impersonate-/i.test(k)) headers[k] = v;
    await new Promise<void>((resolve, reject) => {
      const out = httpsRequest({ host: address, port, path: `/${path}${suffix(query)}`, method: req.method, headers, ...this.tls, agent: false }, (agentRes) => {
        const pass: Record<string, string | string[]> = { 'Cache-Control': 'no-cache, private' };
        for (const h of ['content-type', 'content-encoding', 'content-length']) {
          const v = agentRes.headers[h];
          if (v !== undefined) pass[h] = v;
        }
        res.writeHead(agentRes.statusCode ?? 502, pass);
        agentRes.pipe(res);
        agentRes.on('end', resolve);
        agentRes.on('error', reject);
      });
      out.on('error', (err) => reject(serviceUnavailable(`error trying to reach the node agent: ${err.message}`)));
      res.on('close', () => out.destroy());
      req.pipe(out);
    });
  }

  /** pods/log: the agent's answer, status and body, streamed back as it comes (logs -f). */
  async log(res: ServerResponse, namespace: string, podName: string, query: URLSearchParams): Promise<void> {
    const t = await this.target(namespace, podName, 'log', query);
    await new Promise<void>((resolve, reject) => {
      const out = httpsRequest({ host: t.host, port: t.port, path: t.path, method: 'GET', ...this.tls, agent: false }, (agentRes) => {
        const code = agentRes.statusCode ?? 502;
        if (code >= 300) {
          // The agent explains in plain text (e.g. a container that has not started); kubectl wants a Status.
          let text = '';
          agentRes.setEncoding('utf8');
          agentRes.on('data', (d: string) => (text += d));
          agentRes.on('end', () => reject(agentError(code, text.trim())));
          return;
        }
        res.writeHead(code, { 'Content-Type': agentRes.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' });
        agentRes.pipe(res);
        agentRes.on('end', resolve);
        agentRes.on('error', reject);
      });
      out.on('error', (err) => reject(serviceUnavailable(`error talking to the node agent: ${err.message}`)));
      // The client going away ends the agent's follow too.
      res.on('close', () => out.destroy());
      out.end();
    });
  }

  /**
   * pods/log over a WebSocket (upstream's apiserver streams any streaming GET so, through
   * wsstream.Reader): protocols binary.k8s.io (the default, also with no subprotocol) and
   * base64.binary.k8s.io; each chunk of the log is one message, the server closes at the end.
   */
  async logWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, podName: string, query: URLSearchParams): Promise<void> {
    const offered = (req.headersDistinct['sec-websocket-protocol'] ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    const protocol = offered.length === 0 ? '' : ['binary.k8s.io', 'base64.binary.k8s.io'].find((p) => offered.includes(p));
    if (protocol === undefined) throw badRequest(`unable to upgrade: no supported WebSocket subprotocol in ${JSON.stringify(offered)}`);
    const t = await this.target(namespace, podName, 'log', query);
    const agentRes = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpsRequest({ host: t.host, port: t.port, path: t.path, method: 'GET', ...this.tls, agent: false }, (r) => {
        const code = r.statusCode ?? 502;
        if (code < 300) return resolve(r);
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (text += d));
        r.on('end', () => reject(agentError(code, text.trim())));
      });
      out.on('error', (err) => reject(serviceUnavailable(`error talking to the node agent: ${err.message}`)));
      socket.once('close', () => out.destroy());
      out.end();
    });
    delete req.headers['sec-websocket-protocol'];
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    if (protocol) wss.on('headers', (headers) => { headers.push(`Sec-WebSocket-Protocol: ${protocol}`); });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const base64 = protocol === 'base64.binary.k8s.io';
      agentRes.on('data', (chunk: Buffer) => {
        if (ws.readyState !== ws.OPEN) return;
        if (base64) ws.send(chunk.toString('base64'));
        else ws.send(chunk, { binary: true });
      });
      agentRes.on('end', () => ws.close(1000));
      agentRes.on('error', () => ws.close(1011));
      ws.on('error', () => agentRes.destroy());
      ws.on('close', () => agentRes.destroy());
    });
  }

  /** exec, attach, portforward: the upgrade request replayed to the agent, then bytes both ways. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, podName: string, sub: string, query: URLSearchParams): Promise<void> {
    const t = await this.target(namespace, podName, sub, query);
    const agent = tlsConnect({ host: t.host, port: t.port, ...this.tls, servername: undefined });
    await new Promise<void>((resolve, reject) => {
      agent.once('secureConnect', resolve);
      agent.once('error', (err) => reject(serviceUnavailable(`error dialing the node agent: ${err.message}`)));
    });
    const lines = [`${req.method} ${t.path} HTTP/1.1`, `Host: ${t.host}:${t.port}`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_HEADERS.has(req.rawHeaders[i].toLowerCase()) && !/^impersonate-/i.test(req.rawHeaders[i])) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    }
    agent.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) agent.write(head);
    socket.pipe(agent);
    agent.pipe(socket);
    const close = (): void => {
      socket.destroy();
      agent.destroy();
    };
    socket.on('error', close);
    agent.on('error', (err) => {
      log.v(2, 'agent stream ended with an error', { error: err.message });
      close();
    });
    socket.on('close', close);
    agent.on('close', close);
  }
}

function agentError(code: number, message: string): StatusError {
  if (code === 404) return new StatusError(404, 'NotFound', message);
  if (code === 403) return new StatusError(403, 'Forbidden', message);
  if (code >= 500) return new StatusError(code, 'InternalError', message);
  return badRequest(message);
}

function suffix(q: URLSearchParams): string {
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** upstream's container defaulting and check for pod subresources. */
function containerOf(pod: Pod, asked: string | null): string {
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  const name = pod.metadata?.name ?? '';
  if (asked) {
    if (!names.includes(asked)) throw badRequest(`container ${asked} is not valid for pod ${name}`);
    return asked;
  }
  const regular = (pod.spec?.containers ?? []).map((c) => c.name);
  const annotated = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  if (regular.length === 1) return regular[0];
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]`);
}
