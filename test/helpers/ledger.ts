import type { AcceptBatchItem, NewDelivery } from '../../src/delivery/types.js';

/** A pending delivery of notification `notificationId` to target `t` in group `g`, created at `at`. */
export function newDelivery(id: string, notificationId: string, at: number, overrides: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id,
    notificationId,
    target: 't',
    targetType: 'webhook',
    groupKey: 'g',
    notificationKey: `key-${notificationId}`,
    state: 'pending',
    priority: 3,
    alerts: [0],
    attempts: 0,
    createdAt: at,
    nextAttemptAt: at,
    ...overrides,
  };
}

/** Notification `n` with one pending delivery per target (ids `n-target`), as the dispatcher hands it to the ledger. */
export function acceptItem(n: string, at: number, options: { key?: string; groupKey?: string; targets?: readonly string[] } = {}): AcceptBatchItem {
  const { key = `key-${n}`, groupKey = n, targets = ['t'] } = options;
  return {
    notification: { id: n, key, receiver: 'r', groupKey, status: 'firing', createdAt: at, original: '{}', enriched: '{}' },
    deliveries: targets.map((target) => newDelivery(`${n}-${target}`, n, at, { target, groupKey, notificationKey: key })),
  };
}
