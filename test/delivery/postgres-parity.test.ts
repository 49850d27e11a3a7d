import { expect } from 'chai';
import type { Ledger } from '../../src/delivery/ledger.js';
import { openPostgresLedger } from '../../src/delivery/postgres/ledger.js';
import { openSqliteLedger } from '../../src/delivery/sqlite-ledger.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import pg from 'pg';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { attempted, T0 } from './contract/fixtures.js';

/**
 * One script of ledger calls (accept, supersede, dedup, claims, outcomes, attempt history, replay, console queries,
 * pause, fallback, retention, correlation state) run on SQLite and on PostgreSQL: every answer must be the same.
 * Leases (which SQLite does not have) are given back after each accept so that both backends see the same queue.
 */
async function script(ledger: Ledger): Promise<unknown[]> {
  const out: unknown[] = [];
  const none = new Set<string>();
  const write = async (...accepts: ReturnType<typeof acceptItem>[]) => {
    const result = await ledger.write({ accepts, updates: [] });
    await ledger.unlease(accepts.flatMap((a) => a.deliveries.map((d) => d.id)));
    return result;
  };
  const n1 = acceptItem('n1', T0, { groupKey: 'g', targets: ['t', 'u'] });
  out.push(await write({ ...n1, dedup: dedupFor(n1.deliveries, T0 - 1000, { firing: ['f1'] }) }));
  const n2 = acceptItem('n2', T0 + 1, { groupKey: 'g', targets: ['t', 'u'] });
  out.push(await write({ ...n2, dedup: dedupFor(n2.deliveries, T0 - 1000, { firing: ['f1'] }) }));
  const n3 = acceptItem('n3', T0 + 2, { groupKey: 'g', targets: ['t', 'u'] });
  out.push(await write({ ...n3, dedup: dedupFor(n3.deliveries, T0 - 1000, { firing: ['f1', 'f2'] }) }));
  out.push(await write(acceptItem('n4', T0 + 3, { groupKey: 'h', targets: ['t'] })));
  out.push(await ledger.dedupState('r', 'g', 't'));
  out.push((await ledger.deliveriesOfMany(['n1', 'n2', 'n3', 'n4'])).map((d) => [d.id, d.state, d.skipReason, d.seq]));
  out.push((await ledger.claim(T0 + 5, 10, none)).map((d) => d.id));
  out.push(await ledger.write({ accepts: [], updates: [attempted('n3-t', T0 + 5), attempted('n3-u', T0 + 5, { state: 'delivered', deliveredAt: T0 + 6, nextAttemptAt: null })] }));
  out.push(await ledger.nextDueAt(new Set(['n4-t'])));
  out.push(await ledger.write({ accepts: [], updates: [attempted('n3-t', T0 + 1005, { state: 'dead', attempts: 2, nextAttemptAt: null })] }));
  out.push(await ledger.replay({ ids: ['n3-t'] }, T0 + 2000));
  out.push(await ledger.getDelivery('n3-t'));
  out.push(await ledger.attemptsOf('n3-t'));
  out.push(await ledger.attemptsOfNotification('n3'));
  out.push(await ledger.notifications({}, 10));
  out.push(await ledger.notifications({ outcome: 'partial' }, 10));
  out.push(await ledger.notifications({ target: 'u', before: { createdAt: T0 + 2, id: 'n3' } }, 10));
  out.push(await ledger.outcomeBuckets(T0, 2));
  out.push(await ledger.targetStats());
  out.push(await ledger.stats());
  out.push(await ledger.hold('t', T0 + 9000), await ledger.release('t', T0 + 3000), await ledger.wake('t', T0 + 2500));
  out.push(await ledger.latestSeq('t', 'g'));
  out.push(await ledger.list({ target: 't', limit: 5 }));
  out.push(await ledger.list({ state: 'superseded', oldestFirst: true }));
  const fallback = { ...acceptItem('n4', T0 + 4, { groupKey: 'h', targets: ['fb'] }).deliveries[0]!, id: 'n4-fb', fallbackOf: 'n4-t', fallbackFor: 't', fallbackReason: 'held' as const };
  out.push(await ledger.addFallback(fallback), await ledger.addFallback({ ...fallback, id: 'n4-fb2' }));
  out.push(await ledger.heldSince('t', T0 + 10, 5), await ledger.earliestHeld('t'));
  out.push(await ledger.deleteMany({ state: 'pending', target: 'fb' }), await ledger.delete('n4-t'), await ledger.delete('n4-t'));
  await ledger.stateSet('k', 'v', T0 + 10);
  out.push(await ledger.stateGet('k', T0), await ledger.stateGet('k', T0 + 11));
  out.push(await ledger.prune(T0 + 100_000, T0 + 100_000));
  out.push(await ledger.notifications({}, 10), await ledger.stats());
  return out;
}

describe('the PostgreSQL ledger answers as the SQLite ledger does', function () {
  this.timeout(60_000);
  let cluster: PostgresCluster;
  before(async function () {
    cluster = await startPostgres(requirePostgres(this));
  });
  after(async () => {
    await cluster?.stop();
  });

  it('gives the same answers to the same script of calls', async () => {
    const sqlite = openSqliteLedger(':memory:', { replica: 'a' });
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE parity');
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, '/parity');
    const postgres = await openPostgresLedger({ url, poolSize: 2, statementTimeoutMs: 10_000, leaseMs: 30_000, replica: 'a' });
    try {
      const expected = await script(sqlite);
      const actual = await script(postgres);
      expect(actual).to.have.length(expected.length);
      expect(JSON.stringify(expected)).to.include('"n3-t"');
      for (const [i, answer] of expected.entries()) expect(actual[i], `answer ${i}`).to.deep.equal(answer);
    } finally {
      await sqlite.close();
      await postgres.close();
    }
  });
});
