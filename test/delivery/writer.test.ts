import { expect } from 'chai';
import { LedgerWriter } from '../../src/delivery/writer.js';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import type { AcceptBatchItem, NewDelivery, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

function item(n: string, key = `key-${n}`, targets = ['t']): AcceptBatchItem {
  return {
    notification: { id: n, key, receiver: 'r', groupKey: n, status: 'firing', createdAt: T0, original: '{}', enriched: '{}' },
    deliveries: targets.map(
      (target): NewDelivery => ({
        id: `${n}-${target}`,
        notificationId: n,
        target,
        targetType: 'webhook',
        groupKey: n,
        notificationKey: key,
        state: 'pending',
        priority: 3,
        alerts: [0],
        attempts: 0,
        createdAt: T0,
        nextAttemptAt: T0,
      }),
    ),
  };
}

/** The SQLite store, counting its transactions; an accept of notification `poison` fails. */
type CountingStore = Store & { writes: Array<[number, number]> };

describe('the ledger writer (group commit)', () => {
  let store: CountingStore;
  beforeEach(() => {
    const base = openSqliteStore(':memory:');
    const write = base.write;
    store = Object.assign(base, {
      writes: [] as Array<[number, number]>,
      write: ((accepts, updates, inFlight) => {
        store.writes.push([accepts.length, updates.length]);
        if (accepts.some((a) => a.notification.id === 'poison')) throw new Error('constraint failed');
        return write(accepts, updates, inFlight);
      }) as Store['write'],
    });
  });
  afterEach(() => store.close());

  it('commits a lone accept at once, when nothing was committed in the last 2 ms', async () => {
    let now = 0;
    const writer = new LedgerWriter(store, () => new Set(), () => undefined, () => now);
    void writer.accept(item('n1'));
    expect(store.writes).to.deep.equal([[1, 0]]);
    now = 1;
    const second = writer.accept(item('n2'));
    expect(store.writes).to.have.length(1); // under load: waits for the end of the turn
    now = 10;
    void writer.accept(item('n3'));
    expect(store.writes).to.deep.equal([[1, 0], [2, 0]]);
    expect((await second)[0]?.id).to.equal('n2-t');
  });

  it('under load, commits the accepts and updates of one event-loop turn in one transaction, and resolves each after it', async () => {
    const writer = new LedgerWriter(store, () => new Set(), () => undefined, () => 0);
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

  it('isolates a failing accept: the others still commit, only it is rejected', async () => {
    const errors: unknown[] = [];
    const writer = new LedgerWriter(store, () => new Set(), (err) => errors.push(err), () => 0);
    await writer.accept(item('warm'));
    const good = writer.accept(item('good'));
    const bad = writer.accept(item('poison'));
    expect((await good).map((d) => d.id)).to.deep.equal(['good-t']);
    let rejected: unknown;
    await bad.catch((err: unknown) => (rejected = err));
    expect(String(rejected)).to.contain('constraint failed');
    expect(store.getNotification('good')).to.include({ id: 'good' });
    expect(errors).to.deep.equal([]);
  });

  it('reports updates it could not write, and still commits the accepts queued with them', async () => {
    const errors: Array<[unknown, number]> = [];
    const failing: Store = Object.assign(Object.create(store) as Store, {
      write: ((accepts, updates, inFlight) => {
        if (updates.length) throw new Error('disk I/O error');
        return store.write(accepts, updates, inFlight);
      }) as Store['write'],
    });
    const writer = new LedgerWriter(failing, () => new Set(), (err, count) => errors.push([err, count]), () => 0);
    await writer.accept(item('warm'));
    const accepted = writer.accept(item('n1'));
    writer.push({ id: 'warm-t', state: 'delivered', attempts: 1, updatedAt: T0 });
    expect((await accepted).map((d) => d.id)).to.deep.equal(['n1-t']);
    expect(errors.map(([err, count]) => [String(err), count])).to.deep.equal([['Error: disk I/O error', 1]]);
    expect(store.getDelivery('warm-t')?.state).to.equal('pending');
  });

  it('knows which targets an accept not yet committed covers, for dedup', async () => {
    const writer = new LedgerWriter(store, () => new Set(), () => undefined, () => 0);
    await writer.accept(item('warm'));
    const done = writer.accept(item('n1', 'same', ['a', 'b']));
    expect([...(writer.queuedTargets('same') ?? [])]).to.deep.equal(['a', 'b']);
    await done;
    expect(writer.queuedTargets('same')).to.equal(undefined);
    expect([...store.targetsWithKey('same', T0 - 1)].sort()).to.deep.equal(['a', 'b']);
  });

  it('writes at once when a batch is large, without waiting for the turn to end', async () => {
    const writer = new LedgerWriter(store, () => new Set(), () => undefined, () => 0);
    await writer.accept(item('warm'));
    store.writes.length = 0;
    for (let i = 0; i < 64; i++) void writer.accept(item(`n${i}`));
    expect(store.writes).to.deep.equal([[64, 0]]);
  });
});
