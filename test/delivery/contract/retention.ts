import { expect } from 'chai';
import { acceptItem } from '../../helpers/ledger.js';
import type { Store } from '../../../src/delivery/types.js';
import { T0, attempted, delivery, notification } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** Retention (prune) and the correlation state (target_state) with its expiry. */
export function retentionContract(backend: StoreBackend): void {
  describe('retention and correlation state', () => {
    const ledger = useStore(backend);
    let store: Store;
    beforeEach(() => {
      store = ledger();
    });

    it('replaces correlation state on a second set, with its new expiry, and keeps keys apart', () => {
      store.stateSet('slack\u0000g', '{"ts":"1"}', T0 + 1000);
      store.stateSet('slack\u0000h', '{"ts":"2"}', T0 + 1000);
      store.stateSet('slack\u0000g', '{"ts":"3"}', T0 + 5000);
      expect(store.stateGet('slack\u0000g', T0 + 2000)).to.equal('{"ts":"3"}');
      expect(store.stateGet('slack\u0000h', T0 + 999)).to.equal('{"ts":"2"}');
      expect(store.stateGet('slack\u0000h', T0 + 2000)).to.equal(undefined);
      expect(store.stateGet('nope', T0)).to.equal(undefined);
      // Pruning removes the expired key only.
      store.prune(T0, T0 + 2000);
      expect(store.stateGet('slack\u0000g', T0 + 2000)).to.equal('{"ts":"3"}');
      expect(store.stateGet('slack\u0000h', T0)).to.equal(undefined);
    });

    it('prunes finished records past retention but never pending or dead ones', () => {
      store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' })], new Set());
      store.accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b' })], new Set());
      store.accept(notification('n3', 'c'), [delivery('d3', 'n3', { groupKey: 'c' })], new Set());
      store.update([
        { id: 'd1', state: 'delivered', attempts: 1, deliveredAt: T0, updatedAt: T0 },
        { id: 'd2', state: 'dead', attempts: 1, updatedAt: T0 },
      ]);
      expect(store.prune(T0 + 1, T0 + 1)).to.equal(2); // d1 and n1
      expect(store.getDelivery('d1')).to.equal(undefined);
      expect(store.getNotification('n1')).to.equal(undefined);
      expect(store.getDelivery('d2')?.state).to.equal('dead');
      expect(store.getDelivery('d3')?.state).to.equal('pending');
    });

    it('prunes in batches of at most `limit` rows of each kind', () => {
      for (let i = 0; i < 5; i++) store.accept(notification(`n${i}`, `g${i}`), [delivery(`d${i}`, `n${i}`, { groupKey: `g${i}` })], new Set());
      store.update([0, 1, 2, 3, 4].map((i) => ({ id: `d${i}`, state: 'delivered' as const, attempts: 1, updatedAt: T0 })));
      store.stateSet('old', 'v', T0 - 1);
      // Each batch: 2 deliveries, then the notifications they leave empty, and the expired state.
      expect(store.prune(T0 + 1, T0, 2)).to.equal(5);
      expect(store.list({}).length).to.equal(3);
      expect(store.getNotification('n2')).to.include({ id: 'n2' });
      expect(store.prune(T0 + 1, T0, 2)).to.equal(4);
      expect(store.prune(T0 + 1, T0, 2)).to.equal(2);
      expect(store.prune(T0 + 1, T0, 2)).to.equal(0);
      expect(store.list({})).to.deep.equal([]);
      expect(store.getNotification('n4')).to.equal(undefined);
    });

    it('keeps correlation state until it expires', () => {
      store.stateSet('slack\u0000g', '{"ts":"1"}', T0 + 1000);
      expect(store.stateGet('slack\u0000g', T0)).to.equal('{"ts":"1"}');
      expect(store.stateGet('slack\u0000g', T0 + 1001)).to.equal(undefined);
      store.prune(T0, T0 + 2000);
      store.stateSet('k', 'v', T0 + 1000);
      store.stateDelete('k');
      expect(store.stateGet('k', T0)).to.equal(undefined);
    });

    it('drops the history with its delivery: by retention pruning (in batches) and by DELETE', () => {
      for (const n of ['n1', 'n2', 'n3']) {
        const item = acceptItem(n, T0);
        store.accept(item.notification, item.deliveries, new Set());
      }
      store.update([
        attempted('n1-t', T0, { state: 'delivered' }),
        attempted('n2-t', T0, { state: 'dead' }),
        attempted('n3-t', T0, { state: 'pending' }),
      ]);
      // The delivered one is past retention; the dead letter and the pending one stay, with their history.
      expect(store.prune(T0 + 1000, T0 + 1000, 1)).to.be.greaterThan(0);
      expect(store.attemptsOf('n1-t')).to.deep.equal([]);
      expect(store.attemptsOf('n2-t')).to.have.length(1);
      expect(store.delete('n2-t')).to.equal(true);
      expect(store.attemptsOf('n2-t')).to.deep.equal([]);
      expect(store.attemptsOf('n3-t')).to.have.length(1);
    });
  });
}
