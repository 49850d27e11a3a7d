import pg from 'pg';
import type { LedgerEvents } from '../ledger.js';

/** How the PostgreSQL ledger connects. */
export interface ConnectionOptions {
  /** postgres://USER[:PASSWORD]@HOST:PORT/DATABASE?sslmode=... (TLS through sslmode, as libpq has it). */
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  events?: LedgerEvents;
}

/** int8 (bigint: epoch ms, sequence numbers, counts) as numbers: every value alertmux stores fits in 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** Connection settings of every client of one ledger (the pool and the dedicated LISTEN and lock clients). */
export function clientConfig(options: ConnectionOptions): pg.ClientConfig {
  return {
    connectionString: options.url,
    statement_timeout: options.statementTimeoutMs,
    // A database that does not answer fails the call quickly (the webhook gets 503) rather than hanging it.
    connectionTimeoutMillis: Math.max(1000, Math.min(options.statementTimeoutMs, 10_000)),
    idle_in_transaction_session_timeout: Math.max(options.statementTimeoutMs * 2, 10_000),
    application_name: 'alertmux',
    types,
  };
}

/**
 * An error of the database or the driver, with the connection string's password never in its message (driver
 * messages may quote the URL). Keeps PostgreSQL's SQLSTATE as `code`.
 */
export class LedgerDatabaseError extends Error {
  override name = 'LedgerDatabaseError';

  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The password of a postgres URL, if it has one (decoded and as written). */
function passwordsOf(url: string): string[] {
  try {
    const password = new URL(url).password;
    return password ? [...new Set([password, decodeURIComponent(password)])] : [];
  } catch {
    return [];
  }
}

/** Error codes that mean "the database is not reachable" rather than "this statement failed". */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  const message = String((err as Error).message ?? err);
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|57P0[1-3]|08\d\d\d|53300)$/.test(code) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message)
  );
}

/** Retried inside `transaction`: a deadlock or a serialization failure is PostgreSQL asking to run it again. */
const RETRY_CODES = new Set(['40P01', '40001']);
const TRANSACTION_TRIES = 5;

/**
 * The pool of one ledger, which redacts errors and tells `events.reachable` when the database stops or starts
 * answering (it reconnects by itself: each call takes a fresh connection when the old ones broke).
 */
export class Database {
  readonly pool: pg.Pool;
  private readonly secrets: string[];
  private up = true;

  constructor(private readonly options: ConnectionOptions) {
    this.secrets = passwordsOf(options.url);
    this.pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize });
    // An idle client whose connection broke: the pool drops it; the next call connects again.
    this.pool.on('error', (err) => this.failed(err));
  }

  /** One statement on any connection of the pool. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      const result = await this.pool.query<R>(text, values);
      this.answered();
      return result;
    } catch (err) {
      throw this.failed(err);
    }
  }

  /**
   * A connection of the pool for several statements, and its release. While it is checked out the pool does not
   * listen for its errors, and node-postgres emits 'error' on a client whose connection drops (even mid-query, which
   * also rejects): with no listener that would crash the process when the database stops. The listener here keeps
   * the error, and the release hands it to the pool, which then drops the connection.
   */
  async checkout(): Promise<{ client: pg.PoolClient; release: (err?: Error) => void }> {
    const client = await this.pool.connect();
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    client.on('error', onError);
    return {
      client,
      release: (err) => {
        client.removeListener('error', onError);
        client.release(err ?? lost);
      },
    };
  }

  /** `work` in a transaction on one connection; run again on a deadlock or serialization failure. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let checkedOut: Awaited<ReturnType<Database['checkout']>> | undefined;
      try {
        checkedOut = await this.checkout();
        const { client } = checkedOut;
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        checkedOut.release();
        this.answered();
        return result;
      } catch (err) {
        if (checkedOut) {
          // A client whose ROLLBACK fails is broken: released with the error, so the pool drops it.
          const broken = await checkedOut.client.query('ROLLBACK').then(
            () => undefined,
            (e: unknown) => e as Error,
          );
          checkedOut.release(broken);
        }
        if (attempt < TRANSACTION_TRIES && RETRY_CODES.has((err as { code?: string }).code ?? '')) continue;
        throw this.failed(err);
      }
    }
  }

  /** A redacted copy of a driver error; `reachable(false)` when it says the database is gone. */
  failed(err: unknown): LedgerDatabaseError {
    if (err instanceof LedgerDatabaseError) return err;
    if (unreachable(err) && this.up) {
      this.up = false;
      this.options.events?.reachable?.(false);
    }
    return new LedgerDatabaseError(`PostgreSQL ledger: ${this.redact(String((err as Error)?.message ?? err))}`, (err as { code?: string }).code);
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  private answered(): void {
    if (this.up) return;
    this.up = true;
    this.options.events?.reachable?.(true);
  }

  async end(): Promise<void> {
    await this.pool.end();
  }
}
