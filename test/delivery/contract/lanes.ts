import { expect } from 'chai';
import { dedupFor, type DedupView } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import type { AcceptBatchItem, AcceptResult } from '../../../src/delivery/types.js';
import { T0, delivery, item, none, notification, ops, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** Accept: a notification and its deliveries committed together, the lanes (supersede, order) and dedup. */
export function lanesContract(backend: StoreBackend): void {
  describe('accept, lanes and dedup', () => {
    const ledger = useStore(backend);
    let store: Ledger;
    let accept: LedgerOps['accept'];
    beforeEach(() => {
      store = ledger();
      ({ accept } = ops(store));
    });

    it('commits a notification with its deliveries, numbered in arrival order, and returns them as stored', async () => {
      const n1 = { ...notification('n1'), original: '{"alerts":[{}]}', enriched: '{"x":1}' };
      const stored = await accept(n1, [delivery('d1', 'n1'), delivery('d2', 'n1', { target: 'u', priority: 0, alerts: [0, 2] })], none);
      expect(stored.map((d) => [d.id, d.target, d.state])).to.deep.equal([
        ['d1', 't', 'pending'],
        ['d2', 'u', 'pending'],
      ]);
      expect(stored[1]!.seq).to.be.greaterThan(stored[0]!.seq);
      expect(await store.getNotification('n1')).to.include({ id: 'n1', key: 'key-n1', receiver: 'r', groupKey: 'g', status: 'firing', createdAt: T0, original: '{"alerts":[{}]}', enriched: '{"x":1}' });
      expect(await store.getDelivery('d2')).to.deep.include({
        id: 'd2',
        notificationId: 'n1',
        target: 'u',
        targetType: 'webhook',
        groupKey: 'g',
        notificationKey: 'key-n1',
        seq: stored[1]!.seq,
        state: 'pending',
        priority: 0,
        alerts: [0, 2],
        attempts: 0,
        createdAt: T0,
        nextAttemptAt: T0,
      });
      const [later] = await accept(notification('n2', 'h', T0 + 1), [delivery('d3', 'n2', { groupKey: 'h', createdAt: T0 + 1 })], none);
      expect(later!.seq).to.be.greaterThan(stored[1]!.seq);
      expect(await store.latestSeq('t', 'h')).to.equal(later!.seq);
      expect(await store.latestSeq('t', 'nope')).to.equal(undefined);
      expect((await store.deliveriesOf('n1')).map((d) => d.id)).to.deep.equal(['d1', 'd2']);
      expect((await store.deliveriesOfMany(['n2', 'n1'])).map((d) => d.id)).to.deep.equal(['d1', 'd2', 'd3']);
      expect(await store.getNotification('nope')).to.equal(undefined);
      expect(await store.getDelivery('nope')).to.equal(undefined);
    });

    it('supersedes older pending deliveries of the same target and group, but not ones in flight', async () => {
      await accept(notification('n1'), [delivery('d1', 'n1')], new Set());
      await accept(notification('n2'), [delivery('d2', 'n2')], new Set());
      expect(await store.getDelivery('d1')).to.include({ state: 'superseded', skipReason: 'superseded' });
      await accept(notification('n3'), [delivery('d3', 'n3')], new Set(['d2']));
      expect((await store.getDelivery('d2'))?.state).to.equal('pending');
      expect(await store.latestSeq('t', 'g')).to.equal((await store.getDelivery('d3'))?.seq);
      // Another group or another target is untouched.
      await accept(notification('n4', 'other'), [delivery('d4', 'n4', { groupKey: 'other' })], new Set());
      expect((await store.getDelivery('d3'))?.state).to.equal('pending');
    });

    it('decides duplicates per target by the fingerprints of the last accepted notification of its lane, within the window', async () => {
      const acceptTo = async (id: string, targets: string[], since: number, view: DedupView = {}) => {
        const ds = targets.map((target) => delivery(`${id}-${target}`, id, { target }));
        return (await accept(notification(id), ds, new Set(), dedupFor(ds, since, view))).map((d) => [d.target, d.state, d.skipReason ?? null]);
      };
      expect(await acceptTo('n1', ['t'], T0 - 1)).to.deep.equal([['t', 'pending', null]]);
      // The same alerts again (an HA peer, timestamps apart): t has it; u has never seen this group.
      expect(await acceptTo('n2', ['t', 'u'], T0 - 1)).to.deep.equal([
        ['t', 'skipped', 'duplicate'],
        ['u', 'pending', null],
      ]);
      expect((await store.deliveriesOf('n2')).map((d) => [d.target, d.state])).to.deep.equal([
        ['t', 'skipped'],
        ['u', 'pending'],
      ]);
      // A duplicate for every target stores nothing: the lanes count it.
      expect(await acceptTo('n3', ['t', 'u'], T0 - 1)).to.deep.equal([
        ['t', 'skipped', 'duplicate'],
        ['u', 'skipped', 'duplicate'],
      ]);
      expect(await store.getNotification('n3')).to.equal(undefined);
      expect(await store.dedupState('r', 'g', 't')).to.deep.include({ firing: ['fp-a'], resolved: [], at: T0, duplicates: 2 });
      // A new alert in the group goes; then the smaller set is a duplicate of it.
      expect(await acceptTo('n4', ['t'], T0 - 1, { firing: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
      expect(await acceptTo('n5', ['t'], T0 - 1, { firing: ['fp-b'] })).to.deep.equal([['t', 'skipped', 'duplicate']]);
      // Everything resolved goes once, send_resolved or not.
      expect(await acceptTo('n6', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
      expect(await acceptTo('n7', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'skipped', 'duplicate']]);
      // Outside the window nothing counts; a repeat is never a duplicate.
      expect(await acceptTo('n8', ['t'], T0 + 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
      expect(await acceptTo('n9', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'], repeat: true })).to.deep.equal([['t', 'pending', null]]);
      // Without dedup, nothing is a duplicate.
      expect((await accept(notification('n10'), [delivery('n10-t', 'n10')], new Set())).map((d) => d.state)).to.deep.equal(['pending']);
    });

    it('records the state of a filtered target (send_resolved off, all resolved), so that its next firing is not taken for a duplicate', async () => {
      const acceptAs = async (id: string, state: 'pending' | 'skipped', view: DedupView) => {
        const ds = [delivery(`${id}-t`, id, state === 'skipped' ? { state, skipReason: 'filtered', nextAttemptAt: undefined } : {})];
        return (await accept(notification(id), ds, new Set(), dedupFor(ds, T0 - 1, view))).map((d) => d.skipReason ?? d.state);
      };
      expect(await acceptAs('n1', 'pending', {})).to.deep.equal(['pending']);
      expect(await acceptAs('n2', 'skipped', { firing: [], resolved: ['fp-a'] })).to.deep.equal(['filtered']);
      expect(await store.dedupState('r', 'g', 't')).to.deep.include({ firing: [], resolved: ['fp-a'] });
      expect(await acceptAs('n3', 'pending', {})).to.deep.equal(['pending']);
    });

    it('commits accepts and updates written together (group commit) in order, and reads them back', async () => {
      const first = await store.write({ accepts: [item('n1'), item('n2')], updates: [] });
      expect(first.accepted).to.have.length(2);
      const [s1, s2] = (first.accepted as AcceptResult[]).map((a) => a.seqs);
      expect(s2?.[0]).to.be.greaterThan(s1?.[1] ?? Infinity);
      const second = store.write({ accepts: [], updates: [{ id: 'n1-a', state: 'delivered', attempts: 1, deliveredAt: T0, updatedAt: T0 }] });
      const third = store.write({ accepts: [], updates: [{ id: 'n1-a', state: 'dead', attempts: 2, updatedAt: T0 + 1 }] });
      await Promise.all([second, third]);
      expect(await store.getDelivery('n1-a')).to.include({ state: 'dead', attempts: 2 });
      expect((await store.deliveriesOf('n2')).map((d) => d.seq)).to.deep.equal(s2);
    });

    it('supersedes older pending deliveries of a lane except the ones in flight', async () => {
      await store.write({ accepts: [item('n1', 'g')], updates: [] });
      await store.write({ accepts: [{ ...item('n2', 'g'), inFlight: ['n1-a'] }], updates: [] });
      expect((await store.getDelivery('n1-a'))?.state).to.equal('pending');
      expect((await store.getDelivery('n1-b'))?.state).to.equal('superseded');
    });

    it('decides the second of two identical notifications in one batch a duplicate (the check is inside the transaction), storing nothing of it', async () => {
      const same = (n: string): AcceptBatchItem => {
        const { notification, deliveries } = item(n, 'g');
        return { notification, deliveries, dedup: dedupFor(deliveries, T0 - 1) };
      };
      const result = await store.write({ accepts: [same('n1'), same('n2')], updates: [] });
      expect(result.accepted.map((a) => ('duplicates' in a ? [a.duplicates, a.stored ?? true] : a))).to.deep.equal([
        [[], true],
        [[0, 1], false],
      ]);
      expect(await store.getNotification('n2')).to.equal(undefined);
      expect(await store.dedupState('r', 'g', 'a')).to.include({ duplicates: 1 });
    });

    it('fails one bad accept alone and reports its error', async () => {
      await store.write({ accepts: [item('n1')], updates: [] });
      const result = await store.write({ accepts: [item('n2'), item('n1')], updates: [] });
      expect(result.accepted[0]).to.have.property('seqs').with.length(2);
      expect(result.accepted[1]).to.have.property('error').that.is.a('string').with.length.greaterThan(0);
      expect(await store.getNotification('n2')).to.include({ id: 'n2' });
    });
  });
}
