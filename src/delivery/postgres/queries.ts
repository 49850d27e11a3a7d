import type { Database } from './connection.js';
import type { NotificationFilter, NotificationOutcome, NotificationSummary } from '../types.js';

/** The SQL condition of an outcome filter on the notification `i` (the rule of docs/api.md, as the SQLite ledger's). */
const OUTCOME_SQL: Record<NotificationOutcome, string> = (() => {
  const has = (states: string) => `EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN (${states}))`;
  return {
    delivered: `NOT ${has(`'pending', 'dead'`)}`,
    partial: `${has(`'pending', 'dead'`)} AND ${has(`'delivered'`)}`,
    failed: `${has(`'dead'`)} AND NOT ${has(`'delivered'`)} AND NOT ${has(`'pending'`)}`,
    accepted: `${has(`'pending'`)} AND NOT ${has(`'delivered'`)}`,
    pending: has(`'pending'`),
  };
})();

/** Notifications newest first (by arrival, then id) matching `filter`, at most `limit`. */
export async function notificationsPage(db: Database, filter: NotificationFilter, limit: number): Promise<NotificationSummary[]> {
  if (limit <= 0) return [];
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: number) => string, value: unknown) => {
    params.push(value);
    clauses.push(clause(params.length));
  };
  if (filter.before) {
    params.push(filter.before.createdAt, filter.before.id);
    clauses.push(`(i.created_at, i.id) < ($${params.length - 1}, $${params.length})`);
  }
  if (filter.since !== undefined) add((n) => `i.created_at >= $${n}`, filter.since);
  if (filter.until !== undefined) add((n) => `i.created_at <= $${n}`, filter.until);
  if (filter.receiver !== undefined) add((n) => `i.receiver = $${n}`, filter.receiver);
  if (filter.groupKey !== undefined) add((n) => `i.group_key = $${n}`, filter.groupKey);
  if (filter.status !== undefined) add((n) => `i.status = $${n}`, filter.status);
  if (filter.alertname !== undefined) add((n) => `$${n} = ANY(i.alertnames)`, filter.alertname);
  if (filter.target !== undefined) add((n) => `$${n} = ANY(i.targets)`, filter.target);
  if (filter.outcome !== undefined) clauses.push(OUTCOME_SQL[filter.outcome]);
  params.push(limit);
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const { rows } = await db.query<{ id: string; created_at: number; receiver: string; group_key: string; status: 'firing' | 'resolved'; alert_count: number; alertnames: string[] }>(
    `SELECT i.id, i.created_at, i.receiver, i.group_key, i.status, i.alert_count, i.alertnames FROM notifications i ${where}
     ORDER BY i.created_at DESC, i.id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map((r) => ({ id: r.id, createdAt: r.created_at, receiver: r.receiver, groupKey: r.group_key, status: r.status, alerts: r.alert_count, alertnames: r.alertnames }));
}

/** Notifications created since $1, counted per $2 ms bucket by their outcome as of now (the rule of docs/api.md). */
export const OUTCOME_BUCKETS_SQL = `SELECT bucket,
       count(*) FILTER (WHERE ok AND NOT open)::integer AS delivered, count(*) FILTER (WHERE ok AND open)::integer AS partial,
       count(*) FILTER (WHERE NOT ok AND dead AND NOT pending)::integer AS failed, count(*) FILTER (WHERE NOT ok AND pending)::integer AS accepted
     FROM (SELECT ((i.created_at - $1) / $2)::integer AS bucket,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'delivered') AS ok,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'pending') AS pending,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'dead') AS dead,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN ('pending', 'dead')) AS open
       FROM notifications i WHERE i.created_at >= $1) AS b
     GROUP BY bucket ORDER BY bucket`;
