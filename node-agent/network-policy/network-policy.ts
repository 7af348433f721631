// Keeps this node's filter-table NetworkPolicy chains in line with the cluster: every store
// change schedules a (coalesced) full resync, and a periodic repair puts back what somebody
// else removed or reordered (Docker re-inserts its FORWARD rules at the top when it restarts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { logger } from '../../apimachinery/log.js';
import { Iptables } from '../iptables/iptables.js';
import type { ClusterState, NodeNetworkConfig } from '../network/types.js';
import { buildPolicyRules, topChainName } from './policy-rules.js';

const run = promisify(execFile);
const log = logger('network-policy');

const REPAIR_INTERVAL_MS = 30_000;
const RETRY_MS = 2_000;
const JUMP_COMMENT = 'podium network policy';

export interface NetworkPolicyEnforcerOptions {
  /** Prefix of every chain this enforcer owns. Default 'PODIUM-NP-'. */
  chainPrefix?: string;
  iptables?: Iptables;
  /** The iptables binary used to inspect FORWARD's rule order (should match `iptables`). Default 'iptables'. */
  iptablesBinary?: string;
  /** Lower bound between two syncs triggered by store changes. Default 500 ms. */
  minSyncIntervalMs?: number;
}

export class NetworkPolicyEnforcer {
  private readonly prefix: string;
  private readonly iptables: Iptables;
  private readonly binary: string;
  private readonly minSyncIntervalMs: number;
  private readonly topChain: string;
  private started = false;
  private stopped = false;
  private dirty = false;
  private syncing = false;
  private lastSyncAt = 0;
  private timer?: NodeJS.Timeout;
  private repairTimer?: NodeJS.Timeout;
  private lastApplied?: string;
  // Syncs (background or explicit) run one at a time, each reading the stores when it starts.
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly state: Pick<ClusterState, 'networkPolicies' | 'pods' | 'namespaces'>,
    private readonly config: NodeNetworkConfig,
    options: NetworkPolicyEnforcerOptions = {},
  ) {
    this.prefix = options.chainPrefix ?? 'PODIUM-NP-';
    this.iptables = options.iptables ?? new Iptables(options.iptablesBinary);
    this.binary = options.iptablesBinary ?? 'iptables';
    this.minSyncIntervalMs = options.minSyncIntervalMs ?? 500;
    this.topChain = topChainName(this.prefix);
  }

  /** Installs the FORWARD jump and the current rules, then follows the stores. */
  async start(): Promise<void> {
    this.stopped = false;
    if (!this.started) {
      this.started = true;
      const changed = (): void => this.changed();
      for (const store of [this.state.networkPolicies, this.state.pods, this.state.namespaces] as const) {
        store.on('add', changed);
        store.on('update', changed);
        store.on('delete', changed);
      }
    }
    await this.sync();
    if (this.repairTimer) clearInterval(this.repairTimer);
    this.repairTimer = setInterval(() => {
      void this.sync().catch((e: Error) => log.warn('network policy repair failed', { err: e.message }));
    }, REPAIR_INTERVAL_MS);
    this.repairTimer.unref();
  }

  /** Stops following the stores; the rules stay in place (pods stay protected while the agent restarts). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.repairTimer) clearInterval(this.repairTimer);
    this.timer = undefined;
    this.repairTimer = undefined;
  }

  /** Stops and removes the FORWARD jump and every chain with this enforcer's prefix. */
  async cleanup(): Promise<void> {
    this.stop();
    await this.enqueue(async () => {
      await this.iptables.removeJump('filter', 'FORWARD', this.topChain, this.jumpMatch());
      await this.iptables.deleteChains('filter', await this.iptables.chains('filter', this.prefix));
      this.lastApplied = undefined;
    });
  }

  /** Rewrites every rule now, even if nothing seems to have changed (a repair); resolves when applied. */
  sync(): Promise<void> {
    return this.enqueue(() => this.syncOnce(true));
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private changed(): void {
    if (this.stopped || !this.started) return;
    this.dirty = true;
    this.schedule(Math.max(0, this.lastSyncAt + this.minSyncIntervalMs - Date.now()));
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.syncing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.backgroundSync();
    }, delayMs);
  }

  private async backgroundSync(): Promise<void> {
    if (this.stopped) return;
    this.dirty = false;
    this.syncing = true;
    let failed = false;
    try {
      await this.enqueue(() => this.syncOnce(false));
    } catch (e) {
      failed = true;
      log.warn('network policy sync failed', { err: (e as Error).message });
    } finally {
      this.syncing = false;
    }
    if (failed) {
      this.dirty = true;
      this.schedule(Math.max(RETRY_MS, this.minSyncIntervalMs));
    } else if (this.dirty) {
      this.schedule(Math.max(0, this.lastSyncAt + this.minSyncIntervalMs - Date.now()));
    }
  }

  /** Unforced syncs skip iptables-restore when the rendered rules equal the last applied ones (pod status churn). */
  private async syncOnce(force: boolean): Promise<void> {
    this.lastSyncAt = Date.now();
    const started = Date.now();
    const { chains, rules } = buildPolicyRules(
      {
        networkPolicies: this.state.networkPolicies.list(),
        pods: this.state.pods.list(),
        namespaces: this.state.namespaces.list(),
        nodeName: this.config.nodeName,
      },
      { chainPrefix: this.prefix, bridge: this.config.bridge, nodeIP: this.config.nodeIP },
    );
    const text = [...chains, ...rules].join('\n');
    if (force || text !== this.lastApplied) {
      await this.iptables.restore('filter', chains, rules);
      // Chains of pods no longer isolated: unreferenced now that the top chain was rewritten.
      const stale = (await this.iptables.chains('filter', this.prefix)).filter((c) => !chains.includes(c));
      await this.iptables.deleteChains('filter', stale);
      this.lastApplied = text;
      log.v(1, 'network policy rules applied', { chains: chains.length, rules: rules.length, ms: Date.now() - started });
    }
    await this.ensureJumpFirst();
  }

  private jumpMatch(): string[] {
    return ['-m', 'comment', '--comment', JUMP_COMMENT];
  }

  /**
   * Our jump must come first in FORWARD, or Docker's ACCEPTs would let traffic bypass the
   * policies. Other Podium jumps (chains named PODIUM-...) may sit above it: they do not accept
   * pod traffic wholesale, and two components each insisting on position 1 would fight forever.
   */
  private async ensureJumpFirst(): Promise<void> {
    const { stdout } = await run(this.binary, ['-w', '-t', 'filter', '-S', 'FORWARD']);
    const appended = stdout.split('\n').filter((l) => l.startsWith('-A FORWARD '));
    const ours = appended.map((l, i) => (l.endsWith(` -j ${this.topChain}`) ? i + 1 : 0)).filter((n) => n > 0);
    const firstForeign = appended.findIndex((l) => !l.endsWith(` -j ${this.topChain}`) && !/ -j PODIUM-\S+$/.test(l)) + 1;
    const inPlace = ours.length === 1 && (firstForeign === 0 || ours[0] < firstForeign);
    if (inPlace) return;
    if (ours.length === 0) {
      await this.iptables.ensureJump('filter', 'FORWARD', this.topChain, this.jumpMatch(), true);
      log.v(1, 'network policy jump installed', { chain: this.topChain });
      return;
    }
    // Insert the new first copy before removing the old ones, so there is never a moment without it.
    await run(this.binary, ['-w', '-t', 'filter', '-I', 'FORWARD', '1', ...this.jumpMatch(), '-j', this.topChain]);
    for (const n of [...ours].sort((a, b) => b - a)) await run(this.binary, ['-w', '-t', 'filter', '-D', 'FORWARD', String(n + 1)]);
    log.info('network policy jump moved back to the top of FORWARD', { chain: this.topChain });
  }
}
