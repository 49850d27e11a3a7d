import { performance } from 'node:perf_hooks';

/** A checkpoint waits until no batch came for this long, so it does not fall into a burst of commits. */
export const CHECKPOINT_IDLE_MS = 10;
/**
 * Checkpoints at idle times are at least this far apart (each one syncs the database file); short enough
 * that under a steady load the WAL is checkpointed before it reaches SQLite's automatic checkpoint (1,000 pages).
 */
export const CHECKPOINT_MIN_INTERVAL_MS = 100;

/**
 * Runs the ledger's WAL checkpoints on the writer thread in the pauses between batches. SQLite's
 * automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages: copying them into
 * the database file and syncing it makes that commit several times slower, and a notification waits
 * for its commit before its first attempt. Here a checkpoint runs once the writer has been idle for CHECKPOINT_IDLE_MS and
 * the last one is CHECKPOINT_MIN_INTERVAL_MS old. Under a load that never pauses, SQLite's automatic
 * checkpoint still does the work, in small steps.
 */
export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private lastBatchAt = -Infinity;
  private lastCheckpointAt: number;
  /** Batches were committed since the last checkpoint. */
  private dirty = false;

  constructor(
    private readonly checkpoint: () => void,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.lastCheckpointAt = clock();
  }

  /** Call after each committed batch (once its answer is sent). */
  committed(): void {
    const now = this.clock();
    this.dirty = true;
    this.lastBatchAt = now;
    this.timer ??= setTimeout(() => this.whenIdle(), Math.max(CHECKPOINT_IDLE_MS, this.lastCheckpointAt + CHECKPOINT_MIN_INTERVAL_MS - now));
  }

  /** Checkpoint now if anything was committed since the last one. */
  run(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastCheckpointAt = this.clock();
    this.checkpoint();
  }

  /** Stop waiting for idleness (the connection is closing; closing checkpoints anyway). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private whenIdle(): void {
    this.timer = undefined;
    const now = this.clock();
    const wait = Math.max(this.lastBatchAt + CHECKPOINT_IDLE_MS, this.lastCheckpointAt + CHECKPOINT_MIN_INTERVAL_MS) - now;
    if (wait <= 0) this.run();
    else this.timer = setTimeout(() => this.whenIdle(), wait);
  }
}
