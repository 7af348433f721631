// `podium up` as a user runs it (the built CLI in dist/), with its stdout lines kept and its JSON
// logs parsed, so tests can wait for readiness and find the children's pids.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './processes.js';

export type LogLine = Record<string, unknown> & { msg?: string; component?: string; child?: string; pid?: number };

export class UpProcess {
  readonly proc: ChildProcess;
  readonly stdout: string[] = [];
  readonly logs: LogLine[] = [];
  readonly rawStderr: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'up', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (stream: NodeJS.ReadableStream, sink: (l: string) => void): void => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          sink(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    };
    lines(this.proc.stdout!, (l) => this.stdout.push(l));
    lines(this.proc.stderr!, (l) => {
      this.rawStderr.push(l);
      try {
        this.logs.push(JSON.parse(l) as LogLine);
      } catch {
        // not a structured line
      }
    });
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline || this.proc.exitCode !== null) {
        throw new Error(`timed out waiting for ${what}; stdout:\n${this.stdout.join('\n')}\nstderr:\n${this.tail()}`);
      }
      await sleep(50);
    }
  }

  waitReady(): Promise<void> {
    return this.waitFor('the ready line', () => this.stdout.some((l) => l.startsWith('podium is ready: export KUBECONFIG=')));
  }

  /** Every pid `up` started for a child, oldest first. */
  childPids(name: string): number[] {
    return this.logs.filter((l) => l.msg === 'child started' && l.child === name).map((l) => l.pid as number);
  }

  /** The newest pid `up` started for a child. */
  pid(child: string): number {
    const pid = this.childPids(child).at(-1);
    if (typeof pid !== 'number') throw new Error(`no ${child} started; logs:\n${this.tail(30)}`);
    return pid;
  }

  starts(child: string): number {
    return this.childPids(child).length;
  }

  redisUrl(): string {
    return this.logs.find((l) => l.msg === 'redis is ready')?.url as string;
  }

  tail(n = 40): string {
    return this.rawStderr.slice(-n).join('\n');
  }

  /** Leaves nothing running even when a test failed half-way. */
  forceCleanup(): void {
    for (const pid of [...this.childPids('apiserver'), ...this.childPids('redis')]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}
