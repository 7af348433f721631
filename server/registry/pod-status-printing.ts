// The cells of `kubectl get pods`, as upstream's printPod: READY, STATUS (the reason kubectl
// shows, from init containers, container states and deletion), RESTARTS with the time of the
// last restart, and the wide columns.
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { age } from './printing.js';

const isSidecar = (restartPolicy: string | undefined) => restartPolicy === 'Always';

function laterOf(current: string | undefined, candidate: string | undefined): string | undefined {
  if (!candidate) return current;
  if (!current) return candidate;
  return Date.parse(candidate) > Date.parse(current) ? candidate : current;
}

function terminatedReason(t: { reason?: string; signal?: number; exitCode: number }, prefix: string): string {
  if (t.reason) return `${prefix}${t.reason}`;
  return t.signal ? `${prefix}Signal:${t.signal}` : `${prefix}ExitCode:${t.exitCode}`;
}

export interface PodStatusCells { ready: string; status: string; restarts: string }

/** READY, STATUS and RESTARTS of a pod as kubectl prints them. */
export function podStatusCells(pod: Pod, now = Date.now()): PodStatusCells {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = new Map((spec?.initContainers ?? []).map((c) => [c.name, c]));
  let total = spec?.containers?.length ?? 0;
  for (const c of spec?.initContainers ?? []) if (isSidecar(c.restartPolicy)) total++;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: string | undefined;
  let lastSidecarRestart: string | undefined;

  let reason: string = status.reason || status.phase || '';
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const finished = c.lastState?.terminated?.finishedAt;
    restarts += c.restartCount ?? 0;
    lastRestart = laterOf(lastRestart, finished);
    const sidecar = isSidecar(initSpecs.get(c.name)?.restartPolicy);
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = laterOf(lastSidecarRestart, finished);
    }
    const term = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (sidecar && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (term) reason = terminatedReason(term, 'Init:');
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${spec?.initContainers?.length ?? 0}`;
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses: ContainerStatus[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = laterOf(lastRestart, c.lastState?.terminated?.finishedAt);
      const waiting = c.state?.waiting;
      const term = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (term) reason = terminatedReason(term, '');
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last container completed while another still runs is not "Completed".
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === 'NodeLost') reason = 'Unknown';
    else if (status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';
  }

  const restartsText = restarts !== 0 && lastRestart ? `${restarts} (${age(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsText };
}

/** The wide cells: IP, NODE, NOMINATED NODE, READINESS GATES. */
export function podWideCells(pod: Pod): string[] {
  const ip = pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || '<none>';
  const node = pod.spec?.nodeName || '<none>';
  const nominated = pod.status?.nominatedNodeName || '<none>';
  const gates = pod.spec?.readinessGates ?? [];
  let gatesText = '<none>';
  if (gates.length) {
    const conditions = pod.status?.conditions ?? [];
    const met = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
    gatesText = `${met}/${gates.length}`;
  }
  return [ip, node, nominated, gatesText];
}
