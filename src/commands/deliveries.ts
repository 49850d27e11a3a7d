import { parseArgs } from 'node:util';
import { apiClient, CLIENT_HELP, CLIENT_OPTIONS, CommandError, guarded, parseOrUsage, withQuery, type ClientIO } from './client.js';
import { ago, formatTable } from './table.js';

/** Usage of `alertmux deliveries`. */
export const DELIVERIES_USAGE = `Usage: alertmux deliveries [--state dead] [--target NAME] [--since 1h] [--until TIME]
                           [--reason REASON] [--limit N] [--cursor C] [--url URL] [--token-file FILE] [--json]

Lists deliveries of a running alertmux, newest first (GET /api/v1/deliveries):
the retry queue (--state pending) and the dead letters (--state dead).

Filters:
      --state S          pending, delivered, dead, skipped or superseded
      --target NAME      deliveries to this target
      --since, --until   created at or after / before: RFC 3339 time, or a duration before now (1h)
      --reason R         the last failure's reason (serverError, clientError, timeout, ...)
      --limit N          at most N (1 to 1000, default 100)
      --cursor C         the page after the one that printed this cursor
${CLIENT_HELP}`;

/** Usage of `alertmux replay`. */
export const REPLAY_USAGE = `Usage: alertmux replay ID... [--url URL] [--token-file FILE] [--json]
       alertmux replay --target NAME [--state dead|pending] [--since 1h] [--url URL] [--token-file FILE] [--json]

Puts deliveries back in the queue for an attempt now, with a fresh attempt
budget (POST /api/v1/deliveries/replay): the ones named, or every one the
filter selects (dead letters unless --state pending). Prints how many.

${CLIENT_HELP}`;

/** A delivery of GET /api/v1/deliveries. */
interface Delivery {
  id: string;
  target: string;
  state: string;
  skipReason?: string;
  attempts: number;
  createdAt: string;
  nextAttemptAt?: string;
  lastStatus?: number;
  lastReason?: string;
  lastError?: string;
  notificationId: string;
}

/** The deliveries as a table. */
export function deliveriesTable(rows: readonly Delivery[], now: number): string {
  return formatTable(
    ['CREATED', 'ID', 'TARGET', 'STATE', 'ATTEMPTS', 'STATUS', 'REASON', 'NEXT', 'ERROR'],
    rows.map((d) => [
      ago(d.createdAt, now),
      d.id,
      d.target,
      d.state,
      String(d.attempts),
      d.lastStatus === undefined ? '-' : String(d.lastStatus),
      d.skipReason ?? d.lastReason ?? '-',
      d.nextAttemptAt ? ago(d.nextAttemptAt, now) : '-',
      d.lastError ?? '-',
    ]),
  );
}

/** `alertmux deliveries`. */
export async function deliveriesCommand(argv: string[], io: ClientIO): Promise<number> {
  return guarded(io, async () => {
    const { values } = parseOrUsage(
      () =>
        parseArgs({
          args: argv,
          options: {
            ...CLIENT_OPTIONS,
            state: { type: 'string' },
            target: { type: 'string' },
            since: { type: 'string' },
            until: { type: 'string' },
            reason: { type: 'string' },
            limit: { type: 'string' },
            cursor: { type: 'string' },
          },
        }),
      DELIVERIES_USAGE,
    );
    if (values.help) return io.out(DELIVERIES_USAGE), 0;
    const client = apiClient(values, io);
    const { json, help: _help, url: _url, 'token-file': _file, ...filters } = values;
    const page = await client.call<{ deliveries: Delivery[]; nextCursor?: string | null }>('GET', withQuery('/api/v1/deliveries', filters));
    if (!Array.isArray(page.deliveries)) throw new CommandError(`${client.url}: not an alertmux delivery list`);
    if (json) return io.out(JSON.stringify(page, null, 2)), 0;
    io.out(page.deliveries.length ? deliveriesTable(page.deliveries, (io.now ?? Date.now)()) : 'no deliveries match');
    if (page.nextCursor) io.err(`more: add --cursor ${page.nextCursor}`);
    return 0;
  });
}

/** `alertmux replay`. */
export async function replayCommand(argv: string[], io: ClientIO): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseOrUsage(
      () =>
        parseArgs({
          args: argv,
          allowPositionals: true,
          options: { ...CLIENT_OPTIONS, target: { type: 'string' }, state: { type: 'string' }, since: { type: 'string' } },
        }),
      REPLAY_USAGE,
    );
    if (values.help) return io.out(REPLAY_USAGE), 0;
    const byFilter = values.target !== undefined || values.state !== undefined || values.since !== undefined;
    if (positionals.length && byFilter) throw new CommandError(`give delivery ids or a filter, not both\n\n${REPLAY_USAGE}`, 2);
    if (!positionals.length && !byFilter) throw new CommandError(`give delivery ids or a filter (--target, --state, --since)\n\n${REPLAY_USAGE}`, 2);
    const client = apiClient(values, io);
    const body = positionals.length ? { ids: positionals } : { target: values.target, state: values.state, since: values.since };
    const result = await client.call<{ replayed: number; ids: string[] }>('POST', '/api/v1/deliveries/replay', body);
    if (values.json) return io.out(JSON.stringify(result, null, 2)), 0;
    if (positionals.length && result.replayed < positionals.length) {
      const missing = positionals.filter((id) => !result.ids.includes(id));
      io.out(`replayed ${result.replayed} of ${positionals.length} deliveries`);
      throw new CommandError(`not dead or pending (or unknown): ${missing.join(', ')}`);
    }
    io.out(`replayed ${result.replayed} ${result.replayed === 1 ? 'delivery' : 'deliveries'}`);
    return 0;
  });
}
