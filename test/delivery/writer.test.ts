import { expect } from 'chai';
import sinon from 'sinon';
import { LedgerWriter, type WriteListener } from '../../src/delivery/writer.js';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import type { AcceptBatchItem, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

const item = (n: string, key = `key-${n}`, targets = ['t']): AcceptBatchItem => acceptItem(n, T0, { key, targets, groupKey: key === `key-${n}` ? n : key });

/** A listener that ignores what the writer reports. */
const quiet: WriteListener = { failed: () => undefined, written: () => undefined, lost: () => undefined, ok: () => undefined };

/** A listener recording the failures the writer reports: the error and how many updates were not written. */
function failures(): { listener: WriteListener; errors: Array<[unknown, number]> } {
  const errors: Array<[unknown, number]> = [];
  return { errors, listener: { ...quiet, failed: (err, updates) => void errors.push([err, updates.length]) } };
}

/** The SQLite store, counting its batches. */
type CountingStore = Store & { writes: Array<[number, number]> };

describe('the ledger writer (group commit)', () => {
  let store: CountingStore;
  beforeEach(() => {
    const base = openSqliteStore(':memory:');
    const write = base.write;
    store = Object.assign(base, {
      writes: [] as Array<[number, number]>,
      write: ((batch) => {
        store.writes.push([batch.accepts.length, batch.updates.length]);
        return write(batch);
      }) as Store['write'],
    });
  });
  afterEach(() => store.close());

  it('commits a lone accept at once, when nothing was committed in the last 2 ms', async () => {
    let now = 0;
    const writer = new LedgerWriter(store, quiet, () => now);
    await writer.accept(item('n1'));
    expect(store.writes).to.deep.equal([[1, 0]]);
    now = 1;
    const second = writer.accept(item('n2'));
    expect(store.writes).to.have.length(1); // under load: waits for the end of the turn
    now = 10;
    const third = writer.accept(item('n3'));
    expect(store.writes).to.deep.equal([[1, 0], [2, 0]]);
    expect((await second)[0]?.id).to.equal('n2-t');
    expect((await third)[0]?.seq).to.be.greaterThan((await second)[0]!.seq);
  });

  it('commits accepts nothing waits for at the end of the turn, even when idle, together', async () => {
    const writer = new LedgerWriter(store, quiet, () => 100);
    const first = writer.accept(item('n1'), true);
    expect(store.writes).to.deep.equal([]);
    const second = writer.accept(item('n2'), true);
    await Promise.all([first, second]);
    expect(store.writes).to.deep.equal([[2, 0]]);
  });

  it('under load, commits the accepts and updates of one event-loop turn in one transaction, and resolves each after it', async () => {
    const writer = new LedgerWriter(store, quiet, () => 0);
    await writer.accept(item('n0'));
    store.writes.length = 0;
    const first = writer.accept(item('n1'));
    const second = writer.accept(item('n2'));
    writer.push({ id: 'n0-t', state: 'delivered', attempts: 1, updatedAt: T0 });
    expect(store.getNotification('n1')).to.equal(undefined); // nothing before the commit
    const [a, b] = await Promise.all([first, second]);
    expect(store.writes).to.deep.equal([[2, 1]]);
    expect(a.map((d) => d.id)).to.deep.equal(['n1-t']);
    expect(b[0]?.seq).to.be.greaterThan(a[0]!.seq);
    expect(store.getDelivery('n2-t')?.state).to.equal('pending');
  });

  it('commits one batch at a time: what arrives while one is committed waits and goes in the next', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const write = store.write;
    const calls: string[][] = [];
    store.write = async (batch) => {
      calls.push(batch.accepts.map((a) => a.notification.id));
      if (calls.length === 1) await gate;
      return write(batch);
    };
    const writer = new LedgerWriter(store, quiet, () => 0);
    const slow = writer.accept(item('slow'));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [writer.accept(item('n1')), writer.accept(item('n2'))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).to.deep.equal([['slow']]);
    release();
    await Promise.all([slow, ...later]);
    expect(calls).to.deep.equal([['slow'], ['n1', 'n2']]);
  });

  it('isolates a failing accept: the others still commit, only it is rejected', async () => {
    const { errors, listener } = failures();
    const writer = new LedgerWriter(store, listener, () => 0);
    await writer.accept(item('warm'));
    const good = writer.accept(item('good'));
    const bad = writer.accept(item('warm')); // the same notification id again: a constraint violation
    expect((await good).map((d) => d.id)).to.deep.equal(['good-t']);
    let rejected: unknown;
    await bad.catch((err: unknown) => (rejected = err));
    expect(String(rejected)).to.contain('UNIQUE constraint failed');
    expect(store.getNotification('good')).to.include({ id: 'good' });
    expect(store.writes.slice(1)).to.deep.equal([[2, 0]]);
    // Reported as a failed write with no updates lost.
    expect(errors.map(([err, count]) => [String(err).includes('UNIQUE constraint failed'), count])).to.deep.equal([[true, 0]]);
  });

  it('reports updates it could not write, and still commits the accepts queued with them', async () => {
    const { errors, listener } = failures();
    const writer = new LedgerWriter(store, listener, () => 0);
    await writer.accept(item('warm'));
    const accepted = writer.accept(item('n1'));
    // A value SQLite cannot bind makes the update fail.
    writer.push({ id: 'warm-t', state: 'delivered', attempts: 1, updatedAt: T0, lastError: {} as unknown as string });
    expect((await accepted).map((d) => d.id)).to.deep.equal(['n1-t']);
    await writer.flush();
    expect(errors).to.have.length(1);
    expect(String(errors[0]?.[0])).to.match(/SQLite3 can only bind/);
    expect(errors[0]?.[1]).to.equal(1);
    expect(store.getDelivery('warm-t')?.state).to.equal('pending');
  });

  it('rejects every accept of a batch the store could not take at all, and reports its updates', async () => {
    const { errors, listener } = failures();
    store.write = () => Promise.reject(new Error('ledger writer thread exited (code 1)'));
    const writer = new LedgerWriter(store, listener, () => 0);
    writer.push({ id: 'x', state: 'delivered', attempts: 1, updatedAt: T0 });
    let rejected: unknown;
    await writer.accept(item('n1')).catch((err: unknown) => (rejected = err));
    expect(String(rejected)).to.contain('thread exited');
    expect(errors.map(([err, count]) => [String(err), count])).to.deep.equal([['Error: ledger writer thread exited (code 1)', 1]]);
  });

  it('passes each accept\'s dedup window and lanes in flight to the store, and resolves duplicates as skipped records', async () => {
    const writer = new LedgerWriter(store, quiet, () => 0);
    const first = item('n1', 'same', ['a', 'b']);
    await writer.accept({ ...first, dedup: dedupFor(first.deliveries, T0 - 1) });
    const seen: unknown[] = [];
    const write = store.write;
    store.write = (batch) => {
      seen.push(batch.accepts.map((a) => [a.dedup?.since, a.inFlight]));
      return write(batch);
    };
    const second = item('n2', 'same', ['a', 'c']);
    const records = await writer.accept({ ...second, dedup: dedupFor(second.deliveries, T0 - 1), inFlight: ['n1-a'] });
    expect(seen).to.deep.equal([[[T0 - 1, ['n1-a']]]]);
    expect(records.map((d) => [d.target, d.state, d.skipReason ?? null])).to.deep.equal([
      ['a', 'skipped', 'duplicate'],
      ['c', 'pending', null],
    ]);
  });

  it('writes at once when a batch is large, without waiting for the turn to end', async () => {
    const writer = new LedgerWriter(store, quiet, () => 0);
    await writer.accept(item('warm'));
    store.writes.length = 0;
    const all = [];
    for (let i = 0; i < 64; i++) all.push(writer.accept(item(`n${i}`)));
    expect(store.writes).to.deep.equal([[64, 0]]);
    await Promise.all(all);
  });

  it('lets updates alone wait for an accept to ride with, and commits them on their own after 50 ms', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const writer = new LedgerWriter(store, quiet, () => 0);
      await writer.accept(item('n0'));
      await writer.accept(item('n1'));
      store.writes.length = 0;
      writer.push({ id: 'n0-t', state: 'delivered', attempts: 1, updatedAt: T0 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.writes).to.deep.equal([]); // not at the end of the turn
      await writer.accept(item('n2'));
      expect(store.writes).to.deep.equal([[1, 1]]); // rode along with the accept
      writer.push({ id: 'n1-t', state: 'delivered', attempts: 1, updatedAt: T0 });
      await clock.tickAsync(49);
      expect(store.writes).to.have.length(1);
      await clock.tickAsync(1);
      expect(store.writes).to.deep.equal([[1, 1], [0, 1]]);
      expect(store.getDelivery('n1-t')?.state).to.equal('delivered');
    } finally {
      clock.restore();
    }
  });

  it('applies the updates of a batch before its accepts, so a delivered delivery is not superseded by a newer one of its group', async () => {
    const writer = new LedgerWriter(store, quiet, () => 0);
    await writer.accept(item('n1', 'k1'));
    const next = { ...item('n2', 'k2'), notification: { ...item('n2', 'k2').notification, groupKey: 'n1' } };
    next.deliveries = next.deliveries.map((d) => ({ ...d, groupKey: 'n1' }));
    writer.push({ id: 'n1-t', state: 'delivered', attempts: 1, deliveredAt: T0, updatedAt: T0 });
    await writer.accept(next);
    expect(store.getDelivery('n1-t')).to.include({ state: 'delivered' });
    expect(store.getDelivery('n2-t')).to.include({ state: 'pending' });
  });

  it('flush resolves once everything queued before it is committed', async () => {
    const writer = new LedgerWriter(store, quiet, () => 0);
    await writer.accept(item('n0'));
    writer.push({ id: 'n0-t', state: 'delivered', attempts: 1, updatedAt: T0 });
    expect(store.getDelivery('n0-t')?.state).to.equal('pending');
    await writer.flush();
    expect(store.getDelivery('n0-t')?.state).to.equal('delivered');
  });

  it("reports updates another replica took over (lost leases) as lost, not written and not failed; the rest as written", async () => {
    const reported: Record<'failed' | 'written' | 'lost', string[]> = { failed: [], written: [], lost: [] };
    const listener: WriteListener = {
      failed: (_err, updates) => void reported.failed.push(...updates.map((u) => u.id)),
      written: (updates) => void reported.written.push(...updates.map((u) => u.id)),
      lost: (updates) => void reported.lost.push(...updates.map((u) => u.id)),
      ok: () => undefined,
    };
    // A shared ledger's answer: the update of d2 was not applied, another replica holds its lease now.
    const ledger = { write: async () => ({ accepted: [], lost: ['d2'] }) };
    const writer = new LedgerWriter(ledger, listener, () => 0);
    for (const id of ['d1', 'd2', 'd3']) writer.push({ id, state: 'delivered', attempts: 1, updatedAt: T0 });
    await writer.flush();
    expect(reported).to.deep.equal({ failed: [], written: ['d1', 'd3'], lost: ['d2'] });
  });

  it('resolves the records of an accept with those blocked behind another replica marked', async () => {
    const blocked = item('n1', 'k1', ['a', 'b', 'c']);
    const ledger = { write: async () => ({ accepted: [{ seqs: [1, 2, 3], duplicates: [], blocked: [1] }] }) };
    const records = await new LedgerWriter(ledger, quiet, () => 0).accept(blocked);
    expect(records.map((r) => r.seq)).to.deep.equal([1, 2, 3]);
    expect(records.blocked && [...records.blocked].map((r) => r.target)).to.deep.equal(['b']);
    // SQLite never blocks: no mark at all.
    expect((await new LedgerWriter(store, quiet, () => 0).accept(item('n2'))).blocked).to.equal(undefined);
  });
});
