import { expect } from 'chai';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import type { NewDelivery, Store } from '../../src/delivery/types.js';
import { seededRandom } from '../helpers/random.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');


/** `count` pending deliveries, each in its own notification and group, with random priority and due time. */
function fill(store: Store, count: number, next: () => number): NewDelivery[] {
  const all: NewDelivery[] = [];
  for (let i = 0; i < count; i++) {
    const n = `n${i}`;
    const d: NewDelivery = {
      id: `d${i}`,
      notificationId: n,
      target: `t${i % 3}`,
      targetType: 'webhook',
      groupKey: `g${i}`,
      notificationKey: `k${i}`,
      state: 'pending',
      priority: Math.floor(next() * 4),
      alerts: [0],
      attempts: 0,
      createdAt: T0,
      nextAttemptAt: T0 + Math.floor(next() * 100) * 1000,
    };
    store.accept({ id: n, key: `k${i}`, receiver: 'r', groupKey: `g${i}`, status: 'firing', createdAt: T0, original: '{}', enriched: '{}' }, [d], new Set());
    all.push(d);
  }
  return all;
}

describe('the retry queue of the SQLite ledger', () => {
  let store: Store;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
  });
  afterEach(() => store.close());

  it('gives the due deliveries most urgent first: by priority, then due time, then arrival', () => {
    const all = fill(store, 400, seededRandom(7));
    const now = T0 + 50_000;
    // Arrival order is accept order here, so the index in `all` stands for seq.
    const expected = all
      .map((d, seq) => ({ d, seq }))
      .filter(({ d }) => (d.nextAttemptAt ?? 0) <= now)
      .sort((a, b) => a.d.priority - b.d.priority || (a.d.nextAttemptAt ?? 0) - (b.d.nextAttemptAt ?? 0) || a.seq - b.seq)
      .map(({ d }) => d.id);
    expect(store.due(now, 1000, new Set()).map((d) => d.id)).to.deep.equal(expected);
    expect(store.due(now, 25, new Set()).map((d) => d.id)).to.deep.equal(expected.slice(0, 25));
  });

  it('leaves out deliveries in flight without letting them starve the rest of the limit', () => {
    const all = fill(store, 200, seededRandom(11));
    const now = T0 + 100_000;
    const first = store.due(now, 30, new Set()).map((d) => d.id);
    const busy = new Set(first.slice(0, 20));
    const next = store.due(now, 30, busy).map((d) => d.id);
    expect(next).to.have.length(30);
    expect(next.some((id) => busy.has(id))).to.equal(false);
    expect(next.slice(0, 10)).to.deep.equal(first.slice(20));
    expect(all).to.have.length(200);
  });

  it('finds nothing due before the first due time, and everything after the last', () => {
    fill(store, 50, seededRandom(3));
    expect(store.due(T0 - 1, 100, new Set())).to.deep.equal([]);
    expect(store.due(T0 + 1_000_000, 100, new Set())).to.have.length(50);
  });
});
