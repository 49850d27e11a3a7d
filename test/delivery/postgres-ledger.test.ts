import { expect } from 'chai';
import pg from 'pg';
import type { Ledger, LedgerEvents } from '../../src/delivery/ledger.js';
import { acceptArguments } from '../../src/delivery/postgres/accept.js';
import { openPostgresLedger } from '../../src/delivery/postgres/ledger.js';
import { MIGRATIONS } from '../../src/delivery/postgres/schema.js';
import type { AcceptResult, DeliveryUpdate, WriteResult } from '../../src/delivery/types.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import { eventually } from '../helpers/servers.js';
import { requirePostgres, startPostgres, type PostgresBinaries, type PostgresCluster } from '../helpers/postgres.js';

const T = 1_000_000;
const LEASE = 30_000;

interface Recorded {
  takeovers: Array<[number, string]>;
  lost: string[][];
  reachable: boolean[];
}

/** Events as a ledger reports them, and what it reported. */
function recorder(): { events: LedgerEvents } & Recorded {
  const r: Recorded = { takeovers: [], lost: [], reachable: [] };
  return {
    ...r,
    events: {
      takeover: (count, from) => r.takeovers.push([count, from]),
      leaseLost: (ids) => r.lost.push([...ids]),
      reachable: (up) => r.reachable.push(up),
    },
  };
}

const stored = (w: WriteResult, i = 0): AcceptResult => {
  const a = w.accepted[i];
  if (!a || 'error' in a) throw new Error(`accept ${i} failed: ${a ? a.error : 'missing'}`);
  return a;
};

const delivered = (id: string, at: number): DeliveryUpdate => ({ id, state: 'delivered', attempts: 1, deliveredAt: at, updatedAt: at, attemptedAt: at, lastStatus: 200, durationMs: 5 });
const retry = (id: string, at: number, next: number): DeliveryUpdate => ({
  id,
  state: 'pending',
  attempts: 1,
  nextAttemptAt: next,
  updatedAt: at,
  attemptedAt: at,
  lastStatus: 503,
  lastReason: 'serverError',
  retryable: true,
});

const noIds = new Set<string>();

