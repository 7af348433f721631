// The node's service proxy (kube-proxy, iptables mode): keeps the nat and filter chains of
// iptables-rules.ts in step with the Services and EndpointSlices caches. Every sync rewrites all
// of its chains in one iptables-restore per table, so packets never see a half-applied state.
import { readdir, writeFile } from 'node:fs/promises';
import { logger } from '../../apimachinery/log.js';
import { Iptables, type Table } from '../iptables/iptables.js';
import type { ClusterState, NodeNetworkConfig } from '../network/types.js';
import { computeProxyRules, DEFAULT_CHAIN_PREFIX, DEFAULT_MASQUERADE_MARK, isProxyChain, jumpRules, type TableRules } from './iptables-rules.js';

const log = logger('service-proxy');

export interface ServiceProxyOptions {
  /** Default 'PODIUM-'. Only chains of this proxy's name shapes under the prefix are ever touched. */
  chainPrefix?: string;
  iptables?: Iptables;
  /** Least time between two syncs; changes within it are coalesced into one. Default 100 ms. */
  minSyncIntervalMs?: number;
  /** Full re-sync period that repairs rules changed behind our back. Default 30 s. */
  resyncIntervalMs?: number;
  /** Default 0x4000 (kube-proxy's). */
  masqueradeMark?: number;
  /** Set route_localnet / ip_forward / bridge-nf-call-iptables on start. Default true. */
  setSysctls?: boolean;
}

export interface SyncResult {
  /** When the sync that covers the change finished (ms epoch). */
  at: number;
  durationMs: number;
  staleChainsDeleted: number;
}

export class ServiceProxy {
  private readonly prefix: string;
  private readonly iptables: Iptables;
  private readonly minSyncIntervalMs: number;
  private readonly resyncIntervalMs: number;
  private running = false;
  private dirty = false;
  private syncing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private lastSyncStart = 0;
  private jumpsEnsured = false;
  private listening = false;
  private readonly syncListeners: Array<(r: SyncResult) => void> = [];

