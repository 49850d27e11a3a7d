/**
 * The leases this replica holds and has not settled, renewed on a timer (every third of the lease) while it lives:
 * a renewal that finds a lease gone (it expired and another replica took the delivery, or it was deleted) reports
 * it lost and forgets it.
 */
export class LeaseRenewal {
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      leaseMs: number;
      now: () => number;
      /** Extend these leases to `until`; returns the ids still held. */
      renew(ids: readonly string[], until: number): Promise<readonly string[]>;
      lost(ids: readonly string[]): void;
      failed(err: unknown): void;
    },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.renew(this.deps.now()).catch((err: unknown) => this.deps.failed(err)), Math.max(1, Math.floor(this.deps.leaseMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(ids: Iterable<string>): void {
    for (const id of ids) this.held.add(id);
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) this.held.delete(id);
  }

  ids(): string[] {
    return [...this.held];
  }

  /** Renew every held lease to `now` + the lease; returns the ids found lost. */
  async renew(now: number): Promise<string[]> {
    const ids = this.ids();
    if (!ids.length) return [];
    const kept = new Set(await this.deps.renew(ids, now + this.deps.leaseMs));
    const lost = ids.filter((id) => !kept.has(id) && this.held.has(id));
    if (lost.length) {
      this.remove(lost);
      this.deps.lost(lost);
    }
    return lost;
  }
}
