import { sqliteCode } from './ledger-health.js';

/** The code of a ledger written by a newer alertmux (its schema has migrations this one does not know). */
export const SCHEMA_NEWER = 'ALERTMUX_SCHEMA_NEWER';

/** Codes of a file that is not a usable SQLite database: its content is damaged, not its place. */
const DAMAGED = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT']);

/**
 * The ledger could not be opened at start. Carries what an operator needs: the path, the SQLite
 * code, and what to do about it (`action`), so main.ts can log one clear line and exit non-zero.
 */
export class LedgerOpenError extends Error {
  override name = 'LedgerOpenError';

  constructor(
    readonly path: string,
    readonly code: string,
    readonly action: string,
    cause: unknown,
  ) {
    super(`cannot open the ledger at storage.path ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The error to throw for `err`, raised while opening or migrating the ledger at `path`. */
export function ledgerOpenError(path: string, err: unknown): LedgerOpenError {
  const code = sqliteCode(err) ?? 'unknown';
  const action = code === SCHEMA_NEWER
    ? 'run the alertmux version that wrote this ledger, or a newer one'
    : DAMAGED.has(code)
    ? `the file is damaged: stop alertmux and restore ${path} from a backup (docs/operations.md, "Backup and restore"), or move it aside ` +
      `(with its -wal and -shm files) to start with an empty ledger; what it held stays in the moved file`
    : `check that ${path} and its directory exist, are writable by alertmux and have free space, and that storage.path is right`;
  return new LedgerOpenError(path, code, action, err);
}
