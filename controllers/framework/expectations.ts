// client-go's ControllerExpectations: after a controller asks for N creations or deletions
// it must not act on the same key again until its informer has observed them (or a TTL
// passes, in case a watch event was lost), or a lagging cache would make it create or
// delete the same pods twice.
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  timestamp: number;
}

export class ControllerExpectations {
  private readonly store = new Map<string, Expectation>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when the controller may sync this key: expectations met, expired, or never set. */
  satisfiedExpectations(key: string): boolean {
    const e = this.store.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.now() - e.timestamp > EXPECTATIONS_TTL_MS;
  }

  setExpectations(key: string, add: number, del: number): void {
    this.store.set(key, { add, del, timestamp: this.now() });
  }

  expectCreations(key: string, n: number): void {
    this.setExpectations(key, n, 0);
  }

  expectDeletions(key: string, n: number): void {
    this.setExpectations(key, 0, n);
  }

  creationObserved(key: string): void {
    this.lower(key, 1, 0);
  }

  deletionObserved(key: string): void {
    this.lower(key, 0, 1);
  }

  /** Lowers expectations, e.g. when a create we expected failed. */
  lower(key: string, add: number, del: number): void {
    const e = this.store.get(key);
    if (!e) return;
    e.add -= add;
    e.del -= del;
  }

  deleteExpectations(key: string): void {
    this.store.delete(key);
  }

  get(key: string): { add: number; del: number } | undefined {
    const e = this.store.get(key);
    return e ? { add: e.add, del: e.del } : undefined;
  }
}

/**
 * Deletions are tracked per pod key, as UIDTrackingControllerExpectations, so that a pod
 * deleted twice (our delete plus its final DELETED watch event after graceful termination)
 * is counted once.
 */
export class UIDTrackingExpectations extends ControllerExpectations {
  private readonly uids = new Map<string, Set<string>>();

  expectDeletionsFor(key: string, podKeys: string[]): void {
    this.uids.set(key, new Set(podKeys));
    this.expectDeletions(key, podKeys.length);
  }

  deletionObservedFor(key: string, podKey: string): void {
    const set = this.uids.get(key);
    if (set?.delete(podKey)) this.deletionObserved(key);
  }

  override deleteExpectations(key: string): void {
    super.deleteExpectations(key);
    this.uids.delete(key);
  }
}
