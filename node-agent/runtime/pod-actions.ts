// What a runtime should do next for a pod, given what already runs: upstream kubelet's
// computePodActions and ShouldContainerBeRestarted, shared by every runtime so the restart
// policy, init-container ordering and CrashLoopBackOff behave the same in Docker and in
// simulation. Pure functions: the unit tests drive them with plain data.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerKind, RuntimeContainerStatus } from './types.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Upstream's container restart back-off: 10 s doubling up to 5 minutes. */
export const UPSTREAM_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

export interface StartAction {
  name: string;
  kind: ContainerKind;
  container: Container;
}

export interface PodActions {
  start: StartAction[];
  /** Exited containers whose next start waits for the back-off: CrashLoopBackOff until `untilMs`. */
  backoff: { name: string; kind: ContainerKind; untilMs: number; delayMs: number }[];
}

type Policy = 'Always' | 'OnFailure' | 'Never';

export function restartPolicy(pod: Pod): Policy {
  const p = pod.spec?.restartPolicy;
  return p === 'Never' || p === 'OnFailure' ? p : 'Always';
}

const isSidecar = (c: Container): boolean => c.restartPolicy === 'Always';

/** Whether an exited container runs again (upstream ShouldContainerBeRestarted). */
export function shouldRestart(policy: Policy, exitCode: number, kind: ContainerKind, sidecar = false): boolean {
  if (sidecar) return true;
  // An init container that succeeded is done for good, whatever the policy says.
  if (kind === 'init') return exitCode !== 0 && policy !== 'Never';
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/**
 * The wait before restart number `restartCount + 1`. The first restart is immediate, as
 * upstream's back-off only holds a container it has already seen exit since its last start.
 */
export function backoffDelayMs(restartCount: number, policy: BackoffPolicy = UPSTREAM_BACKOFF): number {
  if (restartCount <= 0) return 0;
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(restartCount - 1, 30));
}

function restartOrWait(
  c: Container,
  kind: ContainerKind,
  s: RuntimeContainerStatus,
  nowMs: number,
  backoff: BackoffPolicy,
  out: PodActions,
): void {
  const delay = backoffDelayMs(s.restartCount, backoff);
  const finished = s.finishedAt ? Date.parse(s.finishedAt) : 0;
  if (nowMs >= finished + delay) out.start.push({ name: c.name, kind, container: c });
  else out.backoff.push({ name: c.name, kind, untilMs: finished + delay, delayMs: delay });
}

/**
 * The next step for `pod`: init containers strictly in order (a sidecar only has to be
 * running before the next one starts), then every regular container together.
 */
export function computePodActions(pod: Pod, current: RuntimeContainerStatus[], nowMs: number, backoff: BackoffPolicy = UPSTREAM_BACKOFF): PodActions {
  const out: PodActions = { start: [], backoff: [] };
  const policy = restartPolicy(pod);
  const byName = new Map(current.map((s) => [`${s.kind}/${s.name}`, s]));

  for (const c of pod.spec?.initContainers ?? []) {
    const s = byName.get(`init/${c.name}`);
    if (!s) {
      out.start.push({ name: c.name, kind: 'init', container: c });
      return out;
    }
    if (s.state === 'running') {
      if (isSidecar(c)) continue;
      return out;
    }
    if (s.state !== 'exited') return out;
    if (!isSidecar(c) && s.exitCode === 0) continue;
    if (!shouldRestart(policy, s.exitCode ?? 1, 'init', isSidecar(c))) return out; // the pod has failed
    restartOrWait(c, 'init', s, nowMs, backoff, out);
    return out;
  }

  for (const c of pod.spec?.containers ?? []) {
    const s = byName.get(`regular/${c.name}`);
    if (!s) {
      out.start.push({ name: c.name, kind: 'regular', container: c });
      continue;
    }
    if (s.state !== 'exited') continue;
    if (shouldRestart(policy, s.exitCode ?? 1, 'regular')) restartOrWait(c, 'regular', s, nowMs, backoff, out);
  }
  return out;
}
