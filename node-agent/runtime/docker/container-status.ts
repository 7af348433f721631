// What Docker says about a pod's containers, read back into the runtime's terms: each container's
// latest attempt becomes a RuntimeContainerStatus, the attempt before it its `last` state.
import type Docker from 'dockerode';
import type { ContainerKind, RuntimeContainerStatus } from '../types.js';
import { ATTEMPT_LABEL, CONTAINER_NAME_LABEL, HASH_LABEL, KIND_LABEL, RESTART_COUNT_LABEL, SANDBOX_CONTAINER_NAME } from './labels.js';

/** One Docker container of a pod, with what its labels say. */
export interface Observed {
  id: string;
  name: string;
  kind: ContainerKind | 'sandbox';
  attempt: number;
  restartCount: number;
  hash?: string;
  info: Docker.ContainerInspectInfo;
}

export function observe(info: Docker.ContainerInspectInfo): Observed {
  const l = info.Config.Labels ?? {};
  const name = l[CONTAINER_NAME_LABEL] ?? '';
  return {
    id: info.Id,
    name,
    kind: name === SANDBOX_CONTAINER_NAME ? 'sandbox' : l[KIND_LABEL] === 'init' ? 'init' : 'regular',
    attempt: Number(l[ATTEMPT_LABEL] ?? 0) || 0,
    restartCount: Number(l[RESTART_COUNT_LABEL] ?? 0) || 0,
    hash: l[HASH_LABEL],
    info,
  };
}

/** Docker's zero time means "never"; API statuses carry whole seconds. */
export function dockerTime(t: string | undefined): string | undefined {
  if (!t || t.startsWith('0001-')) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z') : undefined;
}

/** A container that Docker created but could not start: it never ran. */
export const failedToStart = (o: Observed): boolean => o.info.State.Status === 'created' && !!o.info.State.Error;

/** Upstream's reasons: OOMKilled, Completed (0), Error, or ContainerCannotRun when start failed. */
export function exitReason(o: Observed): { exitCode: number; reason: string; message?: string } {
  const s = o.info.State;
  if (failedToStart(o)) return { exitCode: s.ExitCode || 128, reason: 'ContainerCannotRun', message: s.Error };
  if (s.OOMKilled) return { exitCode: s.ExitCode, reason: 'OOMKilled' };
  return { exitCode: s.ExitCode, reason: s.ExitCode === 0 ? 'Completed' : 'Error' };
}

export function stateOf(o: Observed): RuntimeContainerStatus['state'] {
  const st = o.info.State.Status;
  if (st === 'running' || st === 'paused' || st === 'restarting') return 'running';
  if (st === 'exited' || st === 'dead' || failedToStart(o)) return 'exited';
  if (st === 'created') return 'created';
  return 'unknown';
}

export function toRuntimeStatus(cur: Observed, prev: Observed | undefined, image: string, imageID: string): RuntimeContainerStatus {
  const state = stateOf(cur);
  const s: RuntimeContainerStatus = {
    name: cur.name,
    kind: cur.kind === 'init' ? 'init' : 'regular',
    state,
    containerID: `docker://${cur.id}`,
    image,
    imageID,
    startedAt: dockerTime(cur.info.State.StartedAt),
    restartCount: cur.restartCount,
  };
  if (state === 'exited') {
    const r = exitReason(cur);
    s.exitCode = r.exitCode;
    s.reason = r.reason;
    if (r.message) s.message = r.message;
    // A container that never ran has no finish time from Docker: its creation stands in, so the
    // restart back-off counts from the failed attempt.
    s.finishedAt = dockerTime(cur.info.State.FinishedAt) ?? dockerTime(cur.info.Created);
  }
  if (prev && stateOf(prev) === 'exited') {
    const r = exitReason(prev);
    s.last = {
      exitCode: r.exitCode,
      reason: r.reason,
      startedAt: dockerTime(prev.info.State.StartedAt),
      finishedAt: dockerTime(prev.info.State.FinishedAt) ?? dockerTime(prev.info.Created),
      containerID: `docker://${prev.id}`,
    };
  }
  return s;
}
