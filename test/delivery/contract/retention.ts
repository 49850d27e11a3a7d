import { expect } from 'chai';
import { acceptItem } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import { T0, attempted, delivery, notification, ops, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** Retention (prune) and the correlation state (target_state) with its expiry. */
export function retentionContract(backend: StoreBackend): void {
  describe('retention and correlation state', () => {
    const ledger = useStore(backend);
    let store: Ledger;
    let accept: LedgerOps['accept'];
    let update: LedgerOps['update'];
    beforeEach(() => {
      store = ledger();
      ({ accept, update } = ops(store));
    });

    it('replaces correlation state on a second set, with its new expiry, and keeps keys apart', async () => {
      await store.stateSet('slack\u0000g', '{"ts":"1"}', T0 + 1000);
      await store.stateSet('slack\u0000h', '{"ts":"2"}', T0 + 1000);
      await store.stateSet('slack\u0000g', '{"ts":"3"}', T0 + 5000);
      expect(await store.stateGet('slack\u0000g', T0 + 2000)).to.equal('{"ts":"3"}');
      expect(await store.stateGet('slack\u0000h', T0 + 999)).to.equal('{"ts":"2"}');
      expect(await store.stateGet('slack\u0000h', T0 + 2000)).to.equal(undefined);
      expect(await store.stateGet('nope', T0)).to.equal(undefined);
      // Pruning removes the expired key only.
      await store.prune(T0, T0 + 2000);
      expect(await store.stateGet('slack\u0000g', T0 + 2000)).to.equal('{"ts":"3"}');
      expect(await store.stateGet('slack\u0000h', T0)).to.equal(undefined);
    });

    it('prunes finished records past retention but never pending or dead ones', async () => {
      await accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' })], new Set());
      await accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b' })], new Set());
      await accept(notification('n3', 'c'), [delivery('d3', 'n3', { groupKey: 'c' })], new Set());
      await update([
        { id: 'd1', state: 'delivered', attempts: 1, deliveredAt: T0, updatedAt: T0 },
        { id: 'd2', state: 'dead', attempts: 1, updatedAt: T0 },
      ]);
      expect(await store.prune(T0 + 1, T0 + 1)).to.equal(2); // d1 and n1
      expect(await store.getDelivery('d1')).to.equal(undefined);
      expect(await store.getNotification('n1')).to.equal(undefined);
      expect((await store.getDelivery('d2'))?.state).to.equal('dead');
      expect((await store.getDelivery('d3'))?.state).to.equal('pending');
    });

    it('prunes in batches of at most `limit` rows of each kind', async () => {
      for (let i = 0; i < 5; i++) await accept(notification(`n${i}`, `g${i}`), [delivery(`d${i}`, `n${i}`, { groupKey: `g${i}` })], new Set());
      await update([0, 1, 2, 3, 4].map((i) => ({ id: `d${i}`, state: 'delivered' as const, attempts: 1, updatedAt: T0 })));
      await store.stateSet('old', 'v', T0 - 1);
      // Each batch: 2 deliveries, then the notifications they leave empty, and the expired state.
      expect(await store.prune(T0 + 1, T0, 2)).to.equal(5);
      expect((await store.list({})).length).to.equal(3);
      expect(await store.getNotification('n2')).to.include({ id: 'n2' });
      expect(await store.prune(T0 + 1, T0, 2)).to.equal(4);
      expect(await store.prune(T0 + 1, T0, 2)).to.equal(2);
      expect(await store.prune(T0 + 1, T0, 2)).to.equal(0);
      expect(await store.list({})).to.deep.equal([]);
      expect(await store.getNotification('n4')).to.equal(undefined);
    });

    it('keeps correlation state until it expires', async () => {
      await store.stateSet('slack\u0000g', '{"ts":"1"}', T0 + 1000);
      expect(await store.stateGet('slack\u0000g', T0)).to.equal('{"ts":"1"}');
      expect(await store.stateGet('slack\u0000g', T0 + 1001)).to.equal(undefined);
      await store.prune(T0, T0 + 2000);
      await store.stateSet('k', 'v', T0 + 1000);
      await store.stateDelete('k');
      expect(await store.stateGet('k', T0)).to.equal(undefined);
    });

    it('lists the live state rows whose key starts with a prefix', async () => {
      await store.stateSet('alertmux:breaker:b', '2', T0 + 1000);
      await store.stateSet('alertmux:breaker:a', '1', T0 + 1000);
      await store.stateSet('alertmux:breaker:gone', '3', T0 - 1);
      await store.stateSet('alertmux:breakers', 'x', T0 + 1000);
      await store.stateSet('a\u0000alertmux:breaker:', 'y', T0 + 1000);
      await store.stateSet('x\u0000y', 'z', T0 + 1000);
      expect(await store.stateList('alertmux:breaker:', T0)).to.deep.equal([
        { key: 'alertmux:breaker:a', value: '1' },
        { key: 'alertmux:breaker:b', value: '2' },
      ]);
      expect(await store.stateList('x\u0000', T0)).to.deep.equal([{ key: 'x\u0000y', value: 'z' }]);
      expect(await store.stateList('nothing:', T0)).to.deep.equal([]);
    });

    it('drops the history with its delivery: by retention pruning (in batches) and by DELETE', async () => {
      for (const n of ['n1', 'n2', 'n3']) {
        const item = acceptItem(n, T0);
        await accept(item.notification, item.deliveries, new Set());
      }
      await update([
        attempted('n1-t', T0, { state: 'delivered' }),
        attempted('n2-t', T0, { state: 'dead' }),
        attempted('n3-t', T0, { state: 'pending' }),
      ]);
      // The delivered one is past retention; the dead letter and the pending one stay, with their history.
      expect(await store.prune(T0 + 1000, T0 + 1000, 1)).to.be.greaterThan(0);
      expect(await store.attemptsOf('n1-t')).to.deep.equal([]);
      expect(await store.attemptsOf('n2-t')).to.have.length(1);
      expect(await store.delete('n2-t')).to.equal(true);
      expect(await store.attemptsOf('n2-t')).to.deep.equal([]);
      expect(await store.attemptsOf('n3-t')).to.have.length(1);
    });
  });
}
