import { performance } from 'node:perf_hooks';
import { storageFailure } from './ledger-health.js';
import { storedDeliveries, type StoredDeliveries } from './records.js';
import type { Ledger } from './ledger.js';
import type { AcceptBatchItem, DeliveryUpdate } from './types.js';

/** What the writer reports about each batch, besides resolving or rejecting its accepts. */
export interface WriteListener {
  /** These updates could not be written (a failed batch of accepts alone reports none). */
  failed(err: Error, updates: readonly DeliveryUpdate[]): void;
  /** These updates are committed. */
  written(updates: readonly DeliveryUpdate[]): void;
  /**
   * These updates were not applied: this replica's lease on their deliveries had expired and another replica
   * took them (a shared ledger). They are that replica's now: never kept or written again.
   */
  lost(updates: readonly DeliveryUpdate[]): void;
  /** A batch committed whole: accepts and updates. */
  ok(): void;
}

interface PendingAccept extends AcceptBatchItem {
  resolve(records: StoredDeliveries): void;
  reject(err: unknown): void;
}

/** Most accepts committed together; more wait for the next transaction. */
const MAX_ACCEPTS = 64;
const MAX_UPDATES = 500;
/** Accepts arriving sooner than this after the last commit wait for the end of the event-loop turn. */
const GROUP_AFTER_MS = 2;
/**
 * Outcome updates wait up to this long for an accept to ride along with. Committing them at the end
 * of each turn cost a batch (and a message to the writer thread) per answer that came back, which
 * under load was most of the main thread's CPU per notification.
 */
const UPDATES_WAIT_MS = 50;

/**
 * Group commit for the ledger: accepts and delivery updates queue up and are
 * written in one transaction (a commit costs about as much as the rows in it,
 * so grouping divides that cost by the batch size). One batch is
 * committed at a time; what arrives meanwhile waits for the next one, so the
 * batches grow with the load. A lone accept with nothing in flight commits at
 * once. An accept resolves only once its transaction committed, so the webhook
 * is still answered 2xx only after the commit. Updates need no wait: they ride
 * along with the next accept, or go alone after UPDATES_WAIT_MS; one lost in a
 * crash only means a delivery is attempted again (at least once). Updates that
 * could not be written are reported to the listener (which keeps them), never
 * queued again here.
 */
export class LedgerWriter {
  private accepts: PendingAccept[] = [];
  private updates: DeliveryUpdate[] = [];
  private scheduled?: NodeJS.Immediate;
  private updatesTimer?: NodeJS.Timeout;
  private lastCommit = -Infinity;
  /** The batch being committed, if any. */
  private committing?: Promise<void>;

  constructor(
    private readonly store: Pick<Ledger, 'write'>,
    private readonly listener: WriteListener,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Queue a notification and its deliveries; resolves with the stored records after the commit, rejects if it
   * failed. `endOfTurn`: nothing waits for this commit to start, so it goes with the rest of the turn.
   */
  accept(item: AcceptBatchItem, endOfTurn = false): Promise<StoredDeliveries> {
    const done = new Promise<StoredDeliveries>((resolve, reject) => this.accepts.push({ ...item, resolve, reject }));
    // Light load: commit now, so a lone notification never waits for the end of the turn (that wait showed in the
    // p50). Heavy load (commits less than GROUP_AFTER_MS apart): group.
    if (this.accepts.length >= MAX_ACCEPTS || (!endOfTurn && this.clock() - this.lastCommit >= GROUP_AFTER_MS)) this.commitNext();
    else this.schedule();
    return done;
  }

  push(update: DeliveryUpdate): void {
    this.updates.push(update);
    if (this.updates.length >= MAX_UPDATES) this.commitNext();
    else this.waitForUpdates();
  }

  /** Resolves once everything queued before the call is committed (or failed). */
  async flush(): Promise<void> {
    while (this.committing || this.accepts.length || this.updates.length) {
      this.commitNext();
      await this.committing;
    }
  }

  /** Start committing what is queued, unless a batch is being committed (its end starts the next). */
  private commitNext(): void {
    if (this.committing) return;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    clearTimeout(this.updatesTimer);
    this.updatesTimer = undefined;
    if (!this.accepts.length && !this.updates.length) return;
    const accepts = this.accepts;
    const updates = this.updates;
    this.accepts = [];
    this.updates = [];
    this.lastCommit = this.clock();
    const done = () => {
      this.committing = undefined;
      // Accepts queued meanwhile go at the end of this turn, with whatever else the turn brings; updates alone wait.
      if (this.accepts.length) this.schedule();
      else if (this.updates.length) this.waitForUpdates();
    };
    this.committing = this.store
      .write({
        accepts: accepts.map(({ notification, deliveries, inFlight, dedup }) => ({ notification, deliveries, inFlight, dedup })),
        updates,
      })
      .then(
        ({ accepted, updateError, updateCode, lost }) => {
          done();
          let acceptError: Error | undefined;
          accepts.forEach((a, i) => {
            const stored = accepted[i];
            if (stored && 'seqs' in stored) a.resolve(storedDeliveries(a.deliveries, stored));
            else {
              const err = storageFailure(stored?.error ?? 'not committed', stored?.code);
              acceptError ??= err;
              a.reject(err);
            }
          });
          if (updateError) return this.listener.failed(storageFailure(updateError, updateCode), updates);
          if (lost?.length) {
            const ids = new Set(lost);
            this.listener.lost(updates.filter((u) => ids.has(u.id)));
            const applied = updates.filter((u) => !ids.has(u.id));
            if (applied.length) this.listener.written(applied);
          } else if (updates.length) this.listener.written(updates);
          if (acceptError) this.listener.failed(acceptError, []);
          else if (accepts.length || updates.length) this.listener.ok();
        },
        (err: unknown) => {
          done();
          for (const a of accepts) a.reject(err);
          this.listener.failed(err instanceof Error ? err : new Error(String(err)), updates);
        },
      );
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.commitNext();
    });
  }

  /** Updates alone wait for an accept to ride with, at most UPDATES_WAIT_MS. */
  private waitForUpdates(): void {
    if (this.updatesTimer || this.scheduled) return;
    this.updatesTimer = setTimeout(() => {
      this.updatesTimer = undefined;
      this.commitNext();
    }, UPDATES_WAIT_MS);
    // Never what keeps the process alive: close() flushes.
    this.updatesTimer.unref();
  }
}
