import { expect } from 'chai';
import { clientConfig, redact, redactedError, schemaName, unreachable } from '../../src/delivery/postgres/connection.js';

describe('the PostgreSQL ledger connection settings', () => {
  const url = 'postgres://alertmux:p%40ss%3Aword@db.example:5432/alertmux?sslmode=verify-full';

  it('never lets the URL password through an error message', () => {
    expect(redact('connect to postgres://alertmux:p@ss:word@db.example failed (p@ss:word)', url)).to.equal(
      'connect to postgres://alertmux:***@db.example failed (***)',
    );
    expect(redact('postgresql://u:other@h/db', 'not a url')).to.equal('postgresql://u:***@h/db');
    const err = Object.assign(new Error('password authentication failed for p@ss:word'), { code: '28P01' });
    const out = redactedError(err, url) as Error & { code?: string };
    expect(out.message).to.equal('postgres ledger: password authentication failed for ***');
    expect(out.code).to.equal('28P01');
  });

  it('sets the schema and statement timeout on every connection, TLS left to the URL', () => {
    const config = clientConfig({ url, schema: 'alertmux', statementTimeoutMs: 5000 });
    expect(config.connectionString).to.equal(url);
    expect(config.options).to.equal('-c search_path=alertmux -c statement_timeout=5000');
    expect(() => schemaName('Robert"; DROP')).to.throw(/lower-case SQL name/);
  });

  it('tells an unreachable database from a statement that failed', () => {
    expect(unreachable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).to.equal(true);
    expect(unreachable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).to.equal(true);
    expect(unreachable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    expect(unreachable(Object.assign(new Error('duplicate key'), { code: '23505' }))).to.equal(false);
    expect(unreachable(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).to.equal(false);
  });
});
