// Lifecycle hooks (upstream's handlerRunner): exec runs in the container, httpGet is sent from the
// node to the pod IP (or the hook's host). A hook fails on a non-zero exit or an HTTP status
// outside 200-399, as upstream.
import http from 'node:http';
import type Docker from 'dockerode';
import type { Container, LifecycleHandler } from 'kubernetes-types/core/v1.js';
import { runExec } from './exec.js';

export class HookError extends Error {}

function resolvePort(c: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = c.ports?.find((p) => p.name === port);
  if (named) return named.containerPort;
  const n = Number(port);
  if (Number.isInteger(n)) return n;
  throw new HookError(`port ${JSON.stringify(port)} not found in container ${c.name}`);
}

export async function runHook(docker: Docker, containerID: string, c: Container, h: LifecycleHandler, podIP: string, timeoutMs: number): Promise<void> {
  if (h.exec) {
    const chunks: Buffer[] = [];
    const sink = { write: (b: Buffer) => chunks.push(Buffer.from(b)) } as unknown as NodeJS.WritableStream;
    const code = await runExec(docker, containerID, [...(h.exec.command ?? [])], { stdout: sink, stderr: sink });
    if (code !== 0) throw new HookError(`command '${(h.exec.command ?? []).join(' ')}' exited with ${code}: ${Buffer.concat(chunks).toString()}`);
    return;
  }
  if (h.httpGet) {
    const g = h.httpGet;
    const port = resolvePort(c, g.port);
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        {
          host: g.host || podIP,
          port,
          path: g.path || '/',
          headers: Object.fromEntries((g.httpHeaders ?? []).map((x) => [x.name, x.value])),
          timeout: timeoutMs,
        },
        (res) => {
          res.resume();
          const s = res.statusCode ?? 0;
          if (s >= 200 && s < 400) resolve();
          else reject(new HookError(`HTTP lifecycle hook (${g.path}) for Container "${c.name}" returned status ${s}`));
        },
      );
      req.on('timeout', () => req.destroy(new HookError('HTTP lifecycle hook timed out')));
      req.on('error', reject);
    });
    return;
  }
  if (h.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(h.sleep!.seconds * 1000, timeoutMs)));
  }
}
