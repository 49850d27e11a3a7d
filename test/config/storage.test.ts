import { expect } from 'chai';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { restartOnlyChanges } from '../../src/config/restart-only.js';
import { redactUrl, storageOptions } from '../../src/config/storage.js';
import { config } from '../helpers/fixtures.js';
import { targetKinds } from '../../src/publishers/registry.js';

const FILE = '/etc/alertmux/alertmux.yml';

/** Every problem line of a config the loader rejects (fails the test if it loads). */
function rejected(text: string, env: Record<string, string> = {}, syntaxOnly = false): string[] {
  try {
    parseConfig(text, { env, baseDir: '/tmp', kinds: targetKinds, file: FILE, syntaxOnly });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return [...(err as ConfigError).details];
  }
  throw new Error('expected the config to be rejected');
}

const load = (text: string, env: Record<string, string> = {}, syntaxOnly = false) => parseConfig(text, { env, baseDir: '/tmp', kinds: targetKinds, file: FILE, syntaxOnly });

describe('config: storage', () => {
  it('defaults to SQLite at data/alertmux.db, with the PostgreSQL settings at their defaults', () => {
    const c = config('{}');
    expect(c.storage).to.deep.include({ driver: 'sqlite', path: '/tmp/data/alertmux.db', pool_size: 10, statement_timeout: 5000, lease: 30_000, retention: 7 * 86_400_000 });
    expect(c.storage.url).to.equal(undefined);
    expect(c.warnings).to.deep.equal(['the config has no targets: notifications are accepted and delivered nowhere']);
    expect(storageOptions(c.storage)).to.deep.equal({ driver: 'sqlite', path: '/tmp/data/alertmux.db' });
  });

  it('loads driver postgres with a password reference, and registers the password for redaction', () => {
    const c = load(
      'storage:\n  driver: postgres\n  url: postgres://alertmux:${env:PGPASSWORD}@db:5432/alertmux?sslmode=verify-full\n  pool_size: 4\n  statement_timeout: 2s\n  lease: 45s\n',
      { PGPASSWORD: 'pa%40ss' },
    );
    expect(c.storage.url).to.equal('postgres://alertmux:pa%40ss@db:5432/alertmux?sslmode=verify-full');
    // The value of the reference, and the password as the client decodes it (pa@ss).
    expect(c.secrets).to.include.members(['pa%40ss', 'pa@ss']);
    expect(c.warnings).to.have.length(1); // no targets, nothing about storage
    expect(storageOptions(c.storage)).to.deep.equal({
      driver: 'postgres',
      url: 'postgres://alertmux:pa%40ss@db:5432/alertmux?sslmode=verify-full',
      poolSize: 4,
      statementTimeoutMs: 2000,
      leaseMs: 45_000,
    });
  });

  it('registers the password of a URL given whole by a reference', () => {
    const readFile = (path: string) => (path === '/run/secrets/db-url' ? 'postgres://alertmux:s3cret@db/alertmux\n' : '');
    const c = parseConfig('storage: {driver: postgres, url: "${file:/run/secrets/db-url}"}', { env: {}, baseDir: '/tmp', kinds: targetKinds, readFile });
    expect(c.storage.url).to.equal('postgres://alertmux:s3cret@db/alertmux');
    expect(c.secrets).to.include('s3cret');
    expect(c.warnings!.join()).not.to.contain('literal password');
    expect(load('storage: {driver: postgres, url: "postgres://db/a?password=${env:P}"}', { P: 'hunter2' }).secrets).to.include('hunter2');
  });

  it('accepts postgresql:// and a socket directory given as ?host=', () => {
    expect(load('storage: {driver: postgres, url: "postgresql:///alertmux?host=/var/run/postgresql&user=alertmux"}').storage.url).to.match(/^postgresql:/);
  });

  it('rejects url under driver sqlite (an error: replicas on their own files would only look highly available)', () => {
    expect(rejected('storage:\n  url: postgres://db/alertmux\n')).to.deep.equal([
      `${FILE}:2:8: storage.url: is for driver postgres; the ledger is the SQLite file \`path\` (driver sqlite is the default): add \`driver: postgres\`, or remove \`url\``,
    ]);
  });

  it('warns, without failing, about path under driver postgres (it is ignored; migrate-storage moves its content)', () => {
    const c = load('storage:\n  driver: postgres\n  path: /var/lib/alertmux/alertmux.db\n  url: postgres://alertmux:${env:PGPASSWORD}@db/alertmux\n', { PGPASSWORD: 'x' });
    expect(c.warnings).to.include(
      `${FILE}:3:9: storage.path: is ignored with driver postgres (the ledger is the database at \`url\`); to move an existing SQLite ledger there, run \`alertmux migrate-storage --from PATH --to URL\`, then remove \`path\``,
    );
  });

  it('requires url under driver postgres', () => {
    expect(rejected('storage: {driver: postgres}')).to.deep.equal([
      `${FILE}:1:19: storage.driver: driver postgres needs \`url\`: postgres://USER:PASSWORD@HOST:5432/DATABASE (a password as \${env:NAME} or \${file:/path})`,
    ]);
  });

  it('suggests the driver meant by a typo', () => {
    expect(rejected('storage: {driver: postgresql}')).to.deep.equal([`${FILE}:1:19: storage.driver: must be one of sqlite, postgres; did you mean postgres?`]);
  });

  it('suggests the storage field meant by a typo', () => {
    expect(rejected('storage: {driver: postgres, url: "postgres://db/a", pool_sise: 3}')).to.deep.equal([
      `${FILE}:1:53: storage: unknown field \`pool_sise\`; did you mean \`pool_size\`?`,
    ]);
  });

  describe('a malformed URL, never showing its password', () => {
    const cases: Array<[string, RegExp]> = [
      ['mysql://root:hunter2@db/a', /storage\.url: must be a postgres:\/\/ or postgresql:\/\/ URL, not mysql:\/\/ \(postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE\)$/],
      ['postgre://root:hunter2@db/a', /not postgre:\/\/; did you mean postgres:\/\/\?/],
      ['root:hunter2@db/a', /must be a postgres:\/\/ or postgresql:\/\/ URL \(/],
      ['postgres://root:hunter2@db:99999/a', /storage\.url: is not a valid URL: write postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE, with reserved characters of the password percent-encoded/],
      ['postgres://root:hunter2@/a', /storage\.url: is not a valid URL/],
      ['postgres:///a?password=hunter2', /storage\.url: names no host: write/],
      ['postgres://root:hunter2@db/a?sslmode=verify_full', /storage\.url: sslmode=verify_full is not one of disable, allow, prefer, require, verify-ca, verify-full, no-verify; did you mean sslmode=verify-full\?$/],
    ];
    for (const [url, message] of cases) {
      it(url.replace('hunter2', '***'), () => {
        const lines = rejected(`storage:\n  driver: postgres\n  url: "${url}"\n`);
        expect(lines).to.have.length(1);
        expect(lines[0]).to.match(message);
        expect(lines[0]).to.match(/^\/etc\/alertmux\/alertmux\.yml:3:8: /);
        expect(lines.join('\n')).not.to.contain('hunter2');
      });
    }

    it('not even when the password came from a reference', () => {
      const lines = rejected('storage: {driver: postgres, url: "mysql://root:${env:PW}@db/a"}', { PW: 'hunter2' });
      expect(lines.join('\n')).to.contain('not mysql://').and.not.contain('hunter2');
    });
  });

  describe('check-config --no-secrets (references not resolved)', () => {
    it('still checks the URL around its references', () => {
      expect(load('storage: {driver: postgres, url: "postgres://alertmux:${env:PGPASSWORD}@db/alertmux?sslmode=require"}', {}, true).storage.driver).to.equal('postgres');
      expect(rejected('storage: {driver: postgres, url: "postgres://alertmux:${env:PGPASSWORD}@db/a?sslmode=on"}', {}, true)[0]).to.match(/sslmode=on is not one of/);
      expect(rejected('storage: {driver: postgres, url: "pg://u:${env:PGPASSWORD}@db/a"}', {}, true)[0]).to.match(/not pg:\/\//);
    });

    it('takes a reference for any part: user, host, port, database, sslmode', () => {
      const c = load('storage: {driver: postgres, url: "postgres://${env:U}:${env:P}@${env:H}:${env:PORT}/${env:DB}?sslmode=${env:M}"}', {}, true);
      expect(c.storage.driver).to.equal('postgres');
    });

    it('leaves a URL given whole by a reference unchecked', () => {
      expect(load('storage: {driver: postgres, url: "${env:DATABASE_URL}"}', {}, true).storage.driver).to.equal('postgres');
    });

    it('flags a literal password (a warning, in every mode), never showing it', () => {
      for (const syntaxOnly of [true, false]) {
        const c = load('storage: {driver: postgres, url: "postgres://alertmux:hunter2@db/alertmux"}', {}, syntaxOnly);
        const w = c.warnings!.filter((x) => x.includes('storage.url'));
        expect(w).to.deep.equal([
          `${FILE}:1:34: storage.url: holds a literal password: write it as a secret reference (postgres://USER:\${env:PGPASSWORD}@HOST/DATABASE or \${file:/path}) so that it stays out of the config file`,
        ]);
        expect(c.secrets).to.include('hunter2');
      }
      // A reference for the password, or no password at all, is no warning.
      expect(load('storage: {driver: postgres, url: "postgres://alertmux@db/alertmux"}').warnings!.join()).not.to.contain('literal password');
      expect(load('storage: {driver: postgres, url: "postgres://a:${env:P}@db/a"}', { P: 'x' }).warnings!.join()).not.to.contain('literal password');
    });
  });

  describe('lease', () => {
    it('warns when shorter than 3 × dispatch.timeout (a renewal late by a stall would hand an attempt in flight to another replica)', () => {
      const c = load('dispatch: {timeout: 10s}\nstorage: {driver: postgres, url: "postgres://db/a", lease: 20s}');
      expect(c.warnings!.find((w) => w.includes('storage.lease'))).to.equal(
        `${FILE}:2:60: storage.lease: is shorter than 3 × dispatch.timeout (30s): it is renewed every third of it while an attempt runs, and a renewal delayed by a stalled event loop or a slow database would let another replica take over an attempt still in flight and send it twice`,
      );
      expect(load('dispatch: {timeout: 10s}\nstorage: {driver: postgres, url: "postgres://db/a", lease: 30s}').warnings!.join()).not.to.contain('storage.lease');
      // SQLite has one process and nobody to take over: no warning.
      expect(load('dispatch: {timeout: 10s}\nstorage: {lease: 20s}').warnings!.join()).not.to.contain('storage.lease');
    });

    it('must be at least 1s; statement_timeout more than 0; pool_size 1..100', () => {
      expect(rejected('storage: {driver: postgres, url: "postgres://db/a", lease: 500ms, statement_timeout: 0, pool_size: 101}')).to.deep.equal([
        `${FILE}:1:60: storage.lease: must be at least 1s (it is renewed every third of it)`,
        `${FILE}:1:86: storage.statement_timeout: must be more than 0: a statement that hangs would hold its pool connection (and the ledger) forever`,
        `${FILE}:1:100: storage.pool_size: must be <= 100`,
      ]);
    });
  });

  it('is restart-only, every field but retention (read by each prune)', () => {
    const running = config('storage: {driver: postgres, url: "postgres://db/a"}');
    const next = config('storage: {driver: postgres, url: "postgres://db2/a", pool_size: 3, statement_timeout: 1s, lease: 1m, retention: 1d}');
    expect(restartOnlyChanges(running, next)).to.deep.equal(['storage.url', 'storage.pool_size', 'storage.statement_timeout', 'storage.lease']);
    expect(restartOnlyChanges(config('{}'), config('storage: {driver: postgres, url: "postgres://db/a"}'))).to.deep.equal(['storage.driver', 'storage.url']);
  });

  it('redactUrl hides the password of a URL, whatever it holds', () => {
    expect(redactUrl('postgres://alertmux:s3cr/t@x@db:5432/a?sslmode=require')).to.equal('postgres://alertmux:***@db:5432/a?sslmode=require');
    expect(redactUrl('postgresql://u:p@db/a')).to.equal('postgresql://u:***@db/a');
    expect(redactUrl('postgres://u@db/a')).to.equal('postgres://u@db/a');
    expect(redactUrl('postgres://db/a')).to.equal('postgres://db/a');
  });
});
