import { parseArgs } from 'node:util';
import { apiClient, CLIENT_HELP, CLIENT_OPTIONS, CommandError, guarded, parseOrUsage, withQuery, type ClientIO } from './client.js';
import { ago, formatMs, formatTable } from './table.js';

/** Usage of `alertmux notifications`. */
export const NOTIFICATIONS_USAGE = `Usage: alertmux notifications [--alertname NAME] [--target NAME] [--since 1h] [--until TIME]
                              [--outcome OUTCOME] [--status firing|resolved] [--receiver NAME]
                              [--group-key KEY] [--match '{severity="critical"}'] [--limit N]
                              [--cursor C] [--url URL] [--token-file FILE] [--json]

Lists the notifications a running alertmux received, newest first
(GET /api/v1/notifications), with each target's delivery state.

Filters:
      --alertname NAME   an alert of the group has this alertname
      --target NAME      the notification went (or goes) to this target
      --since, --until   RFC 3339 time, or a duration before now (1h, 30m)
      --outcome O        delivered, partial, failed, accepted, or pending (still queued somewhere)
      --status S         firing or resolved
      --receiver NAME, --group-key KEY
      --match SET        Alertmanager matchers on any alert's labels
      --limit N          at most N (1 to 1000, default 50)
      --cursor C         the page after the one that printed this cursor
${CLIENT_HELP}`;

/** Usage of `alertmux notification`. */
export const NOTIFICATION_USAGE = `Usage: alertmux notification ID [--url URL] [--token-file FILE] [--json]

Shows one notification (GET /api/v1/notifications/ID): its alerts, each
target's delivery, and the attempt timeline of each when alertmux keeps one.

${CLIENT_HELP}`;

/** A delivery entry of the notification list. */
interface ListTarget {
  target: string;
  state: string;
  skipReason?: string;
  attempts: number;
  lastStatus?: number;
  lastReason?: string;
}

/** A notification of the list. */
interface ListItem {
  id: string;
  receivedAt: string;
  status: string;
  alertnames: string[];
  alerts: number;
  outcome: string;
  targets: ListTarget[];
}

/** `name:state` per target, with the skip reason or the last failure's: what the console shows as chips. */
export function chips(targets: readonly ListTarget[]): string {
  return targets
    .filter((t) => t.skipReason !== 'filtered' && t.skipReason !== 'disabled')
    .map((t) => `${t.target}:${t.state}${t.skipReason ? `(${t.skipReason})` : t.state !== 'delivered' && t.lastReason ? `(${t.lastReason})` : ''}`)
    .join(' ');
}

/** The list as a table: one line per notification. */
export function notificationsTable(items: readonly ListItem[], now: number): string {
  return formatTable(
    ['RECEIVED', 'ID', 'STATUS', 'ALERTNAME', 'ALERTS', 'OUTCOME', 'TARGETS'],
    items.map((n) => [ago(n.receivedAt, now), n.id, n.status, n.alertnames.join(',') || '-', String(n.alerts), n.outcome, chips(n.targets) || '-']),
  );
}

/** `alertmux notifications`. */
export async function notificationsCommand(argv: string[], io: ClientIO): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseOrUsage(
      () =>
        parseArgs({
          args: argv,
          options: {
            ...CLIENT_OPTIONS,
            alertname: { type: 'string' },
            target: { type: 'string' },
            since: { type: 'string' },
            until: { type: 'string' },
            outcome: { type: 'string' },
            status: { type: 'string' },
            receiver: { type: 'string' },
            'group-key': { type: 'string' },
            match: { type: 'string' },
            limit: { type: 'string' },
            cursor: { type: 'string' },
          },
        }),
      NOTIFICATIONS_USAGE,
    );
    if (values.help) return io.out(NOTIFICATIONS_USAGE), 0;
    const client = apiClient(values, io);
    const path = withQuery('/api/v1/notifications', {
      alertname: values.alertname,
      target: values.target,
      since: values.since,
      until: values.until,
      outcome: values.outcome,
      status: values.status,
      receiver: values.receiver,
      groupKey: values['group-key'],
      match: values.match,
      limit: values.limit,
      cursor: values.cursor,
    });
    const page = await client.call<{ notifications: ListItem[]; nextCursor: string | null }>('GET', path);
    if (!Array.isArray(page.notifications)) throw new CommandError(`${client.url}: not an alertmux notification list`);
    if (values.json) return io.out(JSON.stringify(page, null, 2)), 0;
    io.out(page.notifications.length ? notificationsTable(page.notifications, (io.now ?? Date.now)()) : 'no notifications match');
    if (page.nextCursor) io.err(`more: add --cursor ${page.nextCursor}`);
    return 0;
  });
}

