import { expect } from 'chai';
import pg from 'pg';
import type { LedgerEvents } from '../../src/delivery/ledger.js';
import { openPostgresLedger, type PostgresLedger, type PostgresLedgerOptions } from '../../src/delivery/postgres/ledger.js';
import { SCHEMA_NEWER } from '../../src/delivery/open-error.js';
import type { AcceptBatchItem, WriteResult } from '../../src/delivery/types.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import { freshSchema, requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { attempted, T0 } from './contract/fixtures.js';

const LEASE = 30_000;

/** What a ledger's events reported. */
function recorder() {
  const seen = { takeover: [] as Array<[number, string]>, lost: [] as string[][], reachable: [] as boolean[] };
  const events: LedgerEvents = {
    takeover: (count, from) => seen.takeover.push([count, from]),
    leaseLost: (ids) => seen.lost.push([...ids]),
    reachable: (up) => seen.reachable.push(up),
  };
  return { seen, events };
}

const accepted = (result: WriteResult, i = 0) => {
  const a = result.accepted[i];
  if (!a || 'error' in a) throw new Error(`accept failed: ${a ? a.error : 'no result'}`);
  return a;
};

// Replicas `a` and `b` on one database (a fresh schema per test, one throwaway cluster for the file): what N
// replicas need of the shared ledger (issue 23). The behaviour common to every backend is the contract suite's.
describe('the PostgreSQL ledger shared by replicas', function () {
  this.timeout(60_000);
  let cluster: PostgresCluster;
  let a: PostgresLedger;
  let b: PostgresLedger;
  let ea: ReturnType<typeof recorder>;
  let eb: ReturnType<typeof recorder>;
  let schema: string;
  const open = (replica: string, events: LedgerEvents, extra: Partial<PostgresLedgerOptions> = {}) =>
    openPostgresLedger({ url: cluster.url, poolSize: 4, statementTimeoutMs: 10_000, leaseMs: LEASE, replica, events, schema, ...extra });

  before(async function () {
    const binaries = requirePostgres(this);
    cluster = await startPostgres(binaries);
  });
  after(async () => {
    await cluster?.stop();
  });
  beforeEach(async () => {
    schema = freshSchema();
    ea = recorder();
    eb = recorder();
    // Both at once: the migration runs once, under its advisory lock.
    [a, b] = await Promise.all([open('a', ea.events), open('b', eb.events)]);
  });
  afterEach(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const write = (ledger: PostgresLedger, ...accepts: AcceptBatchItem[]) => ledger.write({ accepts, updates: [] });

  it('migrates once when replicas start together, and refuses a schema newer than it knows', async () => {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM ${schema}.alertmux_schema`);
      expect(rows).to.deep.equal([{ version: 1 }]);
      await client.query(`UPDATE ${schema}.alertmux_schema SET version = 99`);
    } finally {
      await client.end();
    }
    const err = await open('c', {}).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).to.equal(SCHEMA_NEWER);
    expect(err?.message).to.match(/version 99, newer than this alertmux knows \(1\)/);
  });

  it('commits an accept, leases its pending deliveries to the accepting replica, and records attempts under its name', async () => {
    const result = await write(a, acceptItem('n1', T0, { targets: ['t', 'u'] }));
    const stored = accepted(result);
    expect(stored.duplicates).to.deep.equal([]);
    expect(stored.seqs[1]).to.be.greaterThan(stored.seqs[0]!);
    expect((await b.deliveriesOf('n1')).map((d) => [d.id, d.state])).to.deep.equal([
      ['n1-t', 'pending'],
      ['n1-u', 'pending'],
    ]);
    // Leased to a: b cannot claim them while the lease lives.
    expect(await b.claim(T0 + 1, 10, new Set())).to.deep.equal([]);
    const update = await a.write({ accepts: [], updates: [attempted('n1-t', T0, { state: 'delivered', deliveredAt: T0 + 13, nextAttemptAt: null })] });
    expect(update.lost).to.equal(undefined);
    const [attempt] = await b.attemptsOf('n1-t');
    expect(attempt).to.include({ deliveryId: 'n1-t', replica: 'a', attempt: 1, at: T0, outcome: 'delivered', statusCode: 503 });
    expect((await b.getDelivery('n1-t'))?.state).to.equal('delivered');
  });

  it('never hands the same delivery to two concurrent claims', async () => {
    const items = Array.from({ length: 20 }, (_, i) => acceptItem(`n${i}`, T0));
    await write(a, ...items);
    await a.unlease(items.map((i) => i.deliveries[0]!.id));
    const [ca, cb] = await Promise.all([a.claim(T0, 12, new Set()), b.claim(T0, 12, new Set())]);
    const ids = [...ca, ...cb].map((d) => d.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids.length).to.equal(20);
    expect(eb.seen.takeover).to.deep.equal([]);
  });

  it('lets another replica take a delivery whose lease expired, and the stale owner’s outcome is lost, not applied', async () => {
    await write(a, acceptItem('n1', T0));
    expect(await b.nextDueAt(new Set())).to.equal(T0 + LEASE + 1);
    expect(await b.claim(T0 + LEASE - 1, 10, new Set())).to.deep.equal([]);
    const taken = await b.claim(T0 + LEASE + 1, 10, new Set());
    expect(taken.map((d) => d.id)).to.deep.equal(['n1-t']);
    expect(eb.seen.takeover).to.deep.equal([[1, 'a']]);
    const late = await a.write({ accepts: [], updates: [attempted('n1-t', T0, { state: 'delivered', nextAttemptAt: null })] });
    expect(late.lost).to.deep.equal(['n1-t']);
    expect(ea.seen.lost).to.deep.equal([['n1-t']]);
    expect((await a.getDelivery('n1-t'))?.state).to.equal('pending');
    expect(await a.attemptsOf('n1-t')).to.deep.equal([]);
    // a's renewal finds nothing of it left to renew.
    expect(await a.renewLeases(T0 + LEASE + 2)).to.deep.equal([]);
    // The new owner settles it.
    const settled = await b.write({ accepts: [], updates: [attempted('n1-t', T0 + LEASE + 1, { state: 'delivered', nextAttemptAt: null })] });
    expect(settled.lost).to.equal(undefined);
    expect((await a.attemptsOf('n1-t')).map((r) => r.replica)).to.deep.equal(['b']);
  });

  it('keeps a claim while its lease is renewed, and reports a lease lost when renewal finds it taken', async () => {
    await write(a, acceptItem('n1', T0), acceptItem('n2', T0));
    expect(await a.renewLeases(T0 + LEASE - 1)).to.deep.equal([]);
    expect(await b.claim(T0 + LEASE + 1, 10, new Set())).to.deep.equal([]);
    // Past the renewed lease, b takes both; a's next renewal finds them gone.
    expect((await b.claim(T0 + 2 * LEASE, 10, new Set())).map((d) => d.id).sort()).to.deep.equal(['n1-t', 'n2-t']);
    expect((await a.renewLeases(T0 + 2 * LEASE + 1)).sort()).to.deep.equal(['n1-t', 'n2-t']);
    expect(ea.seen.lost.flat().sort()).to.deep.equal(['n1-t', 'n2-t']);
  });

  it('keeps lane order across replicas: an accept behind another replica’s attempt is blocked until that settles', async () => {
    await write(a, acceptItem('n1', T0, { groupKey: 'g' }));
    const behind = accepted(await write(b, acceptItem('n2', T0 + 1, { groupKey: 'g' })));
    expect(behind.blocked).to.deep.equal([0]);
    // Neither superseded (a is attempting n1) nor claimable (n1 goes first).
    expect((await b.getDelivery('n1-t'))?.state).to.equal('pending');
    expect(await b.claim(T0 + 2, 10, new Set())).to.deep.equal([]);
    await a.write({ accepts: [], updates: [attempted('n1-t', T0, { state: 'delivered', nextAttemptAt: null })] });
    expect((await b.claim(T0 + 2, 10, new Set())).map((d) => d.id)).to.deep.equal(['n2-t']);
  });

  it('gives one delivery per target when an HA pair posts the same notification to both replicas at once', async () => {
    for (let round = 0; round < 20; round++) {
      const group = `g${round}`;
      const items = ['x', 'y'].map((copy) => {
        const item = acceptItem(`${group}-${copy}`, T0 + round, { groupKey: group, targets: ['t', 'u'] });
        return { ...item, dedup: dedupFor(item.deliveries, T0 - 60_000, { firing: ['f1'] }) };
      });
      const [ra, rb] = await Promise.all([write(a, items[0]!), write(b, items[1]!)]);
      const stored = [accepted(ra), accepted(rb)].filter((r) => r.stored !== false);
      expect(stored, `round ${round}`).to.have.length(1);
      for (const target of ['t', 'u']) {
        const pending = await a.list({ target, state: 'pending' });
        expect(pending.filter((d) => d.groupKey === group), `round ${round} target ${target}`).to.have.length(1);
        expect((await b.dedupState('r', group, target))?.duplicates).to.equal(1);
      }
    }
  });

  it('shares correlation state between replicas', async () => {
    await a.stateSet('slack:ts', '123.456', T0 + 1000);
    expect(await b.stateGet('slack:ts', T0)).to.equal('123.456');
    expect(await b.stateGet('slack:ts', T0 + 1001)).to.equal(undefined);
    await b.stateDelete('slack:ts');
    expect(await a.stateGet('slack:ts', T0)).to.equal(undefined);
  });

  it('runs an exclusive job on one replica at a time, and hands it over when that replica closes', async () => {
    expect(await a.exclusive('prune')).to.equal(true);
    expect(await b.exclusive('prune')).to.equal(false);
    expect(await b.exclusive('deadman')).to.equal(true);
    expect(await a.exclusive('prune')).to.equal(true);
    await a.close();
    expect(await b.exclusive('prune')).to.equal(true);
    a = await open('a', ea.events);
    expect(await a.exclusive('prune')).to.equal(false);
  });

  it('wakes the other replica when a delivery settles back to pending', async () => {
    let calls = 0;
    let wake: () => void = () => {};
    const next = () => new Promise<void>((resolve) => (wake = resolve));
    let listening = next();
    const stop = b.onWork(() => {
      calls++;
      wake();
    });
    // The first call: LISTEN is in place (it looks once after connecting).
    await listening;
    listening = next();
    await write(a, acceptItem('n1', T0));
    await a.write({ accepts: [], updates: [attempted('n1-t', T0)] });
    await listening;
    expect(calls).to.equal(2);
    // b's own commits do not wake b.
    stop();
    expect((await b.claim(T0 + 1000, 10, new Set())).map((d) => d.id)).to.deep.equal(['n1-t']);
  });

  it('rejects without the password when the database cannot be reached, and reports it unreachable', async () => {
    const url = `postgres://alertmux:s3cret-pw@127.0.0.1:${cluster.port}/postgres`;
    const refused = await openPostgresLedger({ url: url.replace(String(cluster.port), '1'), poolSize: 1, statementTimeoutMs: 1000, leaseMs: LEASE, schema }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(refused?.message).to.match(/^postgres ledger: /);
    expect(refused?.message).to.not.include('s3cret-pw');
  });

  it('reports the database unreachable when it goes away, and rejects the accept', async function () {
    const own = await startPostgres();
    const seen = recorder();
    const ledger = await openPostgresLedger({ url: own.url, poolSize: 2, statementTimeoutMs: 1000, leaseMs: LEASE, replica: 'c', events: seen.events, schema });
    try {
      await write(ledger, acceptItem('n1', T0));
      await own.stop();
      const result = await write(ledger, acceptItem('n2', T0));
      expect(result.accepted[0]).to.have.property('error');
      await ledger.stats().then(
        () => expect.fail('stats answered without a database'),
        (err: Error) => expect(err.message).to.match(/^postgres ledger: /),
      );
      expect(seen.seen.reachable).to.deep.equal([false]);
    } finally {
      await ledger.close().catch(() => {});
      await own.stop();
    }
  });
});
