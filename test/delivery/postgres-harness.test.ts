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

  it('makes a fresh database per test, runs SQL in it, survives an immediate stop (data kept) and resumes on the same port', async () => {
    cluster = await startPostgres(binaries);
    const first = await cluster.freshDatabase();
    const second = await cluster.freshDatabase();
    expect(first).to.match(new RegExp(`^postgres://postgres@127\\.0\\.0\\.1:${cluster.port}/test_\\d+_1$`));
    expect(second).to.not.equal(first);
    cluster.sql('CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)', first);
    expect(() => cluster?.sql('SELECT * FROM t', second)).to.throw(/relation "t" does not exist/);
    await cluster.halt('immediate');
    expect(() => cluster?.sql('select 1')).to.throw(/psql failed/);
    await cluster.resume();
    expect(cluster.sql('SELECT sum(n) FROM t', first)).to.equal('3');
    await cluster.halt();
    await cluster.resume();
    expect(cluster.sql('SELECT count(*) FROM t', first)).to.equal('2');
  });
});
