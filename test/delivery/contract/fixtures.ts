import { acceptItem, newDelivery } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import { storedDeliveries, type StoredDeliveries } from '../../../src/delivery/records.js';
import type {
  AcceptBatchItem,
  AcceptDedup,
  DeliveryRecord,
  DeliveryUpdate,
  IdFilter,
  NewDelivery,
  NotificationRecord,
  WriteResult,
} from '../../../src/delivery/types.js';

export const T0 = Date.parse('2026-11-22T23:00:00Z');

/** No delivery in flight. */
export const none: ReadonlySet<string> = new Set<string>();

/** Notification `id` of group `groupKey` (receiver `r`), with an empty payload. */
export function notification(id: string, groupKey = 'g', createdAt = T0, key = `key-${id}`): NotificationRecord {
  return { id, key, receiver: 'r', groupKey, status: 'firing', createdAt, original: '{}', enriched: '{}' };
}

/** A pending delivery of `n` to target `t` in group `g`, due at T0. */
export const delivery = (id: string, n: string, overrides: Partial<NewDelivery> = {}): NewDelivery => newDelivery(id, n, T0, overrides);

/** Notification `n` (group `groupKey`) with deliveries `n-a` and `n-b`, as the dispatcher hands it to `write`. */
export const item = (n: string, groupKey = n): AcceptBatchItem => acceptItem(n, T0, { groupKey, targets: ['a', 'b'] });

/** The update the dispatcher writes after an attempt of `id` that started at `at` (by default a 503, retried in 1 s). */
export function attempted(id: string, at: number, overrides: Partial<DeliveryUpdate> = {}): DeliveryUpdate {
  return {
    id,
    state: 'pending',
    attempts: 1,
    nextAttemptAt: at + 1000,
    lastStatus: 503,
    lastReason: 'serverError',
    lastError: 'unexpected status code 503',
    retryable: true,
    durationMs: 12.5,
    updatedAt: at + 13,
    attemptedAt: at,
    trial: false,
    replay: false,
    ...overrides,
  };
}

/** The one accept of a write, or its error thrown. */
function accepted(result: WriteResult, deliveries: readonly NewDelivery[]): StoredDeliveries {
  const [first] = result.accepted;
  if (!first) throw new Error('the write reported no accept');
  if ('error' in first) throw new Error(`accept failed: ${first.error}`);
  return storedDeliveries(deliveries, first);
}

/**
 * Accept `n` with `deliveries` on `ledger` (one write) and return the records as stored. The accepting replica
 * holds the leases of the pending ones (its first attempts); `keepLeases: false` gives them back at once, as a
 * dispatcher whose attempts never started, so that they wait in the queue for any replica's `claim`.
 */
export async function acceptOn(
  ledger: Ledger,
  n: NotificationRecord,
  deliveries: NewDelivery[],
  options: { inFlight?: Iterable<string>; dedup?: AcceptDedup; keepLeases?: boolean } = {},
): Promise<StoredDeliveries> {
  const result = await ledger.write({ accepts: [{ notification: n, deliveries, inFlight: [...(options.inFlight ?? [])], dedup: options.dedup }], updates: [] });
  const records = accepted(result, deliveries);
  if (!options.keepLeases) {
    const leased = records.filter((d) => d.state === 'pending' && !records.blocked?.has(d)).map((d) => d.id);
    if (leased.length) await ledger.unlease(leased);
  }
  return records;
}

/** Write outcome `updates` on `ledger` (one write); throws when they could not be written. */
export async function updateOn(ledger: Ledger, updates: readonly DeliveryUpdate[]): Promise<WriteResult> {
  const result = await ledger.write({ accepts: [], updates });
  if (result.updateError) throw new Error(`update failed: ${result.updateError}`);
  return result;
}

/** What the synchronous store offered, over one ledger: the tests' shorthand. */
export interface LedgerOps {
  /** Accept `n` (leases given back: the deliveries wait for `claim`); `inFlight`: ids never superseded under their feet. */
  accept(n: NotificationRecord, deliveries: NewDelivery[], inFlight?: Iterable<string>, dedup?: AcceptDedup): Promise<StoredDeliveries>;
  update(updates: readonly DeliveryUpdate[]): Promise<WriteResult>;
  /** What `claim` would take now, leases given back at once (the queue's order, without keeping anything). */
  due(now: number, limit: number, exclude: IdFilter): Promise<DeliveryRecord[]>;
}

export function ops(ledger: Ledger): LedgerOps {
  return {
    accept: (n, deliveries, inFlight, dedup) => acceptOn(ledger, n, deliveries, { inFlight, dedup }),
    update: (updates) => updateOn(ledger, updates),
    due: async (now, limit, exclude) => {
      const claimed = await ledger.claim(now, limit, exclude);
      if (claimed.length) await ledger.unlease(claimed.map((d) => d.id));
      return claimed;
    },
  };
}
