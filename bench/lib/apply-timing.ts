// Server-side apply against a plain update of the same Deployment change, on a real API server:
// each round changes one annotation, once by PUT of the whole object and once by an apply
// configuration (PATCH application/apply-patch+yaml). Both write once; apply also merges and
// computes field ownership, which is what this measures.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(port: number, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const deployment = (ns: string, round: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'bench', namespace: ns, labels: { app: 'bench' }, annotations: { round: String(round) } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'bench' } },
    template: {
      metadata: { labels: { app: 'bench' } },
      spec: {
        containers: [
          { name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'], ports: [{ containerPort: 8080, name: 'http' }], env: [{ name: 'MODE', value: 'blue' }, { name: 'LEVEL', value: '3' }], resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'] },
        ],
      },
    },
  },
});

export interface ApplyTiming { updateP50Ms: number; applyP50Ms: number; ratio: number; rounds: number }

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function measureApplyVsUpdate(port: number, rounds: number): Promise<ApplyTiming> {
  const ns = 'bench-apply';
  await send(port, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const base = `/apis/apps/v1/namespaces/${ns}/deployments`;
  const created = await send(port, 'PATCH', `${base}/bench?fieldManager=bench`, deployment(ns, 0), 'application/apply-patch+yaml');
  if (created.status !== 201) throw new Error(`apply create: ${created.status} ${created.body.slice(0, 300)}`);
  let live = JSON.parse(created.body) as ReturnType<typeof deployment> & { metadata: { resourceVersion?: string } };
  const update: number[] = [];
  const apply: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    live.metadata.annotations.round = `u${i}`;
    const put = await send(port, 'PUT', `${base}/bench?fieldManager=bench-update`, live);
    if (put.status !== 200) throw new Error(`update: ${put.status} ${put.body.slice(0, 300)}`);
    live = JSON.parse(put.body);
    const applied = await send(port, 'PATCH', `${base}/bench?fieldManager=bench&force=true`, deployment(ns, i), 'application/apply-patch+yaml');
    if (applied.status !== 200) throw new Error(`apply: ${applied.status} ${applied.body.slice(0, 300)}`);
    live = JSON.parse(applied.body);
    if (i > 20) {
      update.push(put.ms);
      apply.push(applied.ms);
    }
  }
  agent.destroy();
  const updateP50Ms = median(update);
  const applyP50Ms = median(apply);
  return { updateP50Ms, applyP50Ms, ratio: applyP50Ms / updateP50Ms, rounds: update.length };
}
