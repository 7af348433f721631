// The v1 PodStatus the agent reports, computed from the runtime's container facts: upstream
// kubelet's generateAPIPodStatus, getPhase and the Generate*Condition helpers. Pure: the
// status manager diffs its result against what the server holds.
import type { ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { restartPolicy } from './runtime/pod-actions.js';
import type { RuntimeContainerStatus, RuntimePodStatus } from './runtime/types.js';

export type MutablePodStatus = Mutable<PodStatus>;
type CS = Mutable<ContainerStatus>;

export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const isTerminalPhase = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

/** One API container status from the runtime's view (undefined: not created yet). */
/** Started and ready of a running container as its probes say (the prober's containerState). */
export type ProbeStateFn = (name: string, containerID: string) => { started: boolean; ready: boolean };

export function toContainerStatus(name: string, image: string, s: RuntimeContainerStatus | undefined, initializing: boolean, probes?: ProbeStateFn): CS {
  if (!s) {
    return { name, state: { waiting: { reason: initializing ? 'PodInitializing' : 'ContainerCreating' } }, lastState: {}, ready: false, restartCount: 0, image, imageID: '', started: false };
  }
  const out: CS = { name, state: {}, lastState: {}, ready: false, restartCount: s.restartCount, image: s.image || image, imageID: s.imageID, containerID: s.containerID, started: false };
  const terminated = (t: { exitCode: number; reason: string; startedAt?: string; finishedAt?: string; containerID: string }) => ({
    exitCode: t.exitCode,
    reason: t.reason,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    containerID: t.containerID,
  });
  if (s.state === 'running') {
    out.state = { running: { startedAt: s.startedAt } };
    // Without a prober (the simulated runtime) a running container is started and ready, as
    // upstream reports a container without probes; with one, its startup and readiness say.
    const p = probes?.(name, s.containerID) ?? { started: true, ready: true };
    out.ready = p.ready;
    out.started = p.started;
    if (s.last) out.lastState = { terminated: terminated(s.last) };
  } else if (s.state === 'exited') {
    const t = terminated({ exitCode: s.exitCode ?? 0, reason: s.reason ?? (s.exitCode ? 'Error' : 'Completed'), startedAt: s.startedAt, finishedAt: s.finishedAt, containerID: s.containerID });
    if (s.waiting) {
      out.state = { waiting: { reason: s.waiting.reason, message: s.waiting.message } };
      out.lastState = { terminated: t };
    } else {
      out.state = { terminated: t };
      if (s.last) out.lastState = { terminated: terminated(s.last) };
    }
  } else {
    out.state = { waiting: { reason: s.waiting?.reason ?? 'ContainerCreating', message: s.waiting?.message } };
  }
  return out;
}

/** Upstream getPhase. */
export function podPhase(pod: Pod, init: CS[], regular: CS[]): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const policy = restartPolicy(pod);
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of pod.spec?.initContainers ?? []) {
    const s = init.find((x) => x.name === c.name);
    if (c.restartPolicy === 'Always') {
      if (!s?.state?.running) pendingInit++;
      continue;
    }
    if (!s || s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.lastState?.terminated) {
      if (s.lastState.terminated.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of pod.spec?.containers ?? []) {
    const s = regular.find((x) => x.name === c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++;
    else waiting++;
  }
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, reason?: string, message?: string): Mutable<PodCondition> {
  const c: Mutable<PodCondition> = { type, status: ok ? 'True' : 'False' };
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** Initialized, ContainersReady and Ready, as upstream's status helpers word them. */
function readinessConditions(pod: Pod, phase: string, init: CS[], regular: CS[]): Mutable<PodCondition>[] {
  const completed = phase === 'Succeeded';
  const incomplete = (pod.spec?.initContainers ?? [])
    .filter((c) => {
      const s = init.find((x) => x.name === c.name);
      return c.restartPolicy === 'Always' ? !s?.started : s?.state?.terminated?.exitCode !== 0;
    })
    .map((c) => c.name);
  const initialized = completed
    ? condition('Initialized', true, 'PodCompleted')
    : incomplete.length
      ? condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`)
      : condition('Initialized', true);

  const unready = (pod.spec?.containers ?? []).filter((c) => !regular.find((x) => x.name === c.name)?.ready).map((c) => c.name);
  const unreadySidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always' && !init.find((x) => x.name === c.name)?.ready).map((c) => c.name);
  const notReady = [...unreadySidecars, ...unready];
  let containersReady: Mutable<PodCondition>;
  if (completed) containersReady = condition('ContainersReady', false, 'PodCompleted');
  else if (notReady.length) containersReady = condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${notReady.join(' ')}]`);
  else containersReady = condition('ContainersReady', true);

  let ready = { ...containersReady, type: 'Ready' };
  if (ready.status === 'True') {
    const have = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c.status]));
    const gates = (pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
    const missing = gates.filter((g) => !have.has(g));
    const falseGates = gates.filter((g) => have.has(g) && have.get(g) !== 'True');
    if (missing.length || falseGates.length) {
      const msgs = [
        ...missing.map((g) => `corresponding condition of pod readiness gate "${g}" does not exist.`),
        ...(falseGates.length ? [`the status of pod readiness gate "${falseGates.join(', ')}" is not "True", but False`] : []),
      ];
      ready = condition('Ready', false, 'ReadinessGatesNotReady', msgs.join(', '));
    }
  }
  return [initialized, ready, containersReady];
}

