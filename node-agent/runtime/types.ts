// The seam between the node agent and what actually runs containers. Everything API-facing
// (registration, leases, pod workers, the status manager) lives outside the runtime, so the
// Docker runtime only has to implement this. The runtime reports container facts (states,
// times, exit codes, the sandbox IP); turning them into a v1 PodStatus is pod-status.ts.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Duplex, Readable } from 'node:stream';

export type ContainerKind = 'init' | 'regular';

/** What the runtime knows about one container of a pod (upstream's kubecontainer.Status). */
export interface RuntimeContainerStatus {
  name: string;
  kind: ContainerKind;
  state: 'created' | 'running' | 'exited' | 'unknown';
  /** Runtime-qualified id, e.g. `simulated://…` or `docker://…`. */
  containerID: string;
  image: string;
  imageID: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Why it exited, in upstream words: Completed, Error, OOMKilled, ContainerCannotRun. */
  reason?: string;
  message?: string;
  /** How many times this container was started again after exiting. */
  restartCount: number;
  /** The previous run, once it has restarted (becomes containerStatus.lastState). */
  last?: { exitCode: number; reason: string; startedAt?: string; finishedAt?: string; containerID: string };
  /** Set while the runtime waits out a restart back-off (CrashLoopBackOff) or cannot start it. */
  waiting?: { reason: string; message?: string };
}

/** The runtime's view of a pod: its sandbox and the containers it has started so far. */
export interface RuntimePodStatus {
  uid: string;
  namespace: string;
  name: string;
  /** Whether the sandbox (network namespace) exists: PodReadyToStartContainers. */
  sandboxReady: boolean;
  ips: string[];
  containers: RuntimeContainerStatus[];
}

/** A pod the runtime holds, for adoption after an agent restart. */
export interface RuntimePod {
  uid: string;
  namespace: string;
  name: string;
  containers: { name: string; containerID: string; state: RuntimeContainerStatus['state'] }[];
}

export interface ContainerRef {
  podUid: string;
  namespace: string;
  podName: string;
  container: string;
}

export interface LogOptions {
  follow?: boolean;
  previous?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
}

export interface StreamIO {
  stdin?: Readable;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
}

/**
 * Secrets and config maps resolved by the agent, keyed by volume name, for the runtime to mount.
 * The entry of a volume holds:
 * - configMap / secret: the object's data (key → bytes); absent when the object does not exist;
 * - projected: `configMap/<name>/<key>`, `secret/<name>/<key>` and `serviceAccountToken/<path>`
 *   (downwardAPI items are computed by the runtime from the pod);
 * - persistentVolumeClaim: the bound PV's host directory, UTF-8, under PV_HOST_PATH_KEY.
 */
export type VolumeSources = Map<string, Record<string, Buffer>>;

/** The VolumeSources key carrying a persistentVolumeClaim's resolved host path (hostPath PVs). */
export const PV_HOST_PATH_KEY = '..hostPath';

/**
 * Something worth a kubelet Event that happened inside the runtime (an image pulled, a container
 * created, started or stopped, a restart held by back-off, a volume that would not mount). The
 * runtime only reports it; node-agent/events.ts turns it into a core/v1 Event.
 */
export interface RuntimeEvent {
  pod: Pod;
  /** The container it concerns, if any: the Event's involvedObject.fieldPath. */
  container?: { name: string; kind: ContainerKind };
  type: 'Normal' | 'Warning';
  /** Upstream's reasons: Pulling, Pulled, Failed, BackOff, Created, Started, Killing, FailedMount. */
  reason: string;
  message: string;
}

export interface NodeAndPodStats {
  node: { cpuUsageNanoCores?: number; memoryWorkingSetBytes?: number };
  pods: { uid: string; cpuUsageNanoCores?: number; memoryWorkingSetBytes?: number; containers?: { name: string; cpuUsageNanoCores?: number; memoryWorkingSetBytes?: number }[] }[];
}

export interface Runtime {
  /** `simulated`, `docker`: the scheme of container ids and the node's containerRuntimeVersion prefix. */
  readonly name: string;
  readonly version: string;
  /**
   * Brings the pod towards its spec: creates the sandbox, runs init containers in order, starts
   * regular containers, restarts exited ones as the restart policy and back-off allow
   * (pod-actions.ts decides). Idempotent; returns the state after this step.
   */
  /**
   * `volumes` may still be arriving (the API reads behind config maps, secrets and tokens): the
   * runtime waits for it only when it mounts them, so those reads overlap the sandbox's start.
   */
  syncPod(pod: Pod, volumes?: VolumeSources | Promise<VolumeSources>): Promise<RuntimePodStatus>;
  /**
   * A pod that reached Succeeded/Failed: stops its sandbox but keeps its exited containers, so
   * `kubectl logs` still works until the pod is deleted (then killPod removes them). Runtimes
   * without it get killPod.
   */
  stopPod?(pod: Pod): Promise<void>;
  /** Stops every container (SIGTERM, SIGKILL after the grace period) and removes the sandbox. */
  killPod(pod: Pod, gracePeriodSeconds: number): Promise<void>;
  /** The runtime's current view of one pod without changing anything; undefined if unknown. */
  podStatus(uid: string): RuntimePodStatus | undefined;
  listPods(): Promise<RuntimePod[]>;
  /**
   * Called when a container changes state on its own (exits, a back-off expires): upstream's
   * PLEG. The agent resyncs that pod's worker.
   */
  onPodEvent(listener: (uid: string) => void): void;
  /**
   * Stops one running container of the pod (SIGTERM, SIGKILL after the grace period) without
   * touching the others: the prober's answer to a failed liveness or startup probe. The next
   * syncPod restarts it as the restart policy says. `message` is the Killing event's text.
   */
  killContainer?(pod: Pod, containerName: string, gracePeriodSeconds: number, message: string): Promise<void>;
  logs?(ref: ContainerRef, opts: LogOptions): Promise<Readable>;
  exec?(ref: ContainerRef, cmd: string[], io: StreamIO): Promise<number>;
  /** Joins a running container's stdio (kubectl attach, run -i); resolves with its exit code. */
  attach?(ref: ContainerRef, io: StreamIO): Promise<number>;
  portForward?(pod: Pod, port: number, conn: Duplex): Promise<void>;
  stats?(): Promise<NodeAndPodStats>;
  close(): Promise<void>;
}
