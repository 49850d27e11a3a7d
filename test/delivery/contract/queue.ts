import { expect } from 'chai';
import type { Ledger } from '../../../src/delivery/ledger.js';
import type { NewDelivery } from '../../../src/delivery/types.js';
import { seededRandom } from '../../helpers/random.js';
import { T0, attempted, delivery, none, notification, ops, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** `count` pending deliveries, each in its own notification and group, with random priority and due time. */
async function fill(ledger: Ledger, count: number, next: () => number): Promise<NewDelivery[]> {
  const { accept } = ops(ledger);
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
    await accept({ id: n, key: `k${i}`, receiver: 'r', groupKey: `g${i}`, status: 'firing', createdAt: T0, original: '{}', enriched: '{}' }, [d], new Set());
    all.push(d);
  }
  return all;
}

/** Due and claim order: what the worker takes next. */
export function queueContract(backend: StoreBackend): void {
  describe('the retry queue', () => {
    const ledger = useStore(backend);
    let store: Ledger;
    let accept: LedgerOps['accept'];
    let update: LedgerOps['update'];
    let due: LedgerOps['due'];
    beforeEach(() => {
      store = ledger();
      ({ accept, update, due } = ops(store));
    });

    it('gives the due deliveries most urgent first: by priority, then due time, then arrival', async () => {
      const all = await fill(store, 400, seededRandom(7));
      const now = T0 + 50_000;
      // Arrival order is accept order here, so the index in `all` stands for seq.
      const expected = all
        .map((d, seq) => ({ d, seq }))
        .filter(({ d }) => (d.nextAttemptAt ?? 0) <= now)
        .sort((a, b) => a.d.priority - b.d.priority || (a.d.nextAttemptAt ?? 0) - (b.d.nextAttemptAt ?? 0) || a.seq - b.seq)
        .map(({ d }) => d.id);
      expect((await due(now, 1000, new Set())).map((d) => d.id)).to.deep.equal(expected);
      expect((await due(now, 25, new Set())).map((d) => d.id)).to.deep.equal(expected.slice(0, 25));
    });

    it('leaves out deliveries in flight without letting them starve the rest of the limit', async () => {
      const all = await fill(store, 200, seededRandom(11));
      const now = T0 + 100_000;
      const first = (await due(now, 30, new Set())).map((d) => d.id);
      const busy = new Set(first.slice(0, 20));
      const next = (await due(now, 30, busy)).map((d) => d.id);
      expect(next).to.have.length(30);
      expect(next.some((id) => busy.has(id))).to.equal(false);
      expect(next.slice(0, 10)).to.deep.equal(first.slice(20));
      expect(all).to.have.length(200);
    });

    it('finds nothing due before the first due time, and everything after the last', async () => {
      await fill(store, 50, seededRandom(3));
      expect(await due(T0 - 1, 100, new Set())).to.deep.equal([]);
      expect(await due(T0 + 1_000_000, 100, new Set())).to.have.length(50);
    });

    it('orders due deliveries by priority, then due time, and skips the excluded', async () => {
      await accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a', priority: 2, nextAttemptAt: T0 - 10 })], new Set());
      await accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', priority: 0, nextAttemptAt: T0 })], new Set());
      await accept(notification('n3', 'c'), [delivery('d3', 'n3', { groupKey: 'c', priority: 2, nextAttemptAt: T0 - 20 })], new Set());
      await accept(notification('n4', 'd'), [delivery('d4', 'n4', { groupKey: 'd', priority: 0, nextAttemptAt: T0 + 1000 })], new Set());
      expect((await due(T0, 10, new Set())).map((d) => d.id)).to.deep.equal(['d2', 'd3', 'd1']);
      expect((await due(T0, 2, new Set(['d2']))).map((d) => d.id)).to.deep.equal(['d3', 'd1']);
      expect(await store.nextDueAt(new Set(['d3', 'd1', 'd2']))).to.equal(T0 + 1000);
    });

    it('leases what it claims: a second claim leaves it out until it is settled or given back, and leaves out the excluded', async () => {
      for (const i of [1, 2, 3]) await accept(notification(`n${i}`, `g${i}`), [delivery(`d${i}`, `n${i}`, { groupKey: `g${i}` })], none);
      expect((await store.claim(T0, 2, new Set(['d1']))).map((d) => d.id)).to.deep.equal(['d2', 'd3']);
      expect((await store.claim(T0, 10, none)).map((d) => d.id)).to.deep.equal(['d1']);
      expect(await store.claim(T0, 10, none)).to.deep.equal([]);
      // Given back: claimable at once.
      await store.unlease(['d2']);
      expect((await store.claim(T0, 10, none)).map((d) => d.id)).to.deep.equal(['d2']);
      // Settled with a retry: claimable again when that is due, not before.
      await update([attempted('d3', T0, { nextAttemptAt: T0 + 1000 })]);
      expect(await store.claim(T0 + 999, 10, none)).to.deep.equal([]);
      expect((await store.claim(T0 + 1000, 10, none)).map((d) => d.id)).to.deep.equal(['d3']);
    });

    it('wakes the waiting deliveries of a recovered target', async () => {
      await accept(notification('n1'), [delivery('d1', 'n1')], new Set());
      await update([{ id: 'd1', state: 'pending', attempts: 0, skipReason: 'circuit_open', nextAttemptAt: T0 + 60_000, updatedAt: T0 }]);
      expect(await store.wake('t', T0 + 1)).to.equal(1);
      expect((await store.getDelivery('d1'))?.nextAttemptAt).to.equal(T0 + 1);
      expect(await store.wake('other', T0 + 1)).to.equal(0);
    });
  });
}
