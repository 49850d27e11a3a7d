import { openPostgresLedger } from './postgres/ledger.js';
import { openSqliteLedger } from './sqlite-ledger.js';
import type { StorageOptions } from '../config/storage.js';
import type { Ledger, LedgerEvents, LedgerImport } from './ledger.js';

/**
 * The ledger `storage.driver` selects: the embedded SQLite file, or PostgreSQL (replicas on one database). Rejects
 * when it cannot be opened (a file that is not a ledger, a database that does not answer or cannot be migrated):
 * the start fails, saying why, rather than run without a ledger.
 */
export async function openLedger(options: StorageOptions, replica: string, events: LedgerEvents = {}): Promise<Ledger> {
  if (options.driver === 'sqlite') return openSqliteLedger(options.path, { replica });
  return openPostgresLedger({
    url: options.url,
    poolSize: options.poolSize,
    statementTimeoutMs: options.statementTimeoutMs,
    leaseMs: options.leaseMs,
    replica,
    events,
  });
}

/** The destination of `migrate-storage`: a PostgreSQL ledger, migrated as a replica would, with a small pool. */
export function openImportDestination(url: string): Promise<Ledger & LedgerImport> {
  return openPostgresLedger({ url, poolSize: 2, statementTimeoutMs: 60_000, leaseMs: 30_000, replica: 'migrate-storage' });
}
