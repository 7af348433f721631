// Child-process supervision for `podium up`: start, restart a crashed child with
// exponential back-off (the shape of kubelet's CrashLoopBackOff, with shorter
// steps because these are the control plane itself), and stop on request.
//
// Children run in their own process group. A Ctrl-C in a terminal signals the
// whole foreground group at once; keeping children out of it lets `up` stop them
// in order (API server before Redis) instead of racing them all. The price is
// that a SIGKILLed `up` cannot forward anything, so children of ours watch their
// parent (watchParent) and Redis is cleaned up through its pid file.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../apimachinery/log.js';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * 'inherit' passes output straight through (our node children already log JSON lines);
   * a function receives each line instead, for programs whose logs need wrapping.
   */
  output?: 'inherit' | ((line: string) => void);
  /** How long a child gets between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number;
  /** Called after every start, restarts included (`restarts` > 0). */
  onStarted?: (pid: number, restarts: number) => void;
}

const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
// A child that stayed up this long is considered healthy again, and its next crash restarts quickly.
const STABLE_AFTER_MS = 60_000;

/** Environment variable set on every child, so it knows to exit with its parent. */
export const SUPERVISED_ENV = 'PODIUM_SUPERVISED';

export class SupervisedChild {
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;
  private backoffMs = INITIAL_BACKOFF_MS;
  private startedAt = 0;
  private restarts = 0;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: Logger,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.stopping || this.child) return;
    const { spec } = this;
    const piped = typeof spec.output === 'function';
    const child = spawn(spec.command, spec.args, {
      env: { ...(spec.env ?? process.env), [SUPERVISED_ENV]: '1' },
      stdio: ['ignore', piped ? 'pipe' : 'inherit', piped ? 'pipe' : 'inherit'],
      detached: true,
    });
    this.child = child;
    this.startedAt = Date.now();
    if (typeof spec.output === 'function') {
      const onLine = spec.output;
      for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', onLine);
    }
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        // spawn failures (ENOENT, EACCES) arrive here and no 'exit' follows.
        this.log.error('child could not be started', { child: spec.name, error: err.message });
        this.onExit(child, null, null);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.onExit(child, code, signal);
        resolve();
      });
    });
    if (child.pid !== undefined) {
      this.log.info('child started', { child: spec.name, pid: child.pid, restarts: this.restarts });
      spec.onStarted?.(child.pid, this.restarts);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (this.stopping) {
      this.log.info('child stopped', { child: this.spec.name, pid: child.pid, code, signal });
      return;
    }
    if (Date.now() - this.startedAt >= STABLE_AFTER_MS) this.backoffMs = INITIAL_BACKOFF_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.restarts++;
    this.log.error('child exited unexpectedly; restarting', {
      child: this.spec.name,
      pid: child.pid,
      code,
      signal,
      restarts: this.restarts,
      restartInMs: delay,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.start();
    }, delay);
  }

  /** SIGTERM, then SIGKILL after the stop timeout; resolves once the child is gone. No restart follows. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (!child) return;
    signalGroup(child, 'SIGTERM');
    const timeoutMs = this.spec.stopTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([this.exited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.log.warn('child did not stop in time; killing it', { child: this.spec.name, pid: child.pid, timeoutMs });
      signalGroup(child, 'SIGKILL');
      await this.exited;
    }
  }

  /** Immediate SIGKILL, for a second Ctrl-C or an exiting parent. Synchronous on purpose: usable in 'exit' handlers. */
  kill(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.child) signalGroup(this.child, 'SIGKILL');
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // The child leads its own group (detached), so this reaches anything it spawned as well.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * For a process started by SupervisedChild: calls `onGone` once if the parent disappears
 * (even by SIGKILL, which the parent cannot forward). Outside supervision it does nothing,
 * so a component started by hand is never tied to its shell.
 */
export function watchParent(onGone: () => void, intervalMs = 1000): void {
  if (process.env[SUPERVISED_ENV] !== '1') return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    // An orphan is re-parented to init or a subreaper, so any change means the parent died.
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
}
