import { listFields } from '../notification-list.js';
import type { AcceptBatchItem, AcceptResult } from '../types.js';

/**
 * A batch of accepts in one statement (`alertmux_accept_batch`, schema.ts) and so one transaction: every lane of the
 * batch locked first (transaction advisory locks, in one order on every replica), then each accept in its own
 * subtransaction, so that one that fails does not fail the others. Within a lane, across replicas:
 * - dedup as Alertmanager's nflog: an identical notification accepted on another replica a moment ago is a
 *   duplicate here;
 * - older pending deliveries are superseded, except those in flight here (`inFlight`) and those under another
 *   replica's live lease;
 * - a pending delivery whose lane still has one under another replica's live lease is `blocked` (not leased: it is
 *   claimed once that one settles); the others are leased to this replica for their first attempt;
 * - sequence numbers are taken under the locks, so in a lane they follow commit order.
 */
export function acceptArguments(accepts: readonly AcceptBatchItem[]): [items: string, originals: string[], enricheds: string[]] {
  const items = accepts.map(({ notification: n, deliveries, inFlight = [], dedup }) => {
    const { alertnames, alerts } = listFields(n);
    const wanting = [...new Set(deliveries.filter((d) => d.skipReason !== 'filtered' && d.skipReason !== 'disabled').map((d) => d.target))];
    return {
      n: { id: n.id, key: n.key, receiver: n.receiver, groupKey: n.groupKey, status: n.status, createdAt: n.createdAt, alertnames: [...new Set(alertnames)], alertCount: alerts, targets: wanting },
      d: deliveries.map((d) => ({
        id: d.id,
        target: d.target,
        targetType: d.targetType,
        groupKey: d.groupKey,
        notificationKey: d.notificationKey,
        state: d.state,
        skipReason: d.skipReason ?? null,
        priority: d.priority,
        alerts: JSON.stringify(d.alerts),
        attempts: d.attempts,
        createdAt: d.createdAt,
        nextAttemptAt: d.nextAttemptAt ?? null,
        ...(d.fallbackOf === undefined ? {} : { fallbackOf: d.fallbackOf }),
      })),
      inFlight: [...inFlight],
      dedup: dedup ? { since: dedup.since, claimed: dedup.claimed, entries: dedup.entries.map((e) => e ?? null) } : null,
    };
  });
  return [JSON.stringify(items), accepts.map((a) => a.notification.original), accepts.map((a) => a.notification.enriched)];
}

/** What `alertmux_accept_batch` answers per accept. */
export type AcceptAnswer = { seqs: number[]; duplicates: number[]; blocked?: number[]; stored?: boolean } | { error: string; code?: string };

/** The accept results of `alertmux_accept_batch`'s answer. */
export function acceptResults(answers: readonly AcceptAnswer[]): Array<AcceptResult | { error: string; code?: string }> {
  return answers.map((r) => {
    if ('error' in r) return { error: `PostgreSQL ledger: ${r.error}`, ...(r.code ? { code: r.code } : {}) };
    const result: AcceptResult = { seqs: r.seqs.map(Number), duplicates: r.duplicates };
    if (r.stored === false) result.stored = false;
    if (r.blocked?.length) result.blocked = r.blocked;
    return result;
  });
}
