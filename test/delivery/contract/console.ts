import { expect } from 'chai';
import { newDelivery } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import type { DeliveryUpdate, NewDelivery, NotificationFilter, NotificationRecord } from '../../../src/delivery/types.js';
import { T0, none, ops, delivery as plainDelivery, notification as plain, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

const payload = (...alertnames: string[]) => JSON.stringify({ alerts: alertnames.map((alertname) => ({ labels: { alertname } })) });

function notification(id: string, at: number, alertnames: string[], overrides: Partial<NotificationRecord> = {}): NotificationRecord {
  return { id, key: `k-${id}`, receiver: 'r', groupKey: `g-${id}`, status: 'firing', createdAt: at, original: payload(...alertnames), enriched: '{}', ...overrides };
}

const done = (id: string, state: DeliveryUpdate['state'], at: number): DeliveryUpdate => ({ id, state, attempts: 1, updatedAt: at });

/** What the operator API and the console read: the notification list, pause, bulk delete, queue statistics. */
export function consoleContract(backend: StoreBackend): void {
  describe('the notification list, hold and release, bulk delete, per-target stats', () => {
    const ledger = useStore(backend);
    let store: Ledger;
    let accept: LedgerOps['accept'];
    let update: LedgerOps['update'];
    let due: LedgerOps['due'];
    /** Accept notification `id` at `at` with one delivery per target (ids `id-target`). */
    const acceptAt = (id: string, at: number, alertnames: string[], targets: string[], extra: Partial<NewDelivery> = {}) =>
      accept(
        notification(id, at, alertnames),
        targets.map((t) => newDelivery(`${id}-${t}`, id, at, { target: t, groupKey: `g-${id}`, ...extra })),
        none,
      );

    beforeEach(() => {
      store = ledger();
      ({ accept, update, due } = ops(store));
    });

    it('lists notifications newest first by filter, reading the alertnames from the payload when the record has none', async () => {
      await acceptAt('n1', T0, ['A'], ['x']);
      await acceptAt('n2', T0 + 1, ['B', 'A'], ['x', 'y']);
      await accept(notification('n3', T0 + 2, ['C'], { alertnames: ['C'], alertCount: 1, status: 'resolved' }), [newDelivery('n3-y', 'n3', T0 + 2, { target: 'y', state: 'skipped', skipReason: 'filtered' })], none);
      const ids = async (filter: NotificationFilter, limit = 100) => (await store.notifications(filter, limit)).map((n) => n.id);
      expect(await ids({})).to.deep.equal(['n3', 'n2', 'n1']);
      // At most `limit`, newest first; the next page starts before the last one given.
      expect(await ids({}, 2)).to.deep.equal(['n3', 'n2']);
      expect(await ids({ before: { createdAt: T0 + 1, id: 'n2' } }, 2)).to.deep.equal(['n1']);
      expect(await ids({}, 0)).to.deep.equal([]);
      expect((await store.notifications({}, 100))[1]).to.deep.equal({ id: 'n2', createdAt: T0 + 1, receiver: 'r', groupKey: 'g-n2', status: 'firing', alerts: 2, alertnames: ['B', 'A'] });
      expect(await ids({ alertname: 'A' })).to.deep.equal(['n2', 'n1']);
      expect(await ids({ target: 'y' })).to.deep.equal(['n2']);
      expect(await ids({ status: 'resolved' })).to.deep.equal(['n3']);
      expect(await ids({ since: T0 + 1, until: T0 + 1 })).to.deep.equal(['n2']);
      expect(await ids({ before: { createdAt: T0 + 1, id: 'n2' } })).to.deep.equal(['n1']);
      expect(await ids({ outcome: 'pending' })).to.deep.equal(['n2', 'n1']);
      await update([done('n1-x', 'delivered', T0 + 5), done('n2-x', 'dead', T0 + 5)]);
      expect(await ids({ outcome: 'delivered' })).to.deep.equal(['n3', 'n1']);
      expect(await ids({ outcome: 'accepted' })).to.deep.equal(['n2']);
      await update([done('n2-y', 'dead', T0 + 6)]);
      expect(await ids({ outcome: 'failed' })).to.deep.equal(['n2']);
      expect(await ids({ outcome: 'pending' })).to.deep.equal([]);
    });

    it('counts notifications by current outcome per bucket', async () => {
      await acceptAt('n1', T0, ['A'], ['x']);
      await acceptAt('n2', T0 + 10, ['A'], ['x', 'y']);
      await acceptAt('n3', T0 + 120, ['A'], ['x']);
      await acceptAt('n4', T0 + 130, ['A'], ['x']);
      await update([done('n1-x', 'delivered', T0), done('n2-x', 'delivered', T0), done('n3-x', 'dead', T0)]);
      expect(await store.outcomeBuckets(T0, 100)).to.deep.equal([
        { bucket: 0, delivered: 1, partial: 1, failed: 0, accepted: 0 },
        { bucket: 1, delivered: 0, partial: 0, failed: 1, accepted: 1 },
      ]);
      expect(await store.outcomeBuckets(T0 + 100, 100)).to.deep.equal([{ bucket: 0, delivered: 0, partial: 0, failed: 1, accepted: 1 }]);
    });

    it('holds a target\'s pending deliveries and releases them due now, leaving other targets alone', async () => {
      await acceptAt('n1', T0, ['A'], ['x', 'y']);
      await acceptAt('n2', T0 + 1, ['A'], ['x']);
      expect(await store.hold('x', Number.MAX_SAFE_INTEGER)).to.equal(2);
      expect((await due(T0 + 10, 10, none)).map((d) => d.id)).to.deep.equal(['n1-y']);
      expect(await store.getDelivery('n2-x')).to.include({ skipReason: 'paused', state: 'pending' });
      expect(await store.release('x', T0 + 20)).to.equal(2);
      // n1-y was due since T0; the released ones are due at the release, in their order.
      expect((await due(T0 + 20, 10, none)).map((d) => d.id)).to.deep.equal(['n1-y', 'n1-x', 'n2-x']);
      expect((await store.getDelivery('n2-x'))?.skipReason).to.equal(undefined);
    });

    it('deletes by filter (dead letters by default) and counts the queue per target', async () => {
      await acceptAt('n1', T0, ['A'], ['x', 'y']);
      await acceptAt('n2', T0 + 50, ['A'], ['x']);
      await acceptAt('n3', T0 + 60, ['A'], ['x']);
      await update([done('n1-x', 'dead', T0), done('n2-x', 'dead', T0 + 50)]);
      expect((await store.targetStats()).sort((a, b) => a.target.localeCompare(b.target))).to.deep.equal([
        { target: 'x', pending: 1, dead: 2, oldestPendingAt: T0 + 60 },
        { target: 'y', pending: 1, dead: 0, oldestPendingAt: T0 },
      ]);
      expect(await store.deleteMany({ target: 'x', since: T0 + 10 })).to.equal(1);
      expect(await store.deleteMany({ ids: ['n1-x', 'n1-y', 'nope'] })).to.equal(2);
      expect(await store.deleteMany({ state: 'pending' })).to.equal(1);
      expect(await store.targetStats()).to.deep.equal([]);
    });

    it('lists a notification under the target that got it as a fallback', async () => {
      await acceptAt('n1', T0, ['A'], ['x']);
      await acceptAt('n2', T0 + 1, ['A'], ['fb']);
      const fallback = newDelivery('n1-fb', 'n1', T0 + 5, { target: 'fb', groupKey: 'g-n1', fallbackOf: 'n1-x', fallbackFor: 'x', fallbackReason: 'dead' });
      expect(await store.addFallback(fallback)).to.include({ id: 'n1-fb' });
      expect((await store.notifications({ target: 'fb' }, 100)).map((n) => n.id)).to.deep.equal(['n2', 'n1']);
      expect((await store.notifications({ target: 'x' }, 100)).map((n) => n.id)).to.deep.equal(['n1']);
    });

    it('removes the list rows of pruned notifications', async () => {
      await acceptAt('n1', T0, ['A'], ['x']);
      await acceptAt('n2', T0 + 10, ['A'], ['x']);
      await update([done('n1-x', 'delivered', T0)]);
      await store.prune(T0 + 5, T0 + 5);
      expect((await store.notifications({}, 100)).map((n) => n.id)).to.deep.equal(['n2']);
    });

    it('counts the queue and the dead letters by priority, leaves finished deliveries out, and knows the oldest pending', async () => {
      await accept(plain('n1', 'a'), [plainDelivery('d1', 'n1', { groupKey: 'a', priority: 0, createdAt: T0 - 5000 })], new Set());
      await accept(plain('n2', 'b'), [plainDelivery('d2', 'n2', { groupKey: 'b', priority: 2 }), plainDelivery('d3', 'n2', { target: 'u', groupKey: 'b', priority: 2, createdAt: T0 - 9000 })], new Set());
      await accept(plain('n3', 'c'), [plainDelivery('d4', 'n3', { groupKey: 'c', priority: 2 })], new Set());
      await update([
        { id: 'd3', state: 'dead', attempts: 3, updatedAt: T0 },
        { id: 'd4', state: 'delivered', attempts: 1, updatedAt: T0 },
      ]);
      const stats = await store.stats();
      const rows = [...stats.byStateAndPriority].sort((x, y) => `${x.state}${x.priority}`.localeCompare(`${y.state}${y.priority}`));
      expect(rows).to.deep.equal([
        { state: 'dead', priority: 2, count: 1 },
        { state: 'pending', priority: 0, count: 1 },
        { state: 'pending', priority: 2, count: 1 },
      ]);
      // The dead letter is older still: the oldest *pending* one counts.
      expect(stats.oldestPendingAt).to.equal(T0 - 5000);
    });

    it('lists, deletes and filters deliveries', async () => {
      await accept(plain('n1'), [plainDelivery('d1', 'n1'), plainDelivery('d2', 'n1', { target: 'u' })], new Set());
      expect((await store.list({ target: 'u' })).map((d) => d.id)).to.deep.equal(['d2']);
      expect((await store.deliveriesOf('n1')).map((d) => d.id)).to.deep.equal(['d1', 'd2']);
      expect(await store.delete('d1')).to.equal(true);
      expect(await store.delete('d1')).to.equal(false);
      expect((await store.list({ notificationId: 'n1' })).map((d) => d.id)).to.deep.equal(['d2']);
    });
  });
}
