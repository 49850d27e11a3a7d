import { dedupLane, needsUpdate, type DedupEntry, type DedupState } from './dedup.js';

/**
 * The most heap the index takes, as estimated by `laneBytes`; past it the oldest lanes go and the index knows less (a
 * notification of a lane it no longer knows waits for its commit before its attempts start): about 44,000 lanes with
 * group keys of 80 characters, 73,000 with short ones (measured on Node 20: 16.4 and 15.6 MB of heap).
 */
export const DEDUP_INDEX_BYTES = 16 * 1024 * 1024;
/** The most dedup states loaded from the ledger at the first claim: more than the budget could hold. */
export const DEDUP_INDEX_LOAD = Math.ceil(DEDUP_INDEX_BYTES / 200);

/**
 * A lane's heap besides its key (the map entry, the state object and its time), and per character of its key: fitted to
 * V8 heap snapshots of the index with short and long group keys.
 */
const LANE_BYTES = 170;
const KEY_CHAR_BYTES = 2;
/** A fingerprint list of its own: the array, its store, and per fingerprint a slot and a 16-character string. */
const LIST_BYTES = 48;
const FINGERPRINT_BYTES = 40;

/** Estimated heap of a lane keyed `lane`, its lists aside. */
export function laneBytes(lane: string): number {
  return LANE_BYTES + KEY_CHAR_BYTES * lane.length;
}

/** Estimated heap of a fingerprint list a lane brings (none for the empty one, which all share). */
export function listBytes(list: readonly string[]): number {
  return list === NONE ? 0 : LIST_BYTES + FINGERPRINT_BYTES * list.length;
}

const NONE: readonly string[] = Object.freeze([]);

/** A lane's state, or `known: false`: an accept of it is on its way whose outcome only the ledger knows. */
class Remembered implements DedupState {
  constructor(
    readonly firing: readonly string[],
    readonly resolved: readonly string[],
    readonly at: number,
    readonly known: boolean,
    /** What it added to the index's estimate. */
    readonly bytes: number,
  ) {}
}

/**
 * The dedup state of the lanes accepted within the window, as the ledger will hold it once the
 * accepts claimed so far commit, oldest first. It answers one question conservatively: "is this
 * notification certainly not a duplicate for any of its targets?" A yes is certain (every lane
 * accepted since `knownSince` is here); a no only means "let the ledger decide in the commit".
 * Lanes go when they are older than the window asked about, or past the budget; either way
 * `knownSince` moves up, so a forgotten lane can never be taken for one without a state.
 */
export class DedupIndex {
  private readonly lanes = new Map<string, Remembered>();
  /** The estimated heap of what is remembered. */
  private bytes = 0;
  /** The lane stored last: the next one (another target of the same notification, mostly) shares its lists. */
  private last = new Remembered(NONE, NONE, 0, false, 0);

  /**
   * @param knownSince every lane accepted at or after this time is (or will be) set.
   * @param budget the most heap it takes (estimated), in bytes.
   */
  constructor(
    private knownSince: number,
    private readonly budget = DEDUP_INDEX_BYTES,
  ) {}

  /** A lane's state as accepted (or about to be) at `state.at`. */
  set(lane: string, state: DedupState, known = true): void {
    this.remove(lane);
    const firing = share(state.firing, this.last.firing);
    const resolved = share(state.resolved, this.last.resolved);
    // A list shared with the last lane is counted once, with that lane.
    let bytes = laneBytes(lane);
    if (firing !== this.last.firing) bytes += listBytes(firing);
    if (resolved !== this.last.resolved) bytes += listBytes(resolved);
    this.last = new Remembered(firing, resolved, state.at, known, bytes);
    this.lanes.set(lane, this.last);
    this.bytes += this.last.bytes;
    while (this.bytes > this.budget && this.lanes.size > 1) this.dropOldest();
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
        this.set(lane, { firing: NONE, resolved: NONE, at }, false);
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
    this.bytes -= old.bytes;
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

/**
 * `list`, or the equal list the last lane stored: each target's entry brings lists of its own, mostly with the same
 * fingerprints as the other targets'.
 */
function share(list: readonly string[], stored: readonly string[]): readonly string[] {
  if (list.length === 0) return NONE;
  if (list === stored) return stored;
  if (list.length !== stored.length) return list;
  for (let i = 0; i < list.length; i++) if (list[i] !== stored[i]) return list;
  return stored;
}
