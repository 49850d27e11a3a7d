import { acceptItem, newDelivery } from '../../helpers/ledger.js';
import type { AcceptBatchItem, DeliveryUpdate, IdFilter, NewDelivery, NotificationRecord } from '../../../src/delivery/types.js';

export const T0 = Date.parse('2026-11-22T23:00:00Z');

/** No delivery in flight. */
export const none: IdFilter = new Set<string>();

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
