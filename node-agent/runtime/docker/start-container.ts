// Starting one container of a pod (upstream's startContainer): the image under its pull policy
// and pull back-off, the environment, the Docker create and start, then the postStart hook.
// Failures become the container's waiting reason (ErrImagePull, ImagePullBackOff,
// CreateContainerConfigError, CreateContainerError); a failed start leaves the container
// "created" with Docker's error, which container-status.ts reports as ContainerCannotRun.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { logger } from '../../../apimachinery/log.js';
import { ContainerConfigError, makeEnvironment, type EnvResolver } from '../env.js';
import { backoffDelayMs, type BackoffPolicy, type StartAction } from '../pod-actions.js';
import type { RuntimeContainerStatus } from '../types.js';
import { containerCreateOptions, subPathOf } from './container-config.js';
import { runHook } from './hooks.js';
import { ensureImage, ImageError } from './images.js';
import { containerHash, containerLabels, dockerName, type PodIdentity } from './labels.js';
import type { VolumeMount } from './volumes.js';

const log = logger('docker-runtime');
const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** What the runtime remembers per pod between syncs about containers it could not start. */
export interface StartState {
  /** By `kind/name`: ErrImagePull, CreateContainerConfigError… until a create succeeds. */
  waiting: Map<string, { reason: string; message?: string }>;
  pullBackoff: Map<string, { image: string; failures: number; untilMs: number }>;
}

export interface StartContext {
  docker: Docker;
  pod: Pod;
  id: PodIdentity;
  state: StartState;
  sandboxID: string;
  podIP: string;
  hostIP?: string;
  hostsFile?: string;
  resolvConf?: string;
  mounts: Map<string, VolumeMount>;
  resolver: EnvResolver;
  /** The current statuses: a container's previous attempt sets the restart count. */
  statuses: RuntimeContainerStatus[];
  imageBackoff: BackoffPolicy;
  /** Asks for a resync when a pull back-off ends. */
  wakeAt(ms: number): void;
  /** Extra labels (the node label). */
  labels?: Record<string, string>;
  /** Kubelet events about this container (Pulling, Pulled, Created, Started, Failed, BackOff). */
  event?(type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export async function startContainer(ctx: StartContext, a: StartAction): Promise<void> {
  const { pod, id, state: rec } = ctx;
  const c = a.container;
  const key = `${a.kind}/${a.name}`;
  const image = c.image ?? '';
  const now = Date.now();
  const event = ctx.event ?? (() => undefined);

  const pb = rec.pullBackoff.get(key);
  if (pb && pb.image === image && now < pb.untilMs) {
    rec.waiting.set(key, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` });
    event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
    ctx.wakeAt(pb.untilMs);
    return;
  }
  try {
    await ensureImage(ctx.docker, c, event);
    rec.pullBackoff.delete(key);
  } catch (err) {
    if (err instanceof ImageError) {
      if (err.reason === 'ErrImagePull') {
        const failures = (pb?.image === image ? pb.failures : 0) + 1;
        const untilMs = now + backoffDelayMs(failures, ctx.imageBackoff);
        rec.pullBackoff.set(key, { image, failures, untilMs });
        ctx.wakeAt(untilMs);
      }
      rec.waiting.set(key, { reason: err.reason, message: err.message });
      return;
    }
    throw err;
  }

  const prev = ctx.statuses.find((s) => s.kind === a.kind && s.name === a.name);
  const restartCount = prev ? prev.restartCount + 1 : 0;
  let created: Docker.Container;
  try {
    const env = makeEnvironment(pod, c, { ...ctx.resolver, podIP: ctx.podIP, hostIP: ctx.resolver.hostIP ?? ctx.hostIP });
    // Upstream creates a missing subPath directory inside the volume.
    for (const vm of c.volumeMounts ?? []) {
      const v = ctx.mounts.get(vm.name);
      const sub = subPathOf(vm, env);
      if (sub && v?.kind === 'bind') await fs.mkdir(path.join(v.hostPath, sub), { recursive: true }).catch(() => undefined);
    }
    const opts = containerCreateOptions({
      pod,
      container: c,
      env,
      name: dockerName(id, a.name, restartCount),
      labels: containerLabels(id, a.name, a.kind, restartCount, containerHash(c), ctx.labels),
      sandboxID: ctx.sandboxID,
      volumes: ctx.mounts,
      hostsFile: ctx.hostsFile,
      resolvConf: ctx.resolvConf,
    });
    created = await ctx.docker.createContainer(opts);
  } catch (err) {
    const reason = err instanceof ContainerConfigError ? err.reason : 'CreateContainerError';
    rec.waiting.set(key, { reason, message: errorMessage(err) });
    event('Warning', 'Failed', `Error: ${errorMessage(err)}`);
    return;
  }
  rec.waiting.delete(key);
  event('Normal', 'Created', `Created container ${a.name}`);
  try {
    await created.start();
    event('Normal', 'Started', `Started container ${a.name}`);
  } catch (err) {
    event('Warning', 'Failed', `Error: failed to start container "${a.name}": ${errorMessage(err)}`);
    // The container stays "created" with State.Error: reported as ContainerCannotRun.
    log.info('container start failed', { pod: `${id.namespace}/${id.name}`, container: a.name, err: errorMessage(err) });
    return;
  }
  const postStart = c.lifecycle?.postStart;
  if (postStart) {
    try {
      await runHook(ctx.docker, created.id, c, postStart, ctx.podIP, 30_000);
    } catch (err) {
      // Upstream kills a container whose postStart hook failed; the restart policy takes over.
      log.info('FailedPostStartHook', { pod: `${id.namespace}/${id.name}`, container: a.name, err: errorMessage(err) });
      event('Warning', 'FailedPostStartHook', errorMessage(err));
      await created.kill().catch(() => undefined);
    }
  }
}
