// Node heartbeats, as upstream: the Lease kube-node-lease/<node> renewed every 10 s with
// leaseDurationSeconds 40 (the cheap liveness signal the node lifecycle controller reads),
// and the Node's conditions re-posted less often (nodeStatusReportFrequency). The first
// tick of each node is jittered so a hundred simulated nodes do not renew in lockstep.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import type { Mutable } from '../apimachinery/mutable.js';
import { logger } from '../apimachinery/log.js';
import { isConflict, isNotFound, type ApiClient } from './api.js';
import { postNodeConditions } from './node-registration.js';

const log = logger('lease');

export const LEASE_NAMESPACE = 'kube-node-lease';
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 7000;

export interface HeartbeatOptions {
  renewIntervalMs?: number;
  leaseDurationSeconds?: number;
  statusReportIntervalMs?: number;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class NodeHeartbeat {
  private lease?: Lease;
  private conditions?: readonly NodeCondition[];
  private leaseTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly failures = { lease: 0, status: 0 };
  renewals = 0;
  private readonly renewMs: number;
  private readonly durationS: number;
  private readonly statusMs: number;

  constructor(
    private readonly api: ApiClient,
    private readonly node: Node,
    o: HeartbeatOptions = {},
  ) {
    this.renewMs = o.renewIntervalMs ?? 10_000;
    this.durationS = o.leaseDurationSeconds ?? 40;
    this.statusMs = o.statusReportIntervalMs ?? 60_000;
    this.conditions = node.status?.conditions;
  }

  get nodeName(): string {
    return this.node.metadata?.name ?? '';
  }

  async start(): Promise<void> {
    await this.renew();
    this.schedule('lease', Math.random() * this.renewMs);
    this.schedule('status', this.statusMs * (0.5 + Math.random() / 2));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.leaseTimer);
    clearTimeout(this.statusTimer);
  }

  private schedule(which: 'lease' | 'status', delayMs: number): void {
    if (this.stopped) return;
    const tick = async (): Promise<void> => {
      let next = which === 'lease' ? this.renewMs : this.statusMs;
      try {
        if (which === 'lease') await this.renew();
        else this.conditions = (await postNodeConditions(this.api, this.nodeName, this.conditions)).status?.conditions;
        if (this.failures[which]) log.info(`${which} heartbeat resumed`, { node: this.nodeName, failedAttempts: this.failures[which] });
        this.failures[which] = 0;
      } catch (err) {
        // The first failure of a streak is a warning; the retries of an outage are detail.
        if (this.failures[which]++ === 0) log.warn(`${which} heartbeat failed; retrying`, { node: this.nodeName, error: (err as Error).message });
        else log.v(2, `${which} heartbeat failed again`, { node: this.nodeName, attempts: this.failures[which], error: (err as Error).message });
        // Upstream's lease controller retries a failed renewal at once with a short back-off
        // (200 ms doubling to 7 s), so a node comes back soon after the API server does.
        if (which === 'lease') next = Math.min(next, RETRY_MIN_MS * 2 ** Math.min(this.failures.lease - 1, 10), RETRY_MAX_MS);
      }
      this.schedule(which, next);
    };
    const timer = setTimeout(() => void tick(), delayMs);
    if (which === 'lease') this.leaseTimer = timer;
    else this.statusTimer = timer;
  }

  /** Creates the Lease if missing, else updates its renewTime (re-reading it after a conflict). */
  async renew(): Promise<void> {
    const name = this.nodeName;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases/${encodeURIComponent(name)}`;
    const now = microTime(Date.now());
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.lease) {
        try {
          this.lease = await this.api.get<Lease>(path);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          this.lease = await this.api.create<Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, this.newLease(now));
          this.renewals++;
          return;
        }
      }
      const next = structuredClone(this.lease) as Mutable<Lease>;
      next.spec = { ...next.spec, holderIdentity: name, leaseDurationSeconds: this.durationS, renewTime: now };
      try {
        this.lease = await this.api.replace<Lease>(path, next);
        this.renewals++;
        return;
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        this.lease = undefined;
      }
    }
    throw new Error(`could not renew lease ${LEASE_NAMESPACE}/${name}: repeated conflicts`);
  }

  private newLease(now: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.nodeName,
        namespace: LEASE_NAMESPACE,
        // Owned by the Node, so deleting the Node collects its Lease.
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: this.node.metadata?.uid ?? '' }],
      },
      spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.durationS, acquireTime: now, renewTime: now },
    };
  }
}