export interface StatusContext {
  hostIP: string;
  nowMs: number;
  /** The pod was deleted and its containers killed: its phase becomes terminal, as upstream since 1.27. */
  terminating?: boolean;
  /** The prober's view of running containers; absent: running means started and ready. */
  probes?: ProbeStateFn;
}

/**
 * The status to report for `pod` given the runtime's view (undefined once the runtime no
 * longer holds it, e.g. after a terminal pod's sandbox was removed: the last status stays).
 */
export function generatePodStatus(pod: Pod, rt: RuntimePodStatus | undefined, ctx: StatusContext): MutablePodStatus {
  const old = pod.status ?? {};
  const byKey = new Map((rt?.containers ?? []).map((c) => [`${c.kind}/${c.name}`, c]));
  const anyInitPending = (pod.spec?.initContainers ?? []).some((c) => c.restartPolicy !== 'Always' && byKey.get(`init/${c.name}`)?.exitCode !== 0);
  const oldFor = (list: readonly ContainerStatus[] | undefined, name: string) => list?.find((c) => c.name === name) as CS | undefined;

  const init = (pod.spec?.initContainers ?? []).map((c) => {
    const s = byKey.get(`init/${c.name}`);
    const cs = !s && !rt && oldFor(old.initContainerStatuses, c.name) ? oldFor(old.initContainerStatuses, c.name)! : toContainerStatus(c.name, c.image ?? '', s, true, c.restartPolicy === 'Always' ? ctx.probes : undefined);
    // Upstream's prober manager: an init container that completed successfully is ready.
    if (c.restartPolicy !== 'Always' && cs.state?.terminated?.exitCode === 0) cs.ready = true;
    return cs;
  });
  const regular = (pod.spec?.containers ?? []).map((c) => {
    const s = byKey.get(`regular/${c.name}`);
    return !s && !rt && oldFor(old.containerStatuses, c.name) ? oldFor(old.containerStatuses, c.name)! : toContainerStatus(c.name, c.image ?? '', s, anyInitPending, ctx.probes);
  });

  let phase: string = podPhase(pod, init, regular);
  // A terminal phase never changes back (upstream's status manager refuses the transition).
  if (isTerminalPhase(old.phase)) phase = old.phase!;
  else if (ctx.terminating && !isTerminalPhase(phase)) {
    phase = regular.length && regular.every((c) => c.state?.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  }
  const terminal = isTerminalPhase(phase);

  const own = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  const conditions: Mutable<PodCondition>[] = [
    condition('PodReadyToStartContainers', Boolean(rt?.sandboxReady) && !terminal),
    ...readinessConditions(pod, phase, init, regular),
    condition('PodScheduled', true),
  ];
  for (const c of conditions) {
    const prev = old.conditions?.find((o) => o.type === c.type);
    c.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : rfc3339(ctx.nowMs);
  }
  for (const c of old.conditions ?? []) if (!own.has(c.type)) conditions.push({ ...c } as Mutable<PodCondition>);

  // A host-network pod shares the node's address, as upstream reports it.
  const ips = pod.spec?.hostNetwork ? [ctx.hostIP] : rt?.ips.length ? rt.ips : (old.podIPs ?? []).map((p) => p.ip ?? '').filter(Boolean);
  const status: MutablePodStatus = {
    phase,
    conditions,
    hostIP: ctx.hostIP,
    hostIPs: [{ ip: ctx.hostIP }],
    startTime: old.startTime ?? rfc3339(ctx.nowMs),
    containerStatuses: regular,
  };
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  if (init.length) status.initContainerStatuses = init;
  if (old.qosClass) status.qosClass = old.qosClass;
  return status;
}

const isEmpty = (v: unknown): boolean =>
  v == null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * Deep equality over JSON values, ignoring key order and treating null, absent, "", {} and []
 * alike: the server may drop or keep empty fields, and neither is a change worth a patch.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameJson(ao[k], bo[k])) return false;
  return true;
}
