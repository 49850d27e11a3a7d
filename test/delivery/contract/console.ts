import { expect } from 'chai';
import { newDelivery } from '../../helpers/ledger.js';
import type { DeliveryUpdate, NewDelivery, NotificationRecord, Store } from '../../../src/delivery/types.js';
import { T0, delivery as plainDelivery, notification as plain } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

const payload = (...alertnames: string[]) => JSON.stringify({ alerts: alertnames.map((alertname) => ({ labels: { alertname } })) });

function notification(id: string, at: number, alertnames: string[], overrides: Partial<NotificationRecord> = {}): NotificationRecord {
  return { id, key: `k-${id}`, receiver: 'r', groupKey: `g-${id}`, status: 'firing', createdAt: at, original: payload(...alertnames), enriched: '{}', ...overrides };
}

const none = { has: () => false, size: 0 };
const done = (id: string, state: DeliveryUpdate['state'], at: number): DeliveryUpdate => ({ id, state, attempts: 1, updatedAt: at });

/** What the operator API and the console read: the notification list, pause, bulk delete, queue statistics. */
export function consoleContract(backend: StoreBackend): void {
  describe('the notification list, hold and release, bulk delete, per-target stats', () => {
    const ledger = useStore(backend);
    let store: Store;
    /** Accept notification `id` at `at` with one delivery per target (ids `id-target`). */
    const accept = (id: string, at: number, alertnames: string[], targets: string[], extra: Partial<NewDelivery> = {}) =>
      store.accept(
        notification(id, at, alertnames),
        targets.map((t) => newDelivery(`${id}-${t}`, id, at, { target: t, groupKey: `g-${id}`, ...extra })),
        none,
      );

    beforeEach(() => {
      store = ledger();
    });

    it('lists notifications newest first by filter, reading the alertnames from the payload when the record has none', () => {
      accept('n1', T0, ['A'], ['x']);
      accept('n2', T0 + 1, ['B', 'A'], ['x', 'y']);
      store.accept(notification('n3', T0 + 2, ['C'], { alertnames: ['C'], alertCount: 1, status: 'resolved' }), [newDelivery('n3-y', 'n3', T0 + 2, { target: 'y', state: 'skipped', skipReason: 'filtered' })], none);
      const ids = (filter: Parameters<Store['notifications']>[0]) => [...store.notifications(filter)].map((n) => n.id);
      expect(ids({})).to.deep.equal(['n3', 'n2', 'n1']);
      expect([...store.notifications({})][1]).to.deep.equal({ id: 'n2', createdAt: T0 + 1, receiver: 'r', groupKey: 'g-n2', status: 'firing', alerts: 2, alertnames: ['B', 'A'] });
      expect(ids({ alertname: 'A' })).to.deep.equal(['n2', 'n1']);
      expect(ids({ target: 'y' })).to.deep.equal(['n2']);
      expect(ids({ status: 'resolved' })).to.deep.equal(['n3']);
      expect(ids({ since: T0 + 1, until: T0 + 1 })).to.deep.equal(['n2']);
      expect(ids({ before: { createdAt: T0 + 1, id: 'n2' } })).to.deep.equal(['n1']);
      expect(ids({ outcome: 'pending' })).to.deep.equal(['n2', 'n1']);
      store.update([done('n1-x', 'delivered', T0 + 5), done('n2-x', 'dead', T0 + 5)]);
      expect(ids({ outcome: 'delivered' })).to.deep.equal(['n3', 'n1']);
      expect(ids({ outcome: 'accepted' })).to.deep.equal(['n2']);
      store.update([done('n2-y', 'dead', T0 + 6)]);
      expect(ids({ outcome: 'failed' })).to.deep.equal(['n2']);
      expect(ids({ outcome: 'pending' })).to.deep.equal([]);
    });

    it('counts notifications by current outcome per bucket', () => {
      accept('n1', T0, ['A'], ['x']);
      accept('n2', T0 + 10, ['A'], ['x', 'y']);
      accept('n3', T0 + 120, ['A'], ['x']);
      accept('n4', T0 + 130, ['A'], ['x']);
      store.update([done('n1-x', 'delivered', T0), done('n2-x', 'delivered', T0), done('n3-x', 'dead', T0)]);
      expect(store.outcomeBuckets(T0, 100)).to.deep.equal([
        { bucket: 0, delivered: 1, partial: 1, failed: 0, accepted: 0 },
        { bucket: 1, delivered: 0, partial: 0, failed: 1, accepted: 1 },
      ]);
      expect(store.outcomeBuckets(T0 + 100, 100)).to.deep.equal([{ bucket: 0, delivered: 0, partial: 0, failed: 1, accepted: 1 }]);
    });

    it('holds a target\'s pending deliveries and releases them due now, leaving other targets alone', () => {
      accept('n1', T0, ['A'], ['x', 'y']);
      accept('n2', T0 + 1, ['A'], ['x']);
      expect(store.hold('x', Number.MAX_SAFE_INTEGER)).to.equal(2);
      expect(store.due(T0 + 10, 10, none).map((d) => d.id)).to.deep.equal(['n1-y']);
      expect(store.getDelivery('n2-x')).to.include({ skipReason: 'paused', state: 'pending' });
      expect(store.release('x', T0 + 20)).to.equal(2);
      // n1-y was due since T0; the released ones are due at the release, in their order.
      expect(store.due(T0 + 20, 10, none).map((d) => d.id)).to.deep.equal(['n1-y', 'n1-x', 'n2-x']);
      expect(store.getDelivery('n2-x')?.skipReason).to.equal(undefined);
    });

    it('deletes by filter (dead letters by default) and counts the queue per target', () => {
      accept('n1', T0, ['A'], ['x', 'y']);
      accept('n2', T0 + 50, ['A'], ['x']);
      accept('n3', T0 + 60, ['A'], ['x']);
      store.update([done('n1-x', 'dead', T0), done('n2-x', 'dead', T0 + 50)]);
      expect(store.targetStats().sort((a, b) => a.target.localeCompare(b.target))).to.deep.equal([
        { target: 'x', pending: 1, dead: 2, oldestPendingAt: T0 + 60 },
        { target: 'y', pending: 1, dead: 0, oldestPendingAt: T0 },
      ]);
      expect(store.deleteMany({ target: 'x', since: T0 + 10 })).to.equal(1);
      expect(store.deleteMany({ ids: ['n1-x', 'n1-y', 'nope'] })).to.equal(2);
      expect(store.deleteMany({ state: 'pending' })).to.equal(1);
      expect(store.targetStats()).to.deep.equal([]);
    });

    it('lists a notification under the target that got it as a fallback', async () => {
      accept('n1', T0, ['A'], ['x']);
      accept('n2', T0 + 1, ['A'], ['fb']);
      const fallback = newDelivery('n1-fb', 'n1', T0 + 5, { target: 'fb', groupKey: 'g-n1', fallbackOf: 'n1-x', fallbackFor: 'x', fallbackReason: 'dead' });
      expect(await store.addFallback(fallback)).to.include({ id: 'n1-fb' });
      expect([...store.notifications({ target: 'fb' })].map((n) => n.id)).to.deep.equal(['n2', 'n1']);
      expect([...store.notifications({ target: 'x' })].map((n) => n.id)).to.deep.equal(['n1']);
    });

    it('removes the list rows of pruned notifications', () => {
      accept('n1', T0, ['A'], ['x']);
      accept('n2', T0 + 10, ['A'], ['x']);
      store.update([done('n1-x', 'delivered', T0)]);
      store.prune(T0 + 5, T0 + 5);
      expect([...store.notifications({})].map((n) => n.id)).to.deep.equal(['n2']);
    });

    it('counts the queue and the dead letters by priority, leaves finished deliveries out, and knows the oldest pending', () => {
      store.accept(plain('n1', 'a'), [plainDelivery('d1', 'n1', { groupKey: 'a', priority: 0, createdAt: T0 - 5000 })], new Set());
      store.accept(plain('n2', 'b'), [plainDelivery('d2', 'n2', { groupKey: 'b', priority: 2 }), plainDelivery('d3', 'n2', { target: 'u', groupKey: 'b', priority: 2 })], new Set());
      store.accept(plain('n3', 'c'), [plainDelivery('d4', 'n3', { groupKey: 'c', priority: 2 })], new Set());
      store.update([
        { id: 'd3', state: 'dead', attempts: 3, updatedAt: T0 },
        { id: 'd4', state: 'delivered', attempts: 1, updatedAt: T0 },
      ]);
      const stats = store.stats();
      const rows = [...stats.byStateAndPriority].sort((x, y) => `${x.state}${x.priority}`.localeCompare(`${y.state}${y.priority}`));
      expect(rows).to.deep.equal([
        { state: 'dead', priority: 2, count: 1 },
        { state: 'pending', priority: 0, count: 1 },
        { state: 'pending', priority: 2, count: 1 },
      ]);
      expect(stats.oldestPendingAt).to.equal(T0 - 5000);
    });

    it('lists, deletes and filters deliveries', () => {
      store.accept(plain('n1'), [plainDelivery('d1', 'n1'), plainDelivery('d2', 'n1', { target: 'u' })], new Set());
      expect(store.list({ target: 'u' }).map((d) => d.id)).to.deep.equal(['d2']);
      expect(store.deliveriesOf('n1').map((d) => d.id)).to.deep.equal(['d1', 'd2']);
      expect(store.delete('d1')).to.equal(true);
      expect(store.delete('d1')).to.equal(false);
      expect(store.list({ notificationId: 'n1' }).map((d) => d.id)).to.deep.equal(['d2']);
    });
  });
}
