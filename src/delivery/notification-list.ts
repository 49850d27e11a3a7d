import type Database from 'better-sqlite3';
import type { NotificationFilter, NotificationOutcome, NotificationRecord, NotificationSummary } from './types.js';

// The notification list of the ledger (GET /api/v1/notifications and the overview): `notification_index` holds one
// small row per stored notification, keyed by (created_at, id), with what the filters read.

/** Names as the notification list stores them: `\nA\nB\n`, so `instr(names, '\nA\n')` finds one exactly. */
export function joinNames(names: readonly string[]): string {
  return `\n${[...new Set(names)].join('\n')}\n`;
}

/** The alertnames and alert count of a notification, from its record or else its payload. */
export function listFields(n: NotificationRecord): { alertnames: readonly string[]; alerts: number } {
  if (n.alertnames && n.alertCount !== undefined) return { alertnames: n.alertnames, alerts: n.alertCount };
  try {
    const alerts = (JSON.parse(n.original) as { alerts?: Array<{ labels?: Record<string, string> }> }).alerts ?? [];
    return { alertnames: alerts.map((a) => a.labels?.['alertname']).filter((a): a is string => typeof a === 'string'), alerts: alerts.length };
  } catch {
    return { alertnames: [], alerts: 0 };
  }
}

/**
 * The SQL condition of an outcome filter, on the notification `i` (the rule of docs/api.md). An outcome that needs a
 * pending or dead delivery first checks membership in the set of those (read once along deliveries_state_target,
 * small: the queue and the dead letters), so the walk skips most notifications without looking up their deliveries.
 */
const OUTCOME_SQL: Record<NotificationOutcome, string> = (() => {
  const has = (states: string) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN (${states}))`;
  const among = (states: string) => `i.id IN (SELECT notification_id FROM deliveries WHERE state IN (${states}))`;
  return {
    delivered: `NOT ${has(`'pending', 'dead'`)}`,
    partial: `${among(`'pending', 'dead'`)} AND ${has(`'delivered'`)}`,
    failed: `${among(`'dead'`)} AND NOT ${has(`'delivered'`)} AND NOT ${has(`'pending'`)}`,
    accepted: `${among(`'pending'`)} AND NOT ${has(`'delivered'`)}`,
    pending: among(`'pending'`),
  };
})();

interface IndexRow {
  created_at: number;
  id: string;
  receiver: string;
  group_key: string;
  status: 'firing' | 'resolved';
  alerts: number;
  alertnames: string;
}

/** Notifications newest first along notification_index (its key is the order and the cursor). */
export function* listNotifications(db: Database.Database, filter: NotificationFilter): Generator<NotificationSummary> {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, ...values: unknown[]) => {
    clauses.push(clause);
    params.push(...values);
  };
  if (filter.before) add('(created_at, id) < (?, ?)', filter.before.createdAt, filter.before.id);
  if (filter.since !== undefined) add('created_at >= ?', filter.since);
  if (filter.until !== undefined) add('created_at <= ?', filter.until);
  if (filter.receiver !== undefined) add('receiver = ?', filter.receiver);
  if (filter.groupKey !== undefined) add('group_key = ?', filter.groupKey);
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.alertname !== undefined) add('instr(alertnames, ?) > 0', `\n${filter.alertname}\n`);
  if (filter.target !== undefined) add('instr(targets, ?) > 0', `\n${filter.target}\n`);
  if (filter.outcome !== undefined) clauses.push(OUTCOME_SQL[filter.outcome]);
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const sql = `SELECT created_at, id, receiver, group_key, status, alerts, alertnames FROM notification_index i ${where} ORDER BY created_at DESC, id DESC`;
  for (const r of db.prepare(sql).iterate(...params) as IterableIterator<IndexRow>) {
    yield {
      id: r.id,
      createdAt: r.created_at,
      receiver: r.receiver,
      groupKey: r.group_key,
      status: r.status,
      alerts: r.alerts,
      alertnames: r.alertnames.split('\n').filter((a) => a !== ''),
    };
  }
}

/** Notifications created since @since, counted per @bucketMs bucket by their outcome as of now (the rule of docs/api.md). */
export const OUTCOME_BUCKETS_SQL = `SELECT bucket, SUM(ok AND NOT open) AS delivered, SUM(ok AND open) AS partial, SUM(NOT ok AND dead AND NOT pending) AS failed,
       SUM(NOT ok AND pending) AS accepted
     FROM (SELECT CAST((i.created_at - @since) / @bucketMs AS INTEGER) AS bucket,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'delivered') AS ok,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'pending') AS pending,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'dead') AS dead,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN ('pending', 'dead')) AS open
       FROM notification_index i WHERE i.created_at >= @since)
     GROUP BY bucket ORDER BY bucket`;