describe('PostgreSQL ledger (two replicas on a throwaway cluster)', function () {
  this.timeout(60_000);
  let binaries: PostgresBinaries;
  let cluster: PostgresCluster;
  let url: string;
  const open: Ledger[] = [];
  const ledger = async (replica: string, events: LedgerEvents = {}, at = url) => {
    const l = await openPostgresLedger({ url: at, poolSize: 4, statementTimeoutMs: 5000, leaseMs: LEASE, replica, events });
    open.push(l);
    return l;
  };

  before(async function () {
    binaries = requirePostgres(this);
    cluster = await startPostgres(binaries);
  });
  after(async () => {
    await cluster?.stop();
  });
  beforeEach(async () => {
    url = await cluster.freshDatabase();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close().catch(() => {})));
  });

  it('accepts, supersedes what waits in the lane, dedups by the nflog rule and keeps every attempt on record', async () => {
    const a = await ledger('a');
    const first = acceptItem('n1', T, { groupKey: 'g', targets: ['t', 'u'] });
    expect(stored(await a.write({ accepts: [first], updates: [] }))).to.deep.equal({ seqs: [1, 2], duplicates: [] });
    const d1 = await a.getDelivery('n1-t');
    expect(d1).to.include({ state: 'pending', seq: 1, target: 't', groupKey: 'g' });
    expect(d1?.alerts).to.deep.equal([0]);

    // A newer notification of the group: n1-t waits (not in flight) and is superseded; n1-u is in flight and stays.
    const second = { ...acceptItem('n2', T + 10, { groupKey: 'g', targets: ['t', 'u'] }), inFlight: ['n1-u'] };
    expect(stored(await a.write({ accepts: [second], updates: [] })).seqs).to.deep.equal([3, 4]);
    expect((await a.getDelivery('n1-t'))?.state).to.equal('superseded');
    expect((await a.getDelivery('n1-u'))?.state).to.equal('pending');
    expect(await a.latestSeq('t', 'g')).to.equal(3);

    // Dedup: the same alerts again within the window are duplicates; nothing stored, the lane's counter goes up.
    const d = acceptItem('n3', T + 20, { groupKey: 'h' });
    expect(stored(await a.write({ accepts: [{ ...d, dedup: dedupFor(d.deliveries, 0) }], updates: [] }))).to.deep.equal({ seqs: [5], duplicates: [] });
    const again = acceptItem('n4', T + 30, { groupKey: 'h' });
    expect(stored(await a.write({ accepts: [{ ...again, dedup: dedupFor(again.deliveries, 0) }], updates: [] }))).to.deep.equal({
      seqs: [0],
      duplicates: [0],
      stored: false,
    });
    expect(await a.getNotification('n4')).to.equal(undefined);
    expect(await a.dedupState('r', 'h', 't')).to.deep.include({ firing: ['fp-a'], duplicates: 1, at: T + 20 });

    // An attempt's outcome and its history row, in one transaction.
    const w = await a.write({ accepts: [], updates: [retry('n3-t', T + 40, T + 1040)] });
    expect(w.lost).to.equal(undefined);
    expect(await a.attemptsOf('n3-t')).to.deep.equal([
      {
        deliveryId: 'n3-t',
        notificationId: 'n3',
        target: 't',
        attempt: 1,
        at: T + 40,
        replica: 'a',
        durationMs: undefined,
        statusCode: 503,
        reason: 'serverError',
        error: undefined,
        outcome: 'pending',
        nextAttemptAt: T + 1040,
        trial: false,
        replay: false,
      },
    ]);
    const summaries = await a.notifications({}, 10);
    expect(summaries.map((n) => n.id)).to.deep.equal(['n3', 'n2', 'n1']);
    expect(await a.notifications({ outcome: 'pending' }, 1)).to.have.length(1);
    expect((await a.outcomeBuckets(T, 1000)).map((b) => ({ ...b }))).to.deep.equal([{ bucket: 0, delivered: 0, partial: 0, failed: 0, accepted: 3 }]);
    expect(await a.targetStats()).to.deep.include.members([{ target: 't', pending: 2, dead: 0, oldestPendingAt: T + 10 }]);

    // Correlation state with expiry.
    await a.stateSet('k', 'v', T + 100);
    expect(await a.stateGet('k', T + 100)).to.equal('v');
    expect(await a.stateGet('k', T + 101)).to.equal(undefined);
    await a.stateDelete('k');
    expect(await a.stateGet('k', T)).to.equal(undefined);
  });

  it('gives each due delivery to one replica when both claim at once', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    const items = Array.from({ length: 30 }, (_, i) => acceptItem(`n${i}`, T, { groupKey: `g${i}` }));
    await a.write({ accepts: items, updates: [] });
    // Handed back without an attempt: claimable by anyone.
    await a.unlease(items.map((i) => `${i.notification.id}-t`));
    const [x, y] = await Promise.all([a.claim(T, 20, noIds), b.claim(T, 20, noIds)]);
    const ids = [...x, ...y].map((d) => d.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.have.length(30);
    expect(await a.claim(T, 20, noIds)).to.deep.equal([]);
  });

  it('lets another replica take over an expired lease; the stale owner cannot settle it', async () => {
    const eventsB = recorder();
    const eventsA = recorder();
    const [a, b] = [await ledger('a', eventsA.events), await ledger('b', eventsB.events)];
    await a.write({ accepts: [acceptItem('n1', T)], updates: [] });
    // Claimable from the time nextDueAt names (the lease's expiry), not a millisecond before.
    const expiry = await b.nextDueAt(noIds);
    expect(expiry).to.be.within(T + LEASE, T + LEASE + 1);
    expect(await b.claim(expiry! - 1, 10, noIds)).to.deep.equal([]);
    const taken = await b.claim(expiry!, 10, noIds);
    expect(taken.map((d) => d.id)).to.deep.equal(['n1-t']);
    expect(eventsB.takeovers).to.deep.equal([[1, 'a']]);

    const late = await a.write({ accepts: [], updates: [delivered('n1-t', expiry! + 5)] });
    expect(late.lost).to.deep.equal(['n1-t']);
    expect(eventsA.lost).to.deep.equal([['n1-t']]);
    expect(await a.getDelivery('n1-t')).to.include({ state: 'pending', attempts: 0 });
    expect(await a.attemptsOf('n1-t')).to.deep.equal([]);

    const done = await b.write({ accepts: [], updates: [delivered('n1-t', expiry! + 6)] });
    expect(done.lost).to.equal(undefined);
    expect(await b.getDelivery('n1-t')).to.include({ state: 'delivered' });
    expect((await b.attemptsOf('n1-t')).map((r) => r.replica)).to.deep.equal(['b']);
  });

  it('renews the leases it holds on its clock, reports one found gone as lost, and gives them back on close', async () => {
    // A short lease, renewed every 300 ms, on a clock the test moves.
    const SHORT = 900;
    let clock = T;
    const eventsA = recorder();
    const a = await openPostgresLedger({ url, poolSize: 2, statementTimeoutMs: 5000, leaseMs: SHORT, replica: 'a', events: eventsA.events, now: () => clock });
    open.push(a);
    const b = await ledger('b');
    await a.write({ accepts: [acceptItem('n1', T), acceptItem('n2', T, { groupKey: 'other' })], updates: [] });
    // a lives on: its renewal moves the leases past the time they would have expired.
    clock = T + 600;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const until = async () => Number((await client.query<{ lease_until: string }>(`SELECT lease_until FROM deliveries WHERE id = 'n1-t'`)).rows[0]?.lease_until);
      await eventually(async () => (await until()) >= T + 600 + SHORT, 'the lease renewed past T + 1500');
      expect(await b.claim(T + SHORT, 10, noIds)).to.deep.equal([]);
      // Taken from a behind its back (as if it had stalled): the next renewal finds it gone.
      await client.query(`UPDATE deliveries SET lease_owner = 'b' WHERE id = 'n1-t'`);
      await eventually(() => eventsA.lost.length > 0, 'the lost lease reported');
      expect(eventsA.lost).to.deep.equal([['n1-t']]);
    } finally {
      await client.end();
    }
    // Closing gives back what it still holds: claimable at once, no takeover.
    await a.close();
    const eventsC = recorder();
    const c = await ledger('c', eventsC.events);
    expect((await c.claim(T + 1, 10, noIds)).map((d) => d.id)).to.deep.equal(['n2-t']);
    expect(eventsC.takeovers).to.deep.equal([]);
  });

  it('blocks an accept behind another replica\'s attempt in its lane, and lets it be claimed once that settles', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    await a.write({ accepts: [acceptItem('n1', T, { groupKey: 'g' })], updates: [] });
    const behind = stored(await b.write({ accepts: [acceptItem('n2', T + 5, { groupKey: 'g' })], updates: [] }));
    expect(behind.blocked).to.deep.equal([0]);
    // Not superseded under a's feet, and not b's to attempt while a's attempt runs.
    expect((await a.getDelivery('n1-t'))?.state).to.equal('pending');
    expect(await b.claim(T + 10, 10, noIds)).to.deep.equal([]);
    await a.write({ accepts: [], updates: [delivered('n1-t', T + 20)] });
    expect((await b.claim(T + 30, 10, noIds)).map((d) => d.id)).to.deep.equal(['n2-t']);
  });

  it('stores one delivery per target when two replicas accept the same notification at the same moment (20 rounds)', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    for (let round = 0; round < 20; round++) {
      const at = T + round * 1000;
      const group = `g${round}`;
      const one = acceptItem(`a${round}`, at, { groupKey: group, targets: ['t', 'u'] });
      const two = acceptItem(`b${round}`, at, { groupKey: group, targets: ['t', 'u'] });
      const [x, y] = await Promise.all([
        a.write({ accepts: [{ ...one, dedup: dedupFor(one.deliveries, 0) }], updates: [] }),
        b.write({ accepts: [{ ...two, dedup: dedupFor(two.deliveries, 0) }], updates: [] }),
      ]);
      const results = [stored(x), stored(y)];
      expect(results.filter((r) => r.stored === false)).to.have.length(1);
      const pending = (await a.list({ state: 'pending', limit: 1000 })).filter((d) => d.groupKey === group);
      expect(pending.map((d) => d.target).sort()).to.deep.equal(['t', 'u']);
    }
  });

  it('runs a job on one replica at a time, and on another once the holder closes', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    expect(await a.exclusive('prune')).to.equal(true);
    expect(await b.exclusive('prune')).to.equal(false);
    expect(await b.exclusive('deadman')).to.equal(true);
    expect(await a.exclusive('prune')).to.equal(true);
    await a.close();
    expect(await b.exclusive('prune')).to.equal(true);
  });

  it('wakes the other replica when a settle makes work claimable', async () => {
    const [a, b] = [await ledger('a'), await ledger('b')];
    let woken!: () => void;
    const wake = new Promise<void>((resolve) => (woken = resolve));
    const stop = b.onWork(() => woken());
    await a.write({ accepts: [acceptItem('n1', T)], updates: [] });
    await a.write({ accepts: [], updates: [retry('n1-t', T + 1, T + 2)] });
    await wake;
    stop();
    expect((await b.claim(T + 2, 10, noIds)).map((d) => d.id)).to.deep.equal(['n1-t']);
  });

  it('upgrades a database of the first release in place: a delivery the older replica accepted is settled by the newer one', async () => {
    // What a replica of the first release (schema version 2) leaves: its tables, its functions, a pending delivery.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE alertmux_schema (version integer NOT NULL); INSERT INTO alertmux_schema VALUES (2)');
      for (const migration of MIGRATIONS.slice(0, 2)) await client.query(migration);
      const [items, originals, enricheds] = acceptArguments([acceptItem('n1', T)]);
      await client.query('SELECT alertmux_accept_batch($1, $2, $3, $4, $5)', [items, originals, enricheds, 'old', LEASE]);
    } finally {
      await client.end();
    }
    const a = await ledger('old');
    expect((await a.getDelivery('n1-t'))?.state).to.equal('pending');
    const written = await a.write({ accepts: [acceptItem('n2', T + 1)], updates: [delivered('n1-t', T + 2)] });
    expect(written.updateError).to.equal(undefined);
    stored(written);
    expect((await a.getDelivery('n1-t'))?.state).to.equal('delivered');
    expect((await a.attemptsOf('n1-t')).map((x) => [x.attempt, x.replica, x.statusCode])).to.deep.equal([[1, 'old', 200]]);
  });

  it('refuses to open a database migrated by a newer alertmux', async () => {
    const a = await ledger('a');
    await a.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('UPDATE alertmux_schema SET version = 99');
    await client.end();
    const err = await ledger('b').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/schema version 99 is newer than this alertmux/);
  });

  it('rejects while the database is down (without its password in any message) and recovers when it returns', async () => {
    const secretUrl = url.replace('postgres@', 'postgres:s3cret-pw@');
    const events = recorder();
    const a = await ledger('a', events.events, secretUrl);
    await a.write({ accepts: [acceptItem('n1', T)], updates: [] });
    await cluster.halt();
    try {
      const down = await a.write({ accepts: [acceptItem('n2', T + 1)], updates: [delivered('n1-t', T + 2)] });
      const failed = down.accepted[0];
      expect(failed && 'error' in failed).to.equal(true);
      expect(down.updateError).to.be.a('string');
      const read = await a.getDelivery('n1-t').then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(read).to.be.instanceOf(Error);
      for (const message of [JSON.stringify(down), read?.message ?? '']) expect(message).to.not.include('s3cret-pw');
      expect(events.reachable).to.deep.equal([false]);
    } finally {
      await cluster.resume();
    }
    // The pool connects again by itself.
    let result: WriteResult | undefined;
    for (let i = 0; i < 50; i++) {
      result = await a.write({ accepts: [acceptItem('n3', T + 3)], updates: [] });
      if (!('error' in (result.accepted[0] ?? { error: '' }))) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(stored(result!).seqs).to.have.length(1);
    expect(events.reachable).to.deep.equal([false, true]);
    expect((await a.getDelivery('n1-t'))?.state).to.equal('pending');
    expect(await a.getNotification('n2')).to.equal(undefined);
  });
});
