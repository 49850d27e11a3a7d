import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requirePostgres, startPostgres, type PostgresBinaries, type PostgresCluster } from '../helpers/postgres.js';

// The throwaway cluster the PostgreSQL ledger's tests (issue 23) will run on: proven here with psql alone.
describe('the throwaway PostgreSQL cluster of the tests', function () {
  this.timeout(60_000);
  let binaries: PostgresBinaries;
  let cluster: PostgresCluster | undefined;

  before(function () {
    binaries = requirePostgres(this);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('starts on a free loopback port with trust auth, answers a query, and leaves nothing behind once stopped', async () => {
    cluster = await startPostgres(binaries);
    expect(cluster.url).to.equal(`postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    expect(existsSync(join(cluster.dir, 'data', 'PG_VERSION'))).to.equal(true);
    const psql = existsSync(join(binaries.bin, 'psql')) ? join(binaries.bin, 'psql') : 'psql';
    const query = spawnSync(psql, [cluster.url, '-XAtc', 'select 1'], { encoding: 'utf8' });
    expect(query.stderr).to.equal('');
    expect(query.status).to.equal(0);
    expect(query.stdout.trim()).to.equal('1');
    const { dir, url } = cluster;
    await cluster.stop();
    cluster = undefined;
    expect(existsSync(dir)).to.equal(false);
    // Stopped means stopped: nothing answers on its port any more.
    const after = spawnSync(psql, [url, '-XAtc', 'select 1'], { encoding: 'utf8' });
    expect(after.status).to.not.equal(0);
  });

  it('runs SQL in a database of its own, survives an immediate stop (data kept) and starts again on the same port', async () => {
    cluster = await startPostgres(binaries);
    cluster.createDatabase('kept');
    cluster.sql('CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)', 'kept');
    expect(cluster.urlOf('kept')).to.equal(`postgres://postgres@127.0.0.1:${cluster.port}/kept`);
    await cluster.crash();
    expect(() => cluster?.sql('select 1')).to.throw(/psql failed/);
    await cluster.start();
    expect(cluster.sql('SELECT sum(n) FROM t', 'kept')).to.equal('3');
    expect(() => cluster?.createDatabase('Not-Plain')).to.throw(/not a plain database name/);
  });
});
