import type { StorageOptions } from '../config/storage.js';
import type { Ledger, LedgerEvents } from './ledger.js';
import { openPostgresLedger } from './postgres/ledger.js';
import { openSqliteLedger } from './sqlite-ledger.js';

/**
 * The ledger `storage` selects: the SQLite file, or PostgreSQL shared by the replicas. Rejects when it cannot be
 * opened (the start fails fast, with the path or the URL without its password and what to do).
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
