// The node agent's Prometheus series under the kubelet's names: pod start latency, running
// pods and containers, probe results. One registry per agent process (a simulated agent
// hosting many nodes reports them all together). Pod and container counts are taken from the
// last runtime state each pod worker saw, when someone scrapes.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from './runtime/types.js';

export const kubeletRegistry = new Registry();
collectDefaultMetrics({ register: kubeletRegistry });

/** The kubelet's buckets for kubelet_pod_start_duration_seconds. */
const POD_START_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

const podStart = new Histogram({
  name: 'kubelet_pod_start_duration_seconds',
  help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
  buckets: POD_START_BUCKETS, registers: [kubeletRegistry],
});

/** uid -> when the agent first saw the pod (ms), until it first ran. */
const firstSeen = new Map<string, number>();
/** uid -> the runtime's last word on the pod. */
const lastRuntime = new Map<string, RuntimePodStatus>();

new Gauge({
  name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers: [kubeletRegistry],
  collect() {
    let n = 0;
    for (const rt of lastRuntime.values()) if (rt.sandboxReady) n++;
    this.set(n);
  },
});

const STATES: RuntimeContainerStatus['state'][] = ['running', 'exited', 'created', 'unknown'];
new Gauge({
  name: 'kubelet_running_containers', help: 'Number of containers currently running', labelNames: ['container_state'] as const, registers: [kubeletRegistry],
  collect() {
    const counts = new Map<string, number>(STATES.map((s) => [s, 0]));
    for (const rt of lastRuntime.values()) for (const c of rt.containers) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
    for (const [state, n] of counts) this.set({ container_state: state }, n);
  },
});

const probes = new Counter({
  name: 'prober_probe_total', help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
  labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'] as const, registers: [kubeletRegistry],
});

/** The pod worker saw the pod for the first time. */
export function podSeen(uid: string): void {
  if (!firstSeen.has(uid)) firstSeen.set(uid, Date.now());
}

/** A sync ended with this runtime state and pod phase; the first Running phase ends the start latency. */
export function podSynced(uid: string, rt: RuntimePodStatus, phase: string | undefined): void {
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  // A finished pod's sandbox is torn down right after this sync.
  lastRuntime.set(uid, terminal ? { ...rt, sandboxReady: false } : rt);
  const seen = firstSeen.get(uid);
  if (seen !== undefined && phase === 'Running') {
    podStart.observe((Date.now() - seen) / 1000);
    firstSeen.delete(uid);
  } else if (terminal) firstSeen.delete(uid);
}

/** The pod's worker is gone (pod deleted or finished): it no longer counts. */
export function podForgotten(uid: string): void {
  firstSeen.delete(uid);
  lastRuntime.delete(uid);
}

const PROBE_TYPES = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' } as const;
const RESULTS = { success: 'successful', failure: 'failed', unknown: 'unknown' } as const;

/** One probe attempt's outcome, as the kubelet's prober counts it. */
export function probeRan(type: keyof typeof PROBE_TYPES, result: keyof typeof RESULTS, container: string, pod: Pod | undefined): void {
  probes.inc({
    probe_type: PROBE_TYPES[type], result: RESULTS[result], container,
    pod: pod?.metadata?.name ?? '', namespace: pod?.metadata?.namespace ?? '', pod_uid: pod?.metadata?.uid ?? '',
  });
}
