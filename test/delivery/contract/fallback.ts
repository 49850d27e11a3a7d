import { expect } from 'chai';
import { newDelivery } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import type { DeliveryUpdate, NewDelivery } from '../../../src/delivery/types.js';
import { T0, notification, ops, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** The fallback delivery of `original` to target `to`. */
function fallbackOf(id: string, original: string, n: string, to = 'backup'): NewDelivery {
  return newDelivery(id, n, T0 + 1000, { target: to, fallbackOf: original, fallbackFor: 't', fallbackReason: 'dead' });
}

const held = (id: string, at: number, heldSince: number): DeliveryUpdate => ({
  id,
  state: 'pending',
  skipReason: 'circuit_open',
  attempts: 0,
  nextAttemptAt: at + 60_000,
  heldSince,
  updatedAt: at,
});

/** Fallback deliveries: one per original, outside the lanes, and the held deliveries that call for one. */
export function fallbackContract(backend: StoreBackend): void {
  describe('fallback deliveries', () => {
    const ledger = useStore(backend);
    let store: Ledger;
    let accept: LedgerOps['accept'];
    let update: LedgerOps['update'];
    beforeEach(() => {
      store = ledger();
      ({ accept, update } = ops(store));
    });

    it('records one fallback per original delivery, and marks the original', async () => {
      await accept(notification('n1'), [newDelivery('d1', 'n1', T0)], new Set());
      const first = await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
      expect(first).to.include({ id: 'f1', target: 'backup', state: 'pending', fallbackOf: 'd1', fallbackFor: 't', fallbackReason: 'dead' });
      expect(await store.addFallback(fallbackOf('f2', 'd1', 'n1'))).to.equal(undefined);
      expect(await store.getDelivery('d1')).to.include({ fallbackId: 'f1' });
      expect((await store.list({ target: 'backup' })).map((d) => d.id)).to.deep.equal(['f1']);
      expect((await store.deliveriesOf('n1')).map((d) => d.id)).to.deep.equal(['d1', 'f1']);
    });

    it('keeps fallback deliveries out of the lanes: they neither supersede nor are superseded, nor move a lane\'s newest sequence', async () => {
      await accept(notification('n1'), [newDelivery('d1', 'n1', T0), newDelivery('b1', 'n1', T0, { target: 'backup' })], new Set());
      const before = await store.latestSeq('backup', 'g');
      await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
      expect(await store.latestSeq('backup', 'g')).to.equal(before);
      expect(await store.getDelivery('b1')).to.include({ state: 'pending' });
      // A newer notification of the group supersedes the backup's own pending delivery, never the fallback.
      await accept(notification('n2'), [newDelivery('b2', 'n2', T0 + 2000, { target: 'backup' })], new Set());
      expect(await store.getDelivery('b1')).to.include({ state: 'superseded' });
      expect(await store.getDelivery('f1')).to.include({ state: 'pending' });
      expect(await store.latestSeq('backup', 'g')).to.equal((await store.getDelivery('b2'))!.seq);
    });

    it('finds held deliveries past a time, longest held first, until they have a fallback or are no longer pending', async () => {
      await accept(notification('n1'), [newDelivery('d1', 'n1', T0), newDelivery('d2', 'n1', T0, { groupKey: 'h' })], new Set());
      await accept(notification('n3', 'k'), [newDelivery('d3', 'n3', T0, { groupKey: 'k' }), newDelivery('x3', 'n3', T0, { target: 'other', groupKey: 'k' })], new Set());
      await update([held('d2', T0, T0 + 20), held('d1', T0, T0 + 10), held('d3', T0, T0 + 30), held('x3', T0, T0)]);
      // The first time held is kept: a later update never moves it.
      await update([held('d1', T0 + 50, T0 + 50), { ...held('d3', T0 + 50, T0 + 50), heldSince: null }]);
      expect(await store.earliestHeld('t')).to.equal(T0 + 10);
      expect((await store.heldSince('t', T0 + 20, 10)).map((d) => d.id)).to.deep.equal(['d1', 'd2']);
      expect((await store.heldSince('t', T0 + 30, 1)).map((d) => d.id)).to.deep.equal(['d1']);
      expect(await store.getDelivery('d3')).to.include({ heldSince: T0 + 30 });
      await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
      await update([{ id: 'd2', state: 'delivered', attempts: 1, deliveredAt: T0 + 60, updatedAt: T0 + 60 }]);
      expect((await store.heldSince('t', T0 + 100, 10)).map((d) => d.id)).to.deep.equal(['d3']);
      expect(await store.earliestHeld('t')).to.equal(T0 + 30);
      expect(await store.earliestHeld('nobody')).to.equal(undefined);
    });
  });
}
