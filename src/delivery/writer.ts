import { performance } from 'node:perf_hooks';
import type { AcceptBatchItem, DeliveryRecord, DeliveryUpdate, Store } from './types.js';

interface PendingAccept extends AcceptBatchItem {
  resolve(records: DeliveryRecord[]): void;
  reject(err: unknown): void;
}

/** Most accepts committed together; more wait for the next transaction. */
const MAX_ACCEPTS = 64;
const MAX_UPDATES = 500;
/** Accepts arriving sooner than this after the last commit wait for the end of the event-loop turn. */
const GROUP_AFTER_MS = 2;

/**
 * Group commit for the ledger: the accepts and delivery updates queued in one
 * event-loop turn are written in one transaction (measured: 5 deliveries per
 * notification, 251 µs per notification committed alone, 85 µs in groups of 16).
 * An accept resolves only once its transaction committed, so the webhook is
 * still answered 2xx only after the commit. Updates need no wait: one lost in
 * a crash only means a delivery is attempted again (at least once).
 */
export class LedgerWriter {
  private accepts: PendingAccept[] = [];
  private updates: DeliveryUpdate[] = [];
  private scheduled?: NodeJS.Immediate;
  private lastCommit = -Infinity;
  /** Notification key → targets of accepts not yet committed (for dedup before the commit). */
  private readonly queuedKeys = new Map<string, Set<string>>();

  constructor(
    private readonly store: Store,
    private readonly inFlight: () => ReadonlySet<string>,
    private readonly onUpdateError: (err: unknown, count: number) => void,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Queue a notification and its deliveries; resolves with the stored records after the commit, rejects if it failed. */
  accept(item: AcceptBatchItem): Promise<DeliveryRecord[]> {
    const targets = new Set(item.deliveries.filter((d) => d.state === 'pending').map((d) => d.target));
    const queued = this.queuedKeys.get(item.notification.key);
    if (queued) for (const t of targets) queued.add(t);
    else this.queuedKeys.set(item.notification.key, targets);
    const done = new Promise<DeliveryRecord[]>((resolve, reject) => this.accepts.push({ ...item, resolve, reject }));
    // Light load: commit now, so a lone notification never waits for the end of the turn (measured +10 ms p50
    // at 130 notifications/s). Heavy load (commits less than GROUP_AFTER_MS apart): group to the end of the turn.
    if (this.accepts.length >= MAX_ACCEPTS || this.clock() - this.lastCommit >= GROUP_AFTER_MS) this.flush();
    else this.schedule();
    return done;
  }

  /** Targets that a queued (not yet committed) accept of this notification key already covers. */
  queuedTargets(key: string): ReadonlySet<string> | undefined {
    return this.queuedKeys.get(key);
  }

  push(update: DeliveryUpdate): void {
    this.updates.push(update);
    if (this.updates.length >= MAX_UPDATES) this.flush();
    else this.schedule();
  }

  /** Write everything queued now. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const accepts = this.accepts;
    const updates = this.updates;
    this.accepts = [];
    this.updates = [];
    this.queuedKeys.clear();
    if (!accepts.length && !updates.length) return;
    this.lastCommit = this.clock();
    try {
      const stored = this.store.write(accepts, updates, this.inFlight());
      accepts.forEach((a, i) => a.resolve(stored[i] ?? []));
    } catch {
      // One bad item must not fail the others: write each on its own.
      for (const a of accepts) this.writeOne(a);
      if (!updates.length) return;
      try {
        this.store.write([], updates, this.inFlight());
      } catch (updateErr) {
        this.onUpdateError(updateErr, updates.length);
      }
    }
  }

  private writeOne(a: PendingAccept): void {
    try {
      a.resolve(this.store.write([a], [], this.inFlight())[0] ?? []);
    } catch (err) {
      a.reject(err);
    }
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush());
  }
}
