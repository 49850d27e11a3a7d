import type { BulkFilter, DeliveryFilter, NotificationFilter, NotificationOutcome } from '../types.js';

// The SQL of the operator API and the console, as the SQLite backend's (notification-list.ts), in PostgreSQL's dialect.

/** A WHERE clause with positional parameters, numbered from `first`. */
export interface Where {
  where: string;
  params: unknown[];
}

function builder(first = 1) {
  const clauses: string[] = [];
  const params: unknown[] = [];
  return {
    clauses,
    params,
    add(clause: (p: string) => string, value: unknown) {
      params.push(value);
      clauses.push(clause(`$${first + params.length - 1}`));
    },
  };
}

/** The WHERE clause of a bulk replay or delete (state dead by default; ids match dead and pending ones). */
export function bulkWhere(filter: BulkFilter): Where {
  const b = builder();
  b.clauses.push(filter.ids ? `state IN ('dead', 'pending')` : filter.state === 'pending' ? `state = 'pending'` : `state = 'dead'`);
  if (filter.ids) b.add((p) => `id = ANY(${p}::text[])`, filter.ids);
  if (filter.target !== undefined) b.add((p) => `target = ${p}`, filter.target);
  if (filter.since !== undefined) b.add((p) => `created_at >= ${p}`, filter.since);
  return { where: b.clauses.join(' AND '), params: b.params };
}

/** The operator API's delivery list. */
export function listSql(filter: DeliveryFilter): { sql: string; params: unknown[] } {
  const b = builder();
  if (filter.state !== undefined) b.add((p) => `state = ${p}`, filter.state);
  if (filter.target !== undefined) b.add((p) => `target = ${p}`, filter.target);
  if (filter.notificationId !== undefined) b.add((p) => `notification_id = ${p}`, filter.notificationId);
  if (filter.since !== undefined) b.add((p) => `created_at >= ${p}`, filter.since);
  if (filter.until !== undefined) b.add((p) => `created_at <= ${p}`, filter.until);
  if (filter.reason !== undefined) b.add((p) => `last_reason = ${p}`, filter.reason);
  if (filter.before !== undefined) b.add((p) => `seq < ${p}`, filter.before);
  const where = b.clauses.length ? `WHERE ${b.clauses.join(' AND ')}` : '';
  b.params.push(filter.limit ?? 100);
  return { sql: `SELECT * FROM deliveries ${where} ORDER BY seq ${filter.oldestFirst ? 'ASC' : 'DESC'} LIMIT $${b.params.length}`, params: b.params };
}

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

/** Notifications newest first along notification_index, at most `limit`. */
export function notificationsSql(filter: NotificationFilter, limit: number): { sql: string; params: unknown[] } {
  const b = builder();
  if (filter.before) {
    b.add((p) => `(created_at, id) < (${p}`, filter.before.createdAt);
    b.clauses[b.clauses.length - 1] += `, $${b.params.length + 1})`;
    b.params.push(filter.before.id);
  }
  if (filter.since !== undefined) b.add((p) => `created_at >= ${p}`, filter.since);
  if (filter.until !== undefined) b.add((p) => `created_at <= ${p}`, filter.until);
  if (filter.receiver !== undefined) b.add((p) => `receiver = ${p}`, filter.receiver);
  if (filter.groupKey !== undefined) b.add((p) => `group_key = ${p}`, filter.groupKey);
  if (filter.status !== undefined) b.add((p) => `status = ${p}`, filter.status);
  if (filter.alertname !== undefined) b.add((p) => `strpos(alertnames, ${p}) > 0`, `\n${filter.alertname}\n`);
  if (filter.target !== undefined) b.add((p) => `strpos(targets, ${p}) > 0`, `\n${filter.target}\n`);
  if (filter.outcome !== undefined) b.clauses.push(OUTCOME_SQL[filter.outcome]);
  const where = b.clauses.length ? `WHERE ${b.clauses.join(' AND ')}` : '';
  b.params.push(limit);
  return {
    sql: `SELECT created_at, id, receiver, group_key, status, alerts, alertnames FROM notification_index i ${where}
          ORDER BY created_at DESC, id DESC LIMIT $${b.params.length}`,
    params: b.params,
  };
}

/** Notifications created since $1, counted per $2 ms bucket by their outcome as of now (the rule of docs/api.md). */
export const OUTCOME_BUCKETS_SQL = `SELECT bucket, count(*) FILTER (WHERE ok AND NOT open)::int AS delivered, count(*) FILTER (WHERE ok AND open)::int AS partial,
       count(*) FILTER (WHERE NOT ok AND dead AND NOT pending)::int AS failed, count(*) FILTER (WHERE NOT ok AND pending)::int AS accepted
     FROM (SELECT ((i.created_at - $1::bigint) / $2::bigint)::int AS bucket,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'delivered') AS ok,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'pending') AS pending,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state = 'dead') AS dead,
       EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = i.id AND d.state IN ('pending', 'dead')) AS open
       FROM notification_index i WHERE i.created_at >= $1::bigint) counted
     GROUP BY bucket ORDER BY bucket`;
