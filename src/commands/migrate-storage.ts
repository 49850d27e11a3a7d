import { parseArgs } from 'node:util';
import { redactUrl } from '../config/storage.js';
import { SqliteExport } from '../delivery/sqlite-transfer.js';
import type { ImportCounts, Ledger, LedgerImport } from '../delivery/ledger.js';
import type { CommandIO } from './send-test.js';

/** Usage of `alertmux migrate-storage`. */
export const MIGRATE_USAGE = `Usage: alertmux migrate-storage --from SQLITE_FILE --to POSTGRES_URL [--dry-run]

Copies what an SQLite ledger still owes to a PostgreSQL ledger, so that an
install moves to several replicas without losing a page: pending deliveries
(with their retry schedule), dead letters, their notifications and attempt
history, every lane's dedup state, and the correlation state (Slack ts, Rootly
ids, Alertmanager re-post state, pauses, the dead man's switch). Delivered and
skipped history stays behind.

Stop the alertmux that writes the file first (the file is opened read-only).
The destination's schema is created or migrated as a replica would. Rows the
destination already has are left as they are, so a run that was cut off can
simply be run again. Then start the replicas with storage.driver: postgres.

Options:
      --from FILE    the SQLite ledger (storage.path of the old config)
      --to URL       postgres://USER@HOST:5432/DATABASE?sslmode=...; give the
                     password in $PGPASSWORD rather than in the URL (ps shows
                     arguments)
      --dry-run      only count what would be copied
  -h, --help         show this help`;

/** What the command needs from outside: how to open the destination (the PostgreSQL backend in the CLI). */
export interface MigrateIO extends CommandIO {
  openDestination(url: string): Promise<Ledger & LedgerImport>;
  now?: () => number;
}

/** `alertmux migrate-storage`: 0 when everything was copied, 1 when it failed, 2 on a usage error. */
export async function migrateStorageCommand(argv: string[], io: MigrateIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { from: { type: 'string' }, to: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.err(`migrate-storage: ${(err as Error).message}\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  if (values.help) return io.out(MIGRATE_USAGE), 0;
  const { from, to } = values;
  if (!from || !to) {
    io.err(`migrate-storage: --from and --to are both required\n\n${MIGRATE_USAGE}`);
    return 2;
  }
  if (!/^postgres(ql)?:\/\//i.test(to)) {
    io.err(`migrate-storage: --to must be a postgres:// or postgresql:// URL`);
    return 2;
  }
  const shown = redactUrl(to);
  let source: SqliteExport | undefined;
  let destination: (Ledger & LedgerImport) | undefined;
  try {
    source = new SqliteExport(from);
    const { pending, dead } = source.counts();
    io.out(`source ${from}: ${pending} pending deliveries, ${dead} dead letters`);
    if (values['dry-run']) return 0;
    destination = await io.openDestination(to);
    const total: ImportCounts = { notifications: 0, deliveries: 0, attempts: 0, dedup: 0, state: 0 };
    for (const page of source.pages((io.now ?? Date.now)())) {
      const counts = await destination.importRecords(page);
      for (const k of Object.keys(total) as Array<keyof ImportCounts>) total[k] += counts[k];
    }
    io.out(
      `copied to ${shown}: ${total.deliveries} deliveries, ${total.notifications} notifications, ${total.attempts} attempts, ` +
        `${total.dedup} dedup states, ${total.state} correlation entries (rows already there left as they were)`,
    );
    return 0;
  } catch (err) {
    // Driver errors may quote the connection string: never its password.
    io.err(`migrate-storage: ${redactUrl(String(err instanceof Error ? err.message : err)).split(to).join(shown)}`);
    return 1;
  } finally {
    source?.close();
    await destination?.close();
  }
}
