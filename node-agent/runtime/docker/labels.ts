// The labels and names every Docker object of a pod carries. The `io.kubernetes.*` keys are the
// ones dockershim used, so `docker ps` reads the same as on a dockershim node; the `podium.io/*`
// keys hold what the runtime needs to rebuild its view after an agent restart.
import { createHash } from 'node:crypto';
import type { Container } from 'kubernetes-types/core/v1.js';
import type { ContainerKind } from '../types.js';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
/**
 * The node whose agent made the container. Several agents (or clusters) may share one Docker
 * daemon; an agent's orphan clean-up only ever touches containers carrying its own node name.
 */
export const NODE_LABEL = 'podium.io/node';
/** dockershim's marker: `podsandbox` or `container`. */
export const CONTAINER_TYPE_LABEL = 'io.kubernetes.docker.type';
export const RESTART_COUNT_LABEL = 'io.kubernetes.container.restartCount';
/** A hash of the container's spec: a change (a new image) restarts the container, as upstream. */
export const HASH_LABEL = 'io.kubernetes.container.hash';
export const ATTEMPT_LABEL = 'podium.io/attempt';
export const KIND_LABEL = 'podium.io/container-kind';
/** Set on everything this runtime creates: the filter for listing, events and clean-up. */
export const MANAGED_LABEL = 'podium.io/managed';
/** The sandbox container's name in CONTAINER_NAME_LABEL, as dockershim. */
export const SANDBOX_CONTAINER_NAME = 'POD';

export interface PodIdentity {
  uid: string;
  name: string;
  namespace: string;
}

export function sandboxLabels(p: PodIdentity, attempt: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    [MANAGED_LABEL]: 'true',
    [POD_NAME_LABEL]: p.name,
    [POD_NAMESPACE_LABEL]: p.namespace,
    [POD_UID_LABEL]: p.uid,
    [CONTAINER_NAME_LABEL]: SANDBOX_CONTAINER_NAME,
    [CONTAINER_TYPE_LABEL]: 'podsandbox',
    [ATTEMPT_LABEL]: String(attempt),
  };
}

export function containerLabels(p: PodIdentity, name: string, kind: ContainerKind, restartCount: number, hash: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...extra,
    [HASH_LABEL]: hash,
    [MANAGED_LABEL]: 'true',
    [POD_NAME_LABEL]: p.name,
    [POD_NAMESPACE_LABEL]: p.namespace,
    [POD_UID_LABEL]: p.uid,
    [CONTAINER_NAME_LABEL]: name,
    [CONTAINER_TYPE_LABEL]: 'container',
    [KIND_LABEL]: kind,
    [RESTART_COUNT_LABEL]: String(restartCount),
    [ATTEMPT_LABEL]: String(restartCount),
  };
}

/** Upstream HashContainer: any change of the container's spec changes it. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

/**
 * dockershim's container name `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`; Docker names
 * are unique, so the attempt keeps a restarted container from colliding with the one it replaces.
 */
export function dockerName(p: PodIdentity, container: string, attempt: number): string {
  return ['k8s', container, p.name, p.namespace, p.uid, String(attempt)].join('_');
}
