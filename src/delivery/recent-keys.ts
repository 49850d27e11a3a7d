/** At most this many keys are remembered (about 7 MB of heap); past it the oldest go and the index knows less. */
export const RECENT_KEYS_CAP = 50_000;

/**
 * The notification keys the ledger may hold deliveries for, with when their
 * newest delivery was created, oldest first. It answers one question
 * conservatively: "can the ledger hold no delivery with this key created
 * since T?" A yes is certain (every key accepted or replayed since
 * `knownSince` is here); a no only means "ask the ledger". Keys go when
 * they are older than the window asked about, or past the cap; either way
 * `knownSince` moves up, so a forgotten key can never be taken for new.
 */
export class RecentKeys {
  private readonly keys = new Map<string, number>();

  /** @param knownSince every key with a delivery created at or after this time is (or will be) added. */
  constructor(
    private knownSince: number,
    private readonly cap = RECENT_KEYS_CAP,
  ) {}

  /** A delivery with `key` was (or is about to be) created at `at`. */
  add(key: string, at: number): void {
    // Re-inserted so that the Map's order stays the order of the newest delivery of each key.
    this.keys.delete(key);
    this.keys.set(key, at);
    if (this.keys.size > this.cap) this.dropOldest();
  }

  /** True when no delivery with `key` created at or after `since` can exist. */
  isNew(key: string, since: number): boolean {
    this.forgetBefore(since);
    return since >= this.knownSince && !this.keys.has(key);
  }

  /** Keys remembered (tests). */
  get size(): number {
    return this.keys.size;
  }

  private forgetBefore(since: number): void {
    for (const [key, at] of this.keys) {
      if (at >= since) return;
      this.keys.delete(key);
      // A later question about an earlier time (a longer window after a reload) cannot be answered from here.
      this.knownSince = Math.max(this.knownSince, at + 1);
    }
  }

  private dropOldest(): void {
    const oldest = this.keys.entries().next().value;
    if (!oldest) return;
    this.keys.delete(oldest[0]);
    this.knownSince = Math.max(this.knownSince, oldest[1] + 1);
  }
}
