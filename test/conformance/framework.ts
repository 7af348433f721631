// What every conformance test does around its checks, as upstream's e2e framework does: a
// client for the cluster under test (@kubernetes/client-node, upstream's tests use client-go),
// kubectl where the upstream test uses it, and a fresh namespace per test file that is ready
// (its default ServiceAccount and kube-root-ca.crt exist) before the test starts and deleted after.
import { execFile } from 'node:child_process';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

export const IMAGE = 'podium.local/busybox:1.35';
export const KUBECTL = process.env.KUBECTL ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

export function kubeconfigPath(): string {
  const path = process.env.CONFORMANCE_KUBECONFIG;
  if (!path) throw new Error('CONFORMANCE_KUBECONFIG is not set (npm run conformance starts a cluster and sets it)');
  return path;
}

let config: k8s.KubeConfig | undefined;
export function kubeConfig(): k8s.KubeConfig {
  if (!config) {
    config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfigPath());
  }
  return config;
}

export const core = (): k8s.CoreV1Api => kubeConfig().makeApiClient(k8s.CoreV1Api);
export const apps = (): k8s.AppsV1Api => kubeConfig().makeApiClient(k8s.AppsV1Api);
export const batch = (): k8s.BatchV1Api => kubeConfig().makeApiClient(k8s.BatchV1Api);
export const networking = (): k8s.NetworkingV1Api => kubeConfig().makeApiClient(k8s.NetworkingV1Api);
export const discovery = (): k8s.DiscoveryV1Api => kubeConfig().makeApiClient(k8s.DiscoveryV1Api);

/** Header options for patches: client-node 1.4 sends JSON Patch unless told otherwise. */
export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const strategicMergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
export const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);

export interface KubectlResult { stdout: string; stderr: string; code: number }

/** Runs kubectl against the cluster under test; never throws on a non-zero exit. */
export function kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(KUBECTL, ['--kubeconfig', kubeconfigPath(), ...args], { timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value (not undefined/false); throws with `what` after the timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

/** A namespace named e2e-<base>-<random>, ready as upstream's framework waits for it. */
export async function createTestNamespace(base: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `e2e-${base}-${randomBytes(3).toString('hex')}`;
  const api = core();
  await api.createNamespace({ body: { metadata: { name, labels: { 'e2e-framework': base, ...labels } } } });
  await waitFor(`ServiceAccount ${name}/default`, () => api.readNamespacedServiceAccount({ namespace: name, name: 'default' }).then(() => true));
  await waitFor(`ConfigMap ${name}/kube-root-ca.crt`, () => api.readNamespacedConfigMap({ namespace: name, name: 'kube-root-ca.crt' }).then(() => true));
  return name;
}

export async function deleteTestNamespace(name: string): Promise<void> {
  await core().deleteNamespace({ name }).catch(() => undefined);
}

/**
 * A test file's namespace: created in beforeAll, deleted in afterAll. Read `.name` inside tests.
 */
export function useTestNamespace(base: string): { readonly name: string } {
  const holder = { name: '' };
  beforeAll(async () => {
    holder.name = await createTestNamespace(base);
  });
  afterAll(async () => {
    if (holder.name) await deleteTestNamespace(holder.name);
  });
  return holder;
}

/**
 * Namespaces made by single tests (as upstream's framework gives each test its own), deleted
 * after the file: `const testNamespace = useExtraNamespaces(); … await testNamespace('rs')`.
 */
export function useExtraNamespaces(): (base: string) => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    for (const n of made) await deleteTestNamespace(n);
  });
  return async (base) => {
    const name = await createTestNamespace(base);
    made.push(name);
    return name;
  };
}

/**
 * A raw request to the API server with the kubeconfig's credentials, for what client-node
 * cannot express (absolute discovery paths, bodies with duplicate fields, proxy verbs).
 */
export async function apiRequest(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  const kc = kubeConfig();
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const opts: RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    agent: false,
    headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(opts, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function waitForPodPhase(namespace: string, name: string, phases: string[], timeoutMs = 120_000): Promise<k8s.V1Pod> {
  return waitFor(`pod ${namespace}/${name} in ${phases.join('/')}`, async () => {
    const pod = await core().readNamespacedPod({ namespace, name });
    return phases.includes(pod.status?.phase ?? '') ? pod : undefined;
  }, timeoutMs);
}

export async function waitForPodReady(namespace: string, name: string, timeoutMs = 120_000): Promise<k8s.V1Pod> {
  return waitFor(`pod ${namespace}/${name} Ready`, async () => {
    const pod = await core().readNamespacedPod({ namespace, name });
    return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? pod : undefined;
  }, timeoutMs);
}

/** A pod's container log (pods/log). */
export async function podLog(namespace: string, name: string, container?: string): Promise<string> {
  return core().readNamespacedPodLog({ namespace, name, container });
}

export interface CollectedEvent<T> { type: string; object: T }

/**
 * A watch on `path` (e.g. /api/v1/namespaces/NS/configmaps) collecting its events, with a wait
 * for one that matches. Stop it when done.
 */
export async function startWatch<T>(path: string, query: Record<string, string | number | boolean> = {}): Promise<{ events: CollectedEvent<T>[]; waitForEvent(match: (e: CollectedEvent<T>) => boolean, timeoutMs?: number): Promise<CollectedEvent<T>>; stop(): void }> {
  const events: CollectedEvent<T>[] = [];
  const watch = new k8s.Watch(kubeConfig());
  const controller = await watch.watch(path, query, (type, object) => events.push({ type, object: object as T }), () => undefined);
  return {
    events,
    waitForEvent: (match, timeoutMs = 30_000) => waitFor('a matching watch event', async () => events.find(match), timeoutMs, 50),
    stop: () => controller.abort(),
  };
}
