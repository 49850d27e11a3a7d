import { redactUrl } from '../../config/storage.js';
import { storageFailure } from '../ledger-health.js';

/** Connection-level failures (the database or the network, not the statement): the database is unreachable. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

/** True when `err` says the database cannot be reached (as opposed to a statement that failed). */
export function unreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|Client was closed/i.test(message);
}

/**
 * What the database's secrets would be in a message: the URL's password (as written and decoded) and its
 * `?password=`. A driver error never quotes them today; this keeps it so if one ever does.
 */
export function secretsOf(url: string): string[] {
  const secrets: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
    const query = parsed.searchParams.get('password');
    if (query) secrets.push(query);
  } catch {
    // Not a URL the driver could use either: redactUrl below still hides user:password@.
  }
  return secrets.filter((s) => s.length > 0);
}

/** `err` as an Error safe to log: the URL redacted, the password replaced, the driver's code kept. */
export function ledgerError(err: unknown, url: string, secrets: readonly string[]): Error {
  let message = err instanceof Error ? err.message : String(err);
  message = message.split(url).join(redactUrl(url));
  for (const secret of secrets) message = message.split(secret).join('***');
  const code = (err as { code?: unknown } | undefined)?.code;
  return storageFailure(`ledger database: ${message}`, typeof code === 'string' ? code : undefined);
}
