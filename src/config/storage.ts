import type { LocalProblem } from './problems.js';
import { formatDuration } from './duration.js';
import { closest } from './suggest.js';
import type { Config } from './types.js';

/** What the ledger backend is opened with (src/main.ts): the config's `storage` section, durations in ms. */
export type StorageOptions =
  | { driver: 'sqlite'; path: string }
  | { driver: 'postgres'; url: string; poolSize: number; statementTimeoutMs: number; leaseMs: number };

/** The backend options of a loaded config's `storage` section. */
export function storageOptions(storage: Config['storage']): StorageOptions {
  if (storage.driver === 'postgres') {
    if (!storage.url) throw new Error('storage.url is required with driver postgres'); // the loader rejects such a config
    return { driver: 'postgres', url: storage.url, poolSize: storage.pool_size, statementTimeoutMs: storage.statement_timeout, leaseMs: storage.lease };
  }
  return { driver: 'sqlite', path: storage.path };
}

/**
 * `postgres://user:secret@db/x` → `postgres://user:***@db/x`: a URL as it may appear in a log line or a problem.
 * Up to the last `@`, so a password with an unencoded `/` or `@` is hidden too (at worst, more than the password is).
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):.*@/is, '$1:***@');
}

/** `sslmode` values libpq knows, and `no-verify` of node-postgres (TLS without checking the certificate). */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
const SCHEMES = ['postgres', 'postgresql'];
const REFERENCE = /\$\{(?:env|file):[^}]+\}/g;
const SHAPE = 'postgres://USER:PASSWORD@HOST:5432/DATABASE';

/** Shortest `storage.lease`: renewed every third of it, a shorter one would be renewed many times a second. */
export const MIN_LEASE_MS = 1000;

/** What `checkStorage` found: errors, warnings (legal but likely a mistake) and the URL's password for redaction. */
export interface StorageCheck {
  problems: LocalProblem[];
  warnings: LocalProblem[];
  secrets: string[];
}

/**
 * What the schema cannot say about `storage`: which fields go with which driver (`raw` is the section as written,
 * before defaults, to tell a given `path` from the default one), a `url` that is a PostgreSQL URL, and a lease that
 * outlives an attempt. `unresolved` holds the fields whose secret references were not resolved (`--no-secrets`, or
 * a reference that failed): their URL is checked with each reference standing for a value. No message shows the
 * URL's password.
 */
export function checkStorage(raw: unknown, config: Pick<Config, 'storage' | 'dispatch'>, unresolved: ReadonlySet<string>): StorageCheck {
  const out: StorageCheck = { problems: [], warnings: [], secrets: [] };
  const given = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const storage = config.storage as Partial<Config['storage']> | undefined;
  if (!storage || typeof storage !== 'object') return out;
  const error = (path: string, message: string) => out.problems.push({ path, message });
  const warn = (path: string, message: string) => out.warnings.push({ path, message });

  if (storage.driver === 'sqlite' && 'url' in given) {
    // An error, not a warning: replicas that each silently write their own file would look like HA and be none.
    error('/storage/url', 'is for driver postgres; the ledger is the SQLite file `path` (driver sqlite is the default): add `driver: postgres`, or remove `url`');
  }
  if (storage.driver !== 'postgres') return out;
  if ('path' in given) {
    // A warning: keeping the old path while moving to PostgreSQL is harmless, and it names what to migrate.
    warn('/storage/path', 'is ignored with driver postgres (the ledger is the database at `url`); to move an existing SQLite ledger there, run `alertmux migrate-storage --from PATH --to URL`, then remove `path`');
  }
  if (!('url' in given)) error('/storage/driver', `driver postgres needs \`url\`: ${SHAPE} (a password as \${env:NAME} or \${file:/path})`);
  else if (typeof given['url'] === 'string' && typeof storage.url === 'string') checkUrl(given['url'], storage.url, unresolved.has('/storage/url'), out);

  const timeout = config.dispatch?.timeout;
  if (typeof storage.lease === 'number') {
    if (storage.lease < MIN_LEASE_MS) error('/storage/lease', 'must be at least 1s (it is renewed every third of it)');
    else if (typeof timeout === 'number' && storage.lease < 3 * timeout) {
      warn(
        '/storage/lease',
        `is shorter than 3 × dispatch.timeout (${formatDuration(3 * timeout)}): it is renewed every third of it while an attempt runs, and a renewal delayed by a stalled event loop or a slow database would let another replica take over an attempt still in flight and send it twice`,
      );
    }
  }
  if (storage.statement_timeout === 0) error('/storage/statement_timeout', 'must be more than 0: a statement that hangs would hold its pool connection (and the ledger) forever');
  return out;
}

function checkUrl(written: string, resolved: string, unresolved: boolean, out: StorageCheck): void {
  const error = (message: string) => out.problems.push({ path: '/storage/url', message, keep: true });
  // Unresolved, each reference stands for a value; one in the scheme (a whole URL from a variable) leaves nothing to check.
  // `1` fits wherever a reference may stand: a user, a password, a host, a port, a database.
  const text = unresolved ? written.replace(REFERENCE, '1') : resolved;
  if (unresolved && /^[^:]*\$\{/.test(written)) return;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1];
  if (!scheme || !SCHEMES.includes(scheme.toLowerCase())) {
    const hint = scheme ? closest(scheme, SCHEMES) : undefined;
    error(`must be a postgres:// or postgresql:// URL${scheme ? `, not ${scheme}://` : ''}${hint ? `; did you mean ${hint}://?` : ''} (${SHAPE})`);
    return;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    error(`is not a valid URL: write ${SHAPE}, with reserved characters of the password percent-encoded (@ as %40, / as %2F)`);
    return;
  }
  if (!url.hostname && !url.searchParams.get('host')) error(`names no host: write ${SHAPE} (or ?host=/path/of/the/socket/directory)`);
  const mode = url.searchParams.get('sslmode');
  const modeUnknown = unresolved && /[?&]sslmode=[^&]*\$\{/.test(written);
  if (mode !== null && !modeUnknown && !SSL_MODES.includes(mode)) {
    const hint = closest(mode, SSL_MODES);
    error(`sslmode=${mode} is not one of ${SSL_MODES.join(', ')}${hint ? `; did you mean sslmode=${hint}?` : ''}`);
  }
  const query = url.searchParams.get('password'); // libpq's `?password=` form
  if (!unresolved && query) out.secrets.push(query);
  if (!unresolved && url.password) {
    out.secrets.push(url.password);
    try {
      out.secrets.push(decodeURIComponent(url.password)); // the client decodes it; a driver error could quote either form
    } catch {
      // not percent-encoded text: the raw form is all there is
    }
  }
  // The password as written: a literal one sits in the file (and in version control) in clear.
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(written)?.[1];
  const password = userinfo?.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : '';
  if (password && !password.includes('${')) {
    out.warnings.push({
      path: '/storage/url',
      message: 'holds a literal password: write it as a secret reference (postgres://USER:${env:PGPASSWORD}@HOST/DATABASE or ${file:/path}) so that it stays out of the config file',
    });
  }
}
