// One probe of one container (upstream prober/worker.go doProbe): what to do at each period
// tick. Kept free of timers and I/O — the manager ticks it and hands it the probe runner — so
// the timing and threshold rules are unit-tested with plain numbers.
import type { Probe } from 'kubernetes-types/core/v1.js';
import type { ProbeOutcome } from './handlers.js';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The probe's timing with upstream's defaults (period 10 s, timeout 1 s, thresholds 1 and 3). */
export function probeTiming(p: Probe): ProbeTiming {
  return {
    initialDelaySeconds: Math.max(0, p.initialDelaySeconds ?? 0),
    periodSeconds: Math.max(1, p.periodSeconds ?? 10),
    timeoutSeconds: Math.max(1, p.timeoutSeconds ?? 1),
    successThreshold: Math.max(1, p.successThreshold ?? 1),
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
  };
}

/**
 * The result a new container starts with: not ready until a readiness probe passes, alive
 * until a liveness probe fails, not started (unknown) until a startup probe passes.
 */
export function initialResult(type: ProbeType): ProbeResult {
  return type === 'readiness' ? 'failure' : type === 'liveness' ? 'success' : 'unknown';
}

/** What the worker sees of its container at a tick. */
export interface ContainerView {
  containerID: string;
  running: boolean;
  startedAtMs?: number;
  /** The startup probe passed, or there is none. */
  started: boolean;
}

export interface WorkerHooks {
  /** Runs the probe once. */
  run(): Promise<ProbeOutcome>;
  /** The published result for the container changed (or was reset for a new container). */
  set(containerID: string, result: ProbeResult): void;
  /** One probe attempt failed (upstream records Unhealthy for every failed attempt). */
  failed?(outcome: ProbeOutcome): void;
  /** Liveness or startup failed past the threshold: the container must be killed. */
  kill?(containerID: string): void;
}

export class ProbeWorker {
  private containerID = '';
  private lastResult: ProbeResult = 'unknown';
  private resultRun = 0;
  /** After a kill, nothing is probed until a new container (id) appears. */
  private onHold = false;

  constructor(
    readonly type: ProbeType,
    readonly timing: ProbeTiming,
    private readonly hooks: WorkerHooks,
  ) {}

  /** One tick; `c` is undefined while the container does not exist yet. */
  async doProbe(c: ContainerView | undefined, nowMs: number): Promise<void> {
    if (!c || !c.containerID) return;
    if (c.containerID !== this.containerID) {
      this.containerID = c.containerID;
      this.lastResult = 'unknown';
      this.resultRun = 0;
      this.onHold = false;
      this.hooks.set(c.containerID, initialResult(this.type));
    }
    if (this.onHold) return;
    if (!c.running) {
      // An exited container is neither ready nor live until it runs again.
      this.hooks.set(c.containerID, 'failure');
      return;
    }
    // A startup probe stops once it passed; the others wait for it.
    if (this.type === 'startup' ? c.started : !c.started) return;
    if (c.startedAtMs !== undefined && Math.floor((nowMs - c.startedAtMs) / 1000) < this.timing.initialDelaySeconds) return;

    const outcome = await this.hooks.run();
    if (outcome.result === 'failure') this.hooks.failed?.(outcome);
    if (outcome.result === this.lastResult) this.resultRun++;
    else {
      this.lastResult = outcome.result;
      this.resultRun = 1;
    }
    if (outcome.result === 'failure' && this.resultRun < this.timing.failureThreshold) return;
    if (outcome.result === 'success' && this.resultRun < this.timing.successThreshold) return;
    this.hooks.set(c.containerID, outcome.result);
    if (outcome.result === 'failure' && this.type !== 'readiness') {
      this.onHold = true;
      this.resultRun = 0;
      this.hooks.kill?.(c.containerID);
    }
  }
}
