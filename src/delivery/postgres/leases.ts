/** What lease renewal needs from the ledger. */
export interface LeaseDeps {
  replica: string;
  leaseMs: number;
  everyMs: number;
  now: () => number;
  /** Extend these leases to `until` where this replica still holds them; returns the ids renewed. */
  renew(ids: string[], until: number): Promise<string[]>;
  /** Leases found gone (another replica took them after they expired). */
  lost(ids: string[]): void;
}

/**
 * The leases this replica holds and has not settled, renewed on an unref'd timer every third of the lease while
 * it lives. A lease found gone at renewal is reported lost (its outcome will be listed in `WriteResult.lost`).
 * A renewal that fails (database unreachable) is tried again at the next tick; the lease may expire meanwhile,
 * which is what lets another replica take over a replica cut off from the database.
 */
export class Leases {
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(private readonly deps: LeaseDeps) {}

  hold(ids: readonly string[]): void {
    for (const id of ids) this.held.add(id);
  }

  /** The attempt is over (an outcome is being written) or was given back: no more renewals. */
  settle(ids: readonly string[]): void {
    for (const id of ids) this.held.delete(id);
  }

  /** Everything held, forgetting it (close gives them back). */
  take(): string[] {
    const ids = [...this.held];
    this.held.clear();
    return ids;
  }

  get size(): number {
    return this.held.size;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  start(): void {
    this.timer = setInterval(() => void this.renew(), this.deps.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Renew every lease held now; report the ones gone. */
  async renew(): Promise<void> {
    if (this.renewing || !this.held.size) return;
    this.renewing = true;
    try {
      const ids = [...this.held];
      const renewed = new Set(await this.deps.renew(ids, this.deps.now() + this.deps.leaseMs));
      // Settled meanwhile: not lost.
      const gone = ids.filter((id) => !renewed.has(id) && this.held.has(id));
      if (gone.length) {
        this.settle(gone);
        this.deps.lost(gone);
      }
    } catch {
      // Unreachable: reported by the ledger; the next tick tries again.
    } finally {
      this.renewing = false;
    }
  }
}