  constructor(
    private readonly state: Pick<ClusterState, 'services' | 'endpointSlices'>,
    private readonly config: NodeNetworkConfig,
    private readonly options: ServiceProxyOptions = {},
  ) {
    this.prefix = options.chainPrefix ?? DEFAULT_CHAIN_PREFIX;
    this.iptables = options.iptables ?? new Iptables();
    this.minSyncIntervalMs = options.minSyncIntervalMs ?? 100;
    this.resyncIntervalMs = options.resyncIntervalMs ?? 30_000;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.setSysctls !== false) await this.setSysctls();
    if (!this.listening) {
      // ObjectStore has no way to unsubscribe; the handler checks `running` instead.
      this.listening = true;
      const onChange = () => this.requestSync();
      for (const ev of ['add', 'update', 'delete'] as const) {
        this.state.services.on(ev, onChange);
        this.state.endpointSlices.on(ev, onChange);
      }
    }
    // The first sync declares the chains, so the jumps into them can be added afterwards
    // (after a restart they already exist and traffic keeps flowing throughout).
    try {
      await this.syncNow();
    } catch (e) {
      this.running = false;
      throw e;
    }
    this.resyncTimer = setInterval(() => {
      this.jumpsEnsured = false;
      this.requestSync();
    }, this.resyncIntervalMs);
    this.resyncTimer.unref?.();
  }

  /** Stops syncing; the rules stay so service traffic survives an agent restart. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.timer = undefined;
    this.resyncTimer = undefined;
    await this.syncing?.catch(() => undefined);
  }

  /** Removes the jumps and every chain of this proxy (uninstall, tests). */
  async cleanup(): Promise<void> {
    await this.stop();
    for (const j of jumpRules(this.prefix)) await this.iptables.removeJump(j.table, j.from, j.to, j.match);
    for (const table of ['nat', 'filter'] as const) {
      const owned = (await this.iptables.chains(table, this.prefix)).filter((c) => isProxyChain(this.prefix, c));
      await this.iptables.deleteChains(table, owned);
    }
    this.jumpsEnsured = false;
  }

  /** Called after each successful sync (tests measure change-to-rules latency with it). */
  onSync(fn: (r: SyncResult) => void): void {
    this.syncListeners.push(fn);
  }

  /** Syncs now (waiting for a sync already running, then running a fresh one). */
  async syncNow(): Promise<void> {
    while (this.syncing) await this.syncing.catch(() => undefined);
    this.dirty = false;
    this.syncing = this.sync().finally(() => {
      this.syncing = undefined;
      // Changes that arrived while this sync ran.
      if (this.dirty) this.requestSync();
    });
    await this.syncing;
  }

  private requestSync(): void {
    if (!this.running) return;
    this.dirty = true;
    if (this.timer || this.syncing) return;
    const wait = Math.max(0, this.lastSyncStart + this.minSyncIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running || !this.dirty) return;
      this.dirty = false;
      this.syncing = this.sync()
        .catch((e: unknown) => {
          log.warn('service proxy sync failed; retrying', { error: (e as Error).message });
          this.dirty = true;
          this.lastSyncStart = Date.now() + 1000;
        })
        .finally(() => {
          this.syncing = undefined;
          if (this.dirty) this.requestSync();
        });
    }, wait);
  }

  private async sync(): Promise<void> {
    const start = Date.now();
    this.lastSyncStart = start;
    const rules = computeProxyRules({
      services: this.state.services.list(),
      endpointSlices: this.state.endpointSlices.list(),
      config: this.config,
      chainPrefix: this.prefix,
      masqueradeMark: this.options.masqueradeMark ?? DEFAULT_MASQUERADE_MARK,
    });
    let stale = 0;
    // nat first: once the DNAT exists, dropping the filter REJECT can only help.
    stale += await this.apply('nat', rules.nat);
    stale += await this.apply('filter', rules.filter);
    if (!this.jumpsEnsured) {
      for (const j of jumpRules(this.prefix)) await this.iptables.ensureJump(j.table, j.from, j.to, j.match, true);
      this.jumpsEnsured = true;
    }
    const result = { at: Date.now(), durationMs: Date.now() - start, staleChainsDeleted: stale };
    log.v(1, 'service proxy synced', { durationMs: result.durationMs, natRules: rules.nat.rules.length, filterRules: rules.filter.rules.length, stale });
    for (const fn of this.syncListeners) fn(result);
  }

  /** One restore that rewrites the wanted chains and deletes this proxy's chains no longer wanted. */
  private async apply(table: Table, wanted: TableRules): Promise<number> {
    const want = new Set(wanted.chains);
    const stale = (await this.iptables.chains(table, this.prefix)).filter((c) => isProxyChain(this.prefix, c) && !want.has(c));
    // Stale chains are declared (flushed) before their -X, since a chain still holding jumps
    // to another stale chain could not be deleted.
    await this.iptables.restore(table, [...wanted.chains, ...stale], [...wanted.rules, ...stale.map((c) => `-X ${c}`)]);
    return stale.length;
  }

  private async setSysctls(): Promise<void> {
    const settings: Array<[string, string]> = [
      // NodePorts on 127.0.0.1: lets DNAT send loopback-sourced packets out to a pod.
      ['/proc/sys/net/ipv4/conf/all/route_localnet', '1'],
      ['/proc/sys/net/ipv4/ip_forward', '1'],
      // Pod-to-service traffic between pods on the same bridge must pass through iptables.
      ['/proc/sys/net/bridge/bridge-nf-call-iptables', '1'],
    ];
    for (const [file, value] of settings) {
      await writeFile(file, value).catch((e: unknown) => log.warn('could not set sysctl', { file, error: (e as Error).message }));
    }
  }
}

/**
 * Puts every port of the bridge in hairpin mode so a pod reaching itself through its Service
 * (DNAT back to its own address) gets the frame sent back out the port it came in on. Call after
 * each pod sandbox joins the bridge. Returns the ports changed.
 */
export async function enableHairpin(bridge: string): Promise<string[]> {
  const dir = `/sys/class/net/${bridge}/brif`;
  const ports = await readdir(dir).catch(() => [] as string[]);
  const changed: string[] = [];
  for (const port of ports) {
    try {
      await writeFile(`${dir}/${port}/hairpin_mode`, '1');
      changed.push(port);
    } catch (e) {
      // The port may have left the bridge since readdir (its pod stopped).
      log.v(1, 'could not set hairpin mode', { bridge, port, error: (e as Error).message });
    }
  }
  return changed;
}
