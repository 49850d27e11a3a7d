import type { DeliveryUpdate, Store } from './types.js';

/**
 * Batches delivery updates into one transaction per event-loop turn. Safe
 * because an update lost in a crash only means a delivery is attempted again
 * (at least once), never that one is lost; accepts are never batched.
 */
export class UpdateWriter {
  private batch: DeliveryUpdate[] = [];
  private scheduled?: NodeJS.Immediate;

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown, count: number) => void,
  ) {}

  push(update: DeliveryUpdate): void {
    this.batch.push(update);
    if (this.batch.length >= 500) this.flush();
    else this.scheduled ??= setImmediate(() => this.flush());
  }

  /** Write everything queued now. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.batch;
    this.batch = [];
    if (!batch.length) return;
    try {
      this.store.update(batch);
    } catch (err) {
      this.onError(err, batch.length);
    }
  }
}
