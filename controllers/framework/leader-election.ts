// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection with
// LeaseLock: take the lease when it is free or expired, renew it every retry period, and
// give up leadership when a renewal has not succeeded within the renew deadline.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Mutable } from '../../apimachinery/mutable.js';
import type { Logger } from '../../apimachinery/log.js';
import { ApiClient, isConflict, isNotFound } from './client.js';
import { sleep } from './informer.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION: Omit<LeaderElectionConfig, 'identity'> = {
  namespace: 'kube-system',
  name: 'kube-controller-manager',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  constructor(
    private readonly client: ApiClient,
    private readonly cfg: LeaderElectionConfig,
    private readonly log: Logger,
  ) {}

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.cfg.namespace}/leases`;
  }

  /** One acquire-or-renew attempt; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const spec = {
      holderIdentity: this.cfg.identity,
      leaseDurationSeconds: Math.round(this.cfg.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    let lease: Mutable<Lease>;
    try {
      lease = await this.client.get<Mutable<Lease>>(`${this.path}/${this.cfg.name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await this.client.create(this.path, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.cfg.name, namespace: this.cfg.namespace },
          spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const s = (lease.spec ??= {});
    const held = s.holderIdentity === this.cfg.identity;
    const renewed = s.renewTime ? Date.parse(s.renewTime) : 0;
    const duration = (s.leaseDurationSeconds ?? 15) * 1000;
    if (!held && s.holderIdentity && renewed + duration > now) return false;
    if (!held) {
      s.acquireTime = microTime(now);
      s.leaseTransitions = (s.leaseTransitions ?? 0) + 1;
    }
    Object.assign(s, spec);
    try {
      await this.client.update(`${this.path}/${this.cfg.name}`, lease);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /**
   * Loops until the signal aborts: waits to become leader, calls onStartedLeading with a
   * signal that aborts when leadership is lost, and keeps renewing. Losing the lease ends
   * the run (upstream's controller manager exits then; the supervisor restarts us).
   */
  async run(signal: AbortSignal, onStartedLeading: (leading: AbortSignal) => void, onStoppedLeading: () => void): Promise<void> {
    while (!signal.aborted) {
      const ok = await this.tryAcquireOrRenew().catch((e: Error) => {
        this.log.v(2, 'lease acquire failed', { error: e.message });
        return false;
      });
      if (ok) break;
      await sleep(this.cfg.retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    this.log.info('became leader', { lease: `${this.cfg.namespace}/${this.cfg.name}`, identity: this.cfg.identity });
    const leading = new AbortController();
    const stop = (): void => leading.abort();
    signal.addEventListener('abort', stop, { once: true });
    onStartedLeading(leading.signal);
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.cfg.retryPeriodMs, signal);
      if (signal.aborted) break;
      const ok = await this.tryAcquireOrRenew().catch((e: Error) => {
        this.log.warn('lease renew failed', { error: e.message });
        return false;
      });
      if (ok) lastRenew = Date.now();
      else if (Date.now() - lastRenew > this.cfg.renewDeadlineMs) {
        this.log.error('lost leadership', { lease: `${this.cfg.namespace}/${this.cfg.name}` });
        break;
      }
    }
    leading.abort();
    signal.removeEventListener('abort', stop);
    onStoppedLeading();
  }

  /** Gives the lease up on a clean shutdown so a successor need not wait for expiry. */
  async release(): Promise<void> {
    try {
      const lease = await this.client.get<Mutable<Lease>>(`${this.path}/${this.cfg.name}`);
      if (lease.spec?.holderIdentity !== this.cfg.identity) return;
      lease.spec.holderIdentity = undefined as unknown as string;
      lease.spec.leaseDurationSeconds = 1;
      await this.client.update(`${this.path}/${this.cfg.name}`, lease);
    } catch {
      // Best effort: the lease expires on its own.
    }
  }
}
