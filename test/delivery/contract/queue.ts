import { expect } from 'chai';
import type { NewDelivery, Store } from '../../../src/delivery/types.js';
import { seededRandom } from '../../helpers/random.js';
import { T0, delivery, notification } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

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

/** Due and claim order: what the worker takes next. */
export function queueContract(backend: StoreBackend): void {
  describe('the retry queue', () => {
    const ledger = useStore(backend);
    let store: Store;
    beforeEach(() => {
      store = ledger();
    });

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

    it('orders due deliveries by priority, then due time, and skips the excluded', () => {
      store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a', priority: 2, nextAttemptAt: T0 - 10 })], new Set());
      store.accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', priority: 0, nextAttemptAt: T0 })], new Set());
      store.accept(notification('n3', 'c'), [delivery('d3', 'n3', { groupKey: 'c', priority: 2, nextAttemptAt: T0 - 20 })], new Set());
      store.accept(notification('n4', 'd'), [delivery('d4', 'n4', { groupKey: 'd', priority: 0, nextAttemptAt: T0 + 1000 })], new Set());
      expect(store.due(T0, 10, new Set()).map((d) => d.id)).to.deep.equal(['d2', 'd3', 'd1']);
      expect(store.due(T0, 2, new Set(['d2'])).map((d) => d.id)).to.deep.equal(['d3', 'd1']);
      expect(store.nextDueAt(new Set(['d3', 'd1', 'd2']))).to.equal(T0 + 1000);
    });

    it('wakes the waiting deliveries of a recovered target', () => {
      store.accept(notification('n1'), [delivery('d1', 'n1')], new Set());
      store.update([{ id: 'd1', state: 'pending', attempts: 0, skipReason: 'circuit_open', nextAttemptAt: T0 + 60_000, updatedAt: T0 }]);
      expect(store.wake('t', T0 + 1)).to.equal(1);
      expect(store.getDelivery('d1')?.nextAttemptAt).to.equal(T0 + 1);
      expect(store.wake('other', T0 + 1)).to.equal(0);
    });
  });
}
