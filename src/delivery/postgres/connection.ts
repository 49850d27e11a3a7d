import pg from 'pg';

/** int8 (counts, sequence numbers, epoch ms) and numeric (sums) as numbers: every value the ledger keeps fits in 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** What every connection to the ledger's database is opened with. */
export interface ConnectionOptions {
  url: string;
  /** The schema the ledger's tables live in (created at open). */
  schema: string;
  statementTimeoutMs: number;
}

/** A schema name as SQL (quoted); only plain names are accepted, so it can be spliced into DDL and `search_path`. */
export function schemaName(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`storage schema '${schema}' must be a lower-case SQL name (a-z, 0-9, _)`);
  return `"${schema}"`;
}

/**
 * Client settings: the URL (TLS through its `sslmode`, as libpq reads it), the schema on `search_path` and the
 * statement timeout as session settings, so every statement of every connection gets them without a round trip.
 */
export function clientConfig(options: ConnectionOptions): pg.ClientConfig {
  schemaName(options.schema);
  return {
    connectionString: options.url,
    options: `-c search_path=${options.schema} -c statement_timeout=${Math.max(0, Math.floor(options.statementTimeoutMs))}`,
    types: TYPES,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
  };
}

/** `text` with the URL's password (and any `user:password@` of a connection string) replaced by `***`. */
export function redact(text: string, url: string): string {
  let out = text;
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) out = out.split(password).join('***');
  } catch {
    // Not a URL the WHATWG parser reads: the pattern below still applies.
  }
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

/** An error as the ledger reports it: the message without the password, the SQLSTATE or errno kept as `code`. */
export function redactedError(err: unknown, url: string): Error {
  const message = redact(err instanceof Error ? err.message : String(err), url);
  const out = new Error(`postgres ledger: ${message}`);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') (out as Error & { code?: string }).code = code;
  return out;
}

/**
 * Whether `err` says the database cannot be reached (connection refused, reset or timed out; the server shutting
 * down), rather than that a statement failed on a database that answers.
 */
export function unreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith('08') || code.startsWith('57P') || code === '53300';
  const message = err instanceof Error ? err.message : String(err);
  return typeof code === 'string' || /connect|terminat|timeout|ECONN|EPIPE/i.test(message);
}
