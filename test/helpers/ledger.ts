import type { DedupEntry } from '../../src/delivery/dedup.js';
import type { AcceptBatchItem, AcceptDedup, NewDelivery } from '../../src/delivery/types.js';

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

/** What each target of a notification sees, for dedup: by default one firing alert `fp-a`, receiver `r`. */
export interface DedupView {
  firing?: readonly string[];
  resolved?: readonly string[];
  sendResolved?: boolean;
  repeat?: boolean;
  claimed?: boolean;
}

/** A target's dedup entry for a notification of group `groupKey` (receiver `r`). */
export function dedupEntryOf(target: string, groupKey: string, view: DedupView = {}): DedupEntry {
  const { firing = ['fp-a'], resolved = [], sendResolved = false, repeat = false } = view;
  return { receiver: 'r', groupKey, target, firing, resolved, sendResolved, repeat };
}

/** The dedup part of an accept of `deliveries`, with the window starting at `since`. */
export function dedupFor(deliveries: readonly NewDelivery[], since: number, view: DedupView = {}): AcceptDedup {
  return { entries: deliveries.map((d) => dedupEntryOf(d.target, d.groupKey, view)), since, claimed: view.claimed ?? false };
}