/** One attempt of a delivery's timeline (when alertmux keeps attempt history). */
interface Attempt {
  attempt?: number;
  at?: string;
  replica?: string;
  durationMs?: number;
  statusCode?: number;
  reason?: string;
  error?: string;
  outcome?: string;
  nextAttemptAt?: string;
}

/** A target entry of GET /api/v1/notifications/:id. */
interface DetailTarget {
  target: string;
  type: string;
  state: string;
  deliveryId?: string;
  attempts: number;
  statusCode?: number;
  reason?: string;
  skipReason?: string;
  error?: string;
  nextAttemptAt?: string;
  attemptHistory?: Attempt[];
}

/** GET /api/v1/notifications/:id. */
interface Detail {
  id: string;
  receivedAt: string;
  receiver: string;
  groupKey: string;
  status: string;
  outcome: string;
  targets: DetailTarget[];
  payload?: { alerts?: Array<{ status?: string; labels?: Record<string, string>; startsAt?: string }> };
}

const dash = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : String(v));

/** A notification as text: header, alerts, targets, and each target's attempt timeline. */
export function notificationText(n: Detail, now: number): string {
  const parts = [
    `Notification ${n.id}`,
    `  received  ${n.receivedAt} (${ago(n.receivedAt, now)})`,
    `  receiver  ${n.receiver}`,
    `  group     ${n.groupKey}`,
    `  status    ${n.status}`,
    `  outcome   ${n.outcome}`,
  ];
  const alerts = n.payload?.alerts ?? [];
  if (alerts.length) {
    parts.push('', 'Alerts:');
    parts.push(
      formatTable(
        ['STATUS', 'STARTED', 'LABELS'],
        alerts.map((a) => [dash(a.status), dash(a.startsAt), Object.entries(a.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')]),
      ),
    );
  }
  parts.push('', 'Targets:');
  parts.push(
    formatTable(
      ['TARGET', 'TYPE', 'STATE', 'ATTEMPTS', 'STATUS', 'REASON', 'NEXT', 'ERROR'],
      n.targets.map((t) => [
        t.target,
        t.type,
        t.state,
        String(t.attempts),
        dash(t.statusCode),
        dash(t.skipReason ?? t.reason),
        t.nextAttemptAt ? ago(t.nextAttemptAt, now) : '-',
        dash(t.error),
      ]),
    ),
  );
  for (const t of n.targets) {
    if (!t.attemptHistory?.length) continue;
    parts.push('', `Attempts to ${t.target} (${dash(t.deliveryId)}):`);
    parts.push(
      formatTable(
        ['#', 'AT', 'REPLICA', 'DURATION', 'STATUS', 'OUTCOME', 'REASON', 'NEXT', 'ERROR'],
        t.attemptHistory.map((a, i) => [
          String(a.attempt ?? i + 1),
          dash(a.at),
          dash(a.replica),
          a.durationMs === undefined ? '-' : formatMs(a.durationMs),
          dash(a.statusCode),
          dash(a.outcome),
          dash(a.reason),
          dash(a.nextAttemptAt),
          dash(a.error),
        ]),
      ),
    );
  }
  return parts.join('\n');
}

/** `alertmux notification ID`. */
export async function notificationCommand(argv: string[], io: ClientIO): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, allowPositionals: true, options: CLIENT_OPTIONS }), NOTIFICATION_USAGE);
    if (values.help) return io.out(NOTIFICATION_USAGE), 0;
    if (positionals.length !== 1) throw new CommandError(`give one notification id\n\n${NOTIFICATION_USAGE}`, 2);
    const client = apiClient(values, io);
    const n = await client.call<Detail>('GET', `/api/v1/notifications/${encodeURIComponent(positionals[0] ?? '')}`);
    if (!Array.isArray(n.targets)) throw new CommandError(`${client.url}: not an alertmux notification`);
    io.out(values.json ? JSON.stringify(n, null, 2) : notificationText(n, (io.now ?? Date.now)()));
    return 0;
  });
}
