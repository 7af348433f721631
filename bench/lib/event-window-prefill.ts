// Fills the bounded event history before a soak judges memory. Redis keeps, per resource type,
// a stream trimmed to the last --event-window events (the API server's ring keeps only the last
// minutes of them). A stream is meant to grow until full and then stay level, but at a soak's
// churn rate they take from half an hour (pods) to days (nodes) to fill, so without this the
// slope would measure a stream filling up, not a leak. Every type that changes in
// steady state gets `window` MODIFIED events here, from objects shaped like the real ones.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ApiClient } from '../../controllers/framework/client.js';

/** The API server's --event-window, from its command line; the flag's default when absent. */
export function eventWindowOf(apiserverPid: number, fallback = 10_000): number {
  try {
    const args = readFileSync(`/proc/${apiserverPid}/cmdline`, 'utf8').split('\0');
    const i = args.indexOf('--event-window');
    const inline = args.find((a) => a.startsWith('--event-window='));
    const v = i >= 0 ? args[i + 1] : inline?.slice('--event-window='.length);
    return v && /^\d+$/.test(v) ? Number(v) : fallback;
  } catch {
    return fallback;
  }
}

interface Target {
  type: string;
  /** The objects patched, one sequential lane each. */
  paths: string[];
  create?: (i: number) => { collection: string; body: object };
  patch: (n: number) => object;
}

const LANES = 4;
const container = { name: 'main', image: 'busybox:1.36', command: ['sleep', '86400'], resources: { requests: { cpu: '5m', memory: '8Mi' } } };

function targets(ns: string, nodes: string[]): Target[] {
  const lanes = Array.from({ length: LANES }, (_, i) => i);
  const anno = (n: number): object => ({ metadata: { annotations: { 'soak.podium.dev/prefill': String(n) } } });
  return [
    {
      type: 'configmaps', paths: lanes.map((i) => `/api/v1/namespaces/${ns}/configmaps/prefill-${i}`),
      create: (i) => ({ collection: `/api/v1/namespaces/${ns}/configmaps`, body: { metadata: { name: `prefill-${i}` }, data: { rev: '0', payload: 'x'.repeat(300) } } }),
      patch: (n) => ({ data: { rev: String(n) } }),
    },
    {
      type: 'pods', paths: lanes.map((i) => `/api/v1/namespaces/${ns}/pods/prefill-${i}`),
      create: (i) => ({ collection: `/api/v1/namespaces/${ns}/pods`, body: { metadata: { name: `prefill-${i}`, labels: { app: 'soak-prefill' } }, spec: { terminationGracePeriodSeconds: 2, containers: [container] } } }),
      patch: (n) => ({ metadata: { labels: { rev: String(n) } } }),
    },
    {
      type: 'events', paths: lanes.map((i) => `/api/v1/namespaces/${ns}/events/prefill-${i}`),
      create: (i) => ({
        collection: `/api/v1/namespaces/${ns}/events`,
        body: {
          metadata: { name: `prefill-${i}` }, involvedObject: { kind: 'Pod', namespace: ns, name: `prefill-${i}`, apiVersion: 'v1' },
          reason: 'Scheduled', message: `Successfully assigned ${ns}/prefill-${i} to a node`, type: 'Normal', count: 1, source: { component: 'soak-bench' },
        },
      }),
      patch: (n) => ({ count: n + 1, message: `prefill event ${n}` }),
    },
    {
      type: 'leases', paths: lanes.map((i) => `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/prefill-${i}`),
      create: (i) => ({ collection: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`, body: { metadata: { name: `prefill-${i}` }, spec: { holderIdentity: 'soak', leaseDurationSeconds: 40 } } }),
      patch: (n) => ({ spec: { renewTime: new Date().toISOString().replace('Z', '000Z'), holderIdentity: `soak-${n % 7}` } }),
    },
    {
      type: 'deployments', paths: lanes.map((i) => `/apis/apps/v1/namespaces/${ns}/deployments/prefill-${i}`),
      create: (i) => ({
        collection: `/apis/apps/v1/namespaces/${ns}/deployments`,
        body: { metadata: { name: `prefill-${i}` }, spec: { replicas: 0, selector: { matchLabels: { app: `soak-prefill-deploy-${i}` } }, template: { metadata: { labels: { app: `soak-prefill-deploy-${i}` } }, spec: { containers: [container] } } } },
      }),
      patch: anno,
    },
    {
      type: 'replicasets', paths: lanes.map((i) => `/apis/apps/v1/namespaces/${ns}/replicasets/prefill-${i}`),
      create: (i) => ({
        collection: `/apis/apps/v1/namespaces/${ns}/replicasets`,
        body: { metadata: { name: `prefill-${i}` }, spec: { replicas: 0, selector: { matchLabels: { app: `soak-prefill-rs-${i}` } }, template: { metadata: { labels: { app: `soak-prefill-rs-${i}` } }, spec: { containers: [container] } } } },
      }),
      patch: anno,
    },
    { type: 'nodes', paths: [...nodes, ...nodes].map((n) => `/api/v1/nodes/${n}`), patch: anno },
  ];
}

/**
 * Writes `window` events to each type, the types side by side and a few objects per type in
 * parallel. Returns the seconds it took; throws on the first failed write (the soak has not
 * started, so there is nothing to count yet).
 */
export async function prefillEventWindows(api: ApiClient, ns: string, nodes: string[], window: number, progress: (line: string) => void): Promise<number> {
  const started = performance.now();
  await Promise.all(targets(ns, nodes).map(async (t) => {
    const t0 = performance.now();
    if (t.create) await Promise.all(t.paths.map((_, i) => api.create(t.create!(i).collection, t.create!(i).body)));
    let next = 0;
    await Promise.all(t.paths.map(async (path) => {
      while (next < window) await api.patch(path, t.patch(next++), 'merge');
    }));
    progress(`  prefill: ${window} ${t.type} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }));
  return (performance.now() - started) / 1000;
}
