import { dedupLane, needsUpdate, type DedupEntry, type DedupState } from './dedup.js';

/** At most this many fingerprints are remembered (a few MB of heap); past it the oldest lanes go and the index knows less. */
export const DEDUP_INDEX_CAP = 200_000;

/** A lane's state, or `known: false`: an accept of it is on its way whose outcome only the ledger knows. */
interface Remembered extends DedupState {
  readonly known: boolean;
}

/**
 * The dedup state of the lanes accepted within the window, as the ledger will hold it once the
 * accepts claimed so far commit, oldest first. It answers one question conservatively: "is this
 * notification certainly not a duplicate for any of its targets?" A yes is certain (every lane
 * accepted since `knownSince` is here); a no only means "let the ledger decide in the commit".
 * Lanes go when they are older than the window asked about, or past the cap; either way
 * `knownSince` moves up, so a forgotten lane can never be taken for one without a state.
 */
export class DedupIndex {
  private readonly lanes = new Map<string, Remembered>();
  private size = 0;

  /** @param knownSince every lane accepted at or after this time is (or will be) set. */
  constructor(
    private knownSince: number,
    private readonly cap = DEDUP_INDEX_CAP,
  ) {}

  /** A lane's state as accepted (or about to be) at `state.at`. */
  set(lane: string, state: DedupState, known = true): void {
    this.remove(lane);
    this.lanes.set(lane, { firing: state.firing, resolved: state.resolved, at: state.at, known });
    this.size += weight(state);
    while (this.size > this.cap && this.lanes.size > 1) this.dropOldest();
  }

  /**
   * Note an accept at `at` with these entries (undefined: a delivery that takes no part). True when
   * none of them can be a duplicate (nflog's rule, with `since` the start of the window): its
   * attempts may start before the commit. The states it will leave are remembered either way.
   */
  claim(entries: ReadonlyArray<DedupEntry | undefined>, at: number, since: number): boolean {
    this.forgetBefore(since);
    let certain = true;
    for (const entry of entries) {
      if (!entry) continue;
      const lane = dedupLane(entry);
      const last = this.lanes.get(lane);
      const unknown = last ? !last.known : since < this.knownSince;
      if (unknown && !entry.repeat) {
        // The commit decides; until this lane leaves the window, only the ledger knows its state.
        this.set(lane, { firing: [], resolved: [], at }, false);
        certain = false;
      } else if (needsUpdate(last, entry, since)) this.set(lane, { firing: entry.firing, resolved: entry.resolved, at });
      else certain = false;
    }
    return certain;
  }

  /** Lanes remembered (tests). */
  get lanesCount(): number {
    return this.lanes.size;
  }

  private remove(lane: string): void {
    const old = this.lanes.get(lane);
    if (!old) return;
    this.lanes.delete(lane);
    this.size -= weight(old);
  }

  private forgetBefore(since: number): void {
    for (const [lane, state] of this.lanes) {
      if (state.at >= since) return;
      this.remove(lane);
      // A later question about an earlier time (a longer window after a reload) cannot be answered from here.
      this.knownSince = Math.max(this.knownSince, state.at + 1);
    }
  }

  private dropOldest(): void {
    const oldest = this.lanes.entries().next().value;
    if (!oldest) return;
    this.remove(oldest[0]);
    this.knownSince = Math.max(this.knownSince, oldest[1].at + 1);
  }
}

function weight(state: DedupState): number {
  return 1 + state.firing.length + state.resolved.length;
}
