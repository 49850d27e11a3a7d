import { BusyDeliveries } from './busy.js';
import type { DeliveryRecord } from '../delivery/types.js';
import type { StoredDeliveries } from '../delivery/records.js';

/**
 * What becomes of an accepted delivery in this dispatch: `skipped` (by design or a duplicate), `blocked` behind
 * another replica's attempt in its lane (not leased here: the retry worker claims it once the lane clears), or `run`.
 */
export function startOf(record: DeliveryRecord, records: StoredDeliveries): 'skipped' | 'blocked' | 'run' {
  if (record.state === 'skipped') return 'skipped';
  return records.blocked?.has(record) ? 'blocked' : 'run';
}

/** The lane of a delivery: its target and group key, or one of its own for a fallback delivery. */
export function laneOf(record: DeliveryRecord): string {
  // A fallback delivery carries another target's share of the group, so no order or supersede applies to it.
  return BusyDeliveries.lane(record.target, record.fallbackOf === undefined ? record.groupKey : `\u0000fallback\u0000${record.id}`);
}

/** One delivery's work in its lane; `waited`: it ran after an earlier delivery of the lane. Resolves to the record as settled. */
export type LaneWork = (waited: boolean) => Promise<DeliveryRecord>;

/**
 * Deliveries in their lanes (target × group key): within a lane one at a time in arrival order, lanes
 * independent of each other. Tracks what is busy (the retry worker must not pick it) and what is running
 * (shutdown waits for it).
 */
export class Lanes {
  /** Deliveries being attempted or waiting for their turn in a lane. */
  readonly busy = new BusyDeliveries();
  /** Per lane, the last delivery queued in it (the next one waits for it). */
  private readonly tails = new Map<string, { tail: Promise<unknown>; id: string }>();
  /** Deliveries running or waiting in a lane, by id. */
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly idleWaiters: Array<() => void> = [];

  /**
   * `crashed`: a delivery's work threw (a bug); it is reported there (and its lease given back), then the delivery
   * resolves to its record unchanged and its lane goes on.
   */
  constructor(private readonly crashed: (record: DeliveryRecord, err: unknown) => void | Promise<void>) {}

  /** Deliveries running or waiting now. */
  get size(): number {
    return this.running.size;
  }

  /** Queue `work` for `record` behind its lane's last delivery; never rejects. */
  run(record: DeliveryRecord, work: LaneWork): Promise<DeliveryRecord> {
    const lane = laneOf(record);
    const previous = this.tails.get(lane)?.tail;
    this.busy.add(record.id, lane);
    const run = this.inLane(lane, previous, record, work);
    this.tails.set(lane, { tail: run, id: record.id });
    this.running.set(record.id, run);
    return run;
  }

  /** Resolves when every delivery running now has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /** Resolves when nothing runs. */
  idle(): Promise<void> {
    if (!this.running.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async inLane(lane: string, previous: Promise<unknown> | undefined, record: DeliveryRecord, work: LaneWork): Promise<DeliveryRecord> {
    try {
      if (previous) await previous;
      return await work(previous !== undefined);
    } catch (err) {
      await this.crashed(record, err);
      return record;
    } finally {
      this.busy.delete(record.id);
      this.running.delete(record.id);
      if (this.tails.get(lane)?.id === record.id) this.tails.delete(lane);
      if (!this.running.size) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
