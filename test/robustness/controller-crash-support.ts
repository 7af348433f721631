// What the controller-crash tests need around a `podium up --runtime simulated` cluster: start
// and stop it, find and kill -9 one of its supervised components, and a pod watch that keeps
// every pod of a namespace current so invariants can be checked on every single event.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Pod, PodList } from 'kubernetes-types/core/v1.js';
import type { NodeList } from 'kubernetes-types/core/v1.js';
import { ApiClient, connectionFromKubeconfig, type WatchEvent } from '../../node-agent/api.js';
import { freePort, ROOT } from '../support/processes.js';
import { sleep } from '../support/wait.js';

export const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

export interface Cluster {
  up: ChildProcess;
  dataDir: string;
  kubeconfig: string;
  api: ApiClient;
  output(): string;
  stop(): Promise<void>;
}

/** `podium up --runtime simulated --nodes N` as a user runs it; resolves once every node is Ready. */
export async function startCluster(nodes: number): Promise<Cluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'podium-crash-'));
  const port = await freePort();
  let out = '';
  const up = spawn(process.execPath, [join(ROOT, 'dist/cmd/podium.js'), 'up', '--data-dir', dataDir, '--port', String(port), '--runtime', 'simulated', '--nodes', String(nodes)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (d) => (out = (out + d).slice(-200_000)));
  up.stderr!.on('data', (d) => (out = (out + d).slice(-200_000)));
  const stop = async (): Promise<void> => {
    if (up.exitCode === null && up.signalCode === null) {
      const exited = new Promise((r) => up.once('exit', r));
      up.kill('SIGTERM');
      const late = setTimeout(() => up.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(late);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!out.includes('podium is ready')) {
    if (Date.now() > deadline || up.exitCode !== null) {
      await stop();
      throw new Error(`up did not become ready:\n${out.slice(-3000)}`);
    }
    await sleep(100);
  }
  const kubeconfig = join(dataDir, 'kubeconfig');
  const api = new ApiClient(connectionFromKubeconfig(kubeconfig));
  for (;;) {
    const list = await api.get<NodeList>('/api/v1/nodes').catch(() => ({ items: [] }) as NodeList);
    const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length === nodes) break;
    if (Date.now() > deadline) {
      api.close();
      await stop();
      throw new Error(`nodes did not become Ready:\n${out.slice(-3000)}`);
    }
    await sleep(200);
  }
  return { up, dataDir, kubeconfig, api, output: () => out, stop: async () => { api.close(); await stop(); } };
}

/** Pids of `parent`'s children running `podium <subcommand>`, from /proc. */
export function childPids(parent: number, subcommand: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(subcommand)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Waits for the single live child running `subcommand` (another than `not`, when given). */
export async function waitForChild(parent: number, subcommand: string, not?: number, ms = 30_000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const pids = childPids(parent, subcommand).filter((p) => p !== not);
    if (pids.length === 1) return pids[0];
    if (Date.now() > end) throw new Error(`no ${subcommand} child of ${parent} (found ${pids.join(',') || 'none'})`);
    await sleep(25);
  }
}

/** kill -9 of one supervised component; resolves with its pid once it is gone. */
export async function killComponent(parent: number, subcommand: string): Promise<number> {
  const pid = await waitForChild(parent, subcommand);
  process.kill(pid, 'SIGKILL');
  while (childPids(parent, subcommand).includes(pid)) await sleep(10);
  return pid;
}

export async function kubectl(kubeconfig: string, args: string[], timeoutMs = 180_000): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(KUBECTL, ['--kubeconfig', kubeconfig, ...args], { timeout: timeoutMs });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

export const isTerminating = (p: Pod): boolean => !!p.metadata?.deletionTimestamp;
export const isTerminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
/** Counted against a controller's replicas and parallelism, as upstream's FilterActivePods does. */
export const isActive = (p: Pod): boolean => !isTerminating(p) && !isTerminal(p);

/**
 * Every pod of a namespace, kept current by one list and a watch resumed from the last
 * resourceVersion; `onEvent` runs after each event is applied, with the pod before and after.
 */
export class PodTracker {
  readonly pods = new Map<string, Pod>();
  relists = 0;
  private readonly ctrl = new AbortController();
  private done?: Promise<void>;

  constructor(
    private readonly api: ApiClient,
    private readonly namespace: string,
    private readonly onEvent: (type: string, before: Pod | undefined, after: Pod | undefined) => void,
  ) {}

  async start(): Promise<void> {
    let rv = await this.list();
    this.done = (async () => {
      while (!this.ctrl.signal.aborted) {
        let expired = false;
        try {
          await this.api.watch<Pod>(`/api/v1/namespaces/${this.namespace}/pods?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`, (e: WatchEvent<Pod>) => {
            if (e.type === 'ERROR') { expired = true; return; }
            rv = e.object.metadata?.resourceVersion ?? rv;
            if (e.type === 'BOOKMARK') return;
            const uid = e.object.metadata?.uid ?? '';
            const before = this.pods.get(uid);
            if (e.type === 'DELETED') this.pods.delete(uid);
            else this.pods.set(uid, e.object);
            this.onEvent(e.type, before, e.type === 'DELETED' ? undefined : e.object);
          }, this.ctrl.signal);
        } catch {
          if (this.ctrl.signal.aborted) break;
          await sleep(200);
        }
        if (expired && !this.ctrl.signal.aborted) {
          this.relists++;
          rv = await this.list().catch(() => rv);
        }
      }
    })();
  }

  private async list(): Promise<string> {
    const list = await this.api.get<PodList>(`/api/v1/namespaces/${this.namespace}/pods`);
    this.pods.clear();
    for (const p of list.items) this.pods.set(p.metadata?.uid ?? '', p);
    return list.metadata?.resourceVersion ?? '0';
  }

  select(fn: (p: Pod) => boolean): Pod[] {
    return [...this.pods.values()].filter(fn);
  }

  async stop(): Promise<void> {
    this.ctrl.abort();
    await this.done;
  }
}
