import { expect } from 'chai';
import { acceptItem } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/delivery/ledger.js';
import { T0, attempted, delivery, none, notification, ops, type LedgerOps } from './fixtures.js';
import { useStore, type StoreBackend } from './index.js';

/** Outcomes: updates, dead letters, the attempt history and replays. */
export function attemptsContract(backend: StoreBackend): void {
  describe('outcomes, the attempt history and replays', () => {
    const ledger = useStore(backend, { replica: 'pod-a' });
    let store: Ledger;
    let accept: LedgerOps['accept'];
    let update: LedgerOps['update'];
    let due: LedgerOps['due'];
    beforeEach(() => {
      store = ledger();
      ({ accept, update, due } = ops(store));
    });

    it('settles outcomes: a retry waits for its time, a dead letter and a delivered one are never due again', async () => {
      await accept(notification('n1'), [delivery('d1', 'n1'), delivery('d2', 'n1', { target: 'u' }), delivery('d3', 'n1', { target: 'v' })], none);
      await update([
        attempted('d1', T0, { nextAttemptAt: T0 + 5000 }),
        attempted('d2', T0, { state: 'dead', nextAttemptAt: null, retryable: false, lastStatus: 400, lastReason: 'clientError', lastError: 'bad request' }),
        attempted('d3', T0, { state: 'delivered', nextAttemptAt: null, lastStatus: 200, lastReason: null, lastError: null, deliveredAt: T0 + 13 }),
      ]);
      expect(await store.getDelivery('d1')).to.include({ state: 'pending', attempts: 1, nextAttemptAt: T0 + 5000, lastStatus: 503, lastReason: 'serverError', retryable: true, durationMs: 12.5, updatedAt: T0 + 13 });
      expect(await store.getDelivery('d2')).to.include({ state: 'dead', attempts: 1, lastStatus: 400, lastReason: 'clientError', lastError: 'bad request', retryable: false });
      expect(await store.getDelivery('d3')).to.include({ state: 'delivered', deliveredAt: T0 + 13, lastStatus: 200, lastReason: undefined, lastError: undefined });
      expect(await due(T0 + 4999, 10, none)).to.deep.equal([]);
      expect((await due(T0 + 10_000, 10, none)).map((d) => d.id)).to.deep.equal(['d1']);
      expect(await store.nextDueAt(none)).to.equal(T0 + 5000);
      expect((await store.list({ state: 'dead' })).map((d) => d.id)).to.deep.equal(['d2']);
      expect((await store.list({ reason: 'clientError' })).map((d) => d.id)).to.deep.equal(['d2']);
      expect((await store.list({ state: 'delivered' })).map((d) => d.id)).to.deep.equal(['d3']);
      // Settled: a retry of the same outcome later moves nothing.
      await update([{ id: 'd2', state: 'dead', attempts: 1, updatedAt: T0 + 20 }]);
      expect((await due(T0 + 10_000, 10, none)).map((d) => d.id)).to.deep.equal(['d1']);
    });

    it("records one row per attempt in the outcome's transaction, with the replica", async () => {
      const accepted = await store.write({ accepts: [acceptItem('n1', T0, { targets: ['t', 'u'] })], updates: [] });
      expect(accepted.accepted[0]).to.have.property('seqs');
      await store.write({
        accepts: [],
        updates: [
          attempted('n1-t', T0),
          // A skip records no attempt.
          { id: 'n1-u', state: 'pending', skipReason: 'circuit_open', attempts: 0, nextAttemptAt: T0 + 30_000, updatedAt: T0, attemptedAt: null },
        ],
      });
      await store.write({
        accepts: [],
        updates: [attempted('n1-t', T0 + 1000, { attempts: 2, state: 'delivered', lastStatus: 200, lastReason: null, lastError: null, nextAttemptAt: null, trial: true })],
      });
      expect(await store.attemptsOf('n1-u')).to.deep.equal([]);
      expect(await store.attemptsOf('n1-t')).to.deep.equal([
        {
          deliveryId: 'n1-t',
          notificationId: 'n1',
          target: 't',
          attempt: 1,
          at: T0,
          replica: 'pod-a',
          durationMs: 12.5,
          statusCode: 503,
          reason: 'serverError',
          error: 'unexpected status code 503',
          outcome: 'pending',
          nextAttemptAt: T0 + 1000,
          trial: false,
          replay: false,
        },
        {
          deliveryId: 'n1-t',
          notificationId: 'n1',
          target: 't',
          attempt: 2,
          at: T0 + 1000,
          replica: 'pod-a',
          durationMs: 12.5,
          statusCode: 200,
          reason: undefined,
          error: undefined,
          outcome: 'delivered',
          nextAttemptAt: undefined,
          trial: true,
          replay: false,
        },
      ]);
      expect((await store.attemptsOfNotification('n1')).map((a) => [a.deliveryId, a.attempt])).to.deep.equal([
        ['n1-t', 1],
        ['n1-t', 2],
      ]);
    });

    it('fails one accept of a batch alone: the others and the outcomes of the batch are written', async () => {
      await accept(notification('n1'), [delivery('d1', 'n1')], none);
      // n1 again (the same id: it cannot be stored twice) between two new ones, with an outcome in the same batch.
      const result = await store.write({
        accepts: [acceptItem('n2', T0, { groupKey: 'g2' }), acceptItem('n1', T0, { groupKey: 'g1' }), acceptItem('n3', T0, { groupKey: 'g3' })],
        updates: [attempted('d1', T0, { state: 'delivered', nextAttemptAt: null, lastStatus: 200, deliveredAt: T0 + 13 })],
      });
      expect(result.updateError).to.equal(undefined);
      expect(result.accepted.map((a) => 'error' in a)).to.deep.equal([false, true, false]);
      expect((await store.getDelivery('d1'))?.state).to.equal('delivered');
      expect((await store.getDelivery('n2-t'))?.state).to.equal('pending');
      expect((await store.getDelivery('n3-t'))?.state).to.equal('pending');
      expect(await store.getDelivery('n1-t')).to.equal(undefined);
    });

    it('skips the attempt of a delivery deleted meanwhile without failing the rest of the batch', async () => {
      const item = acceptItem('n1', T0, { targets: ['t', 'u'] });
      await accept(item.notification, item.deliveries, new Set());
      expect(await store.delete('n1-u')).to.equal(true);
      await update([attempted('n1-u', T0), attempted('n1-t', T0)]);
      expect(await store.attemptsOf('n1-u')).to.deep.equal([]);
      expect(await store.attemptsOf('n1-t')).to.have.length(1);
      expect((await store.getDelivery('n1-t'))?.lastStatus).to.equal(503);
    });

    it('records an outcome written again (ledger recovery) once', async () => {
      const item = acceptItem('n1', T0);
      await accept(item.notification, item.deliveries, new Set());
      const outcome = attempted('n1-t', T0);
      await update([outcome]);
      await update([outcome]);
      expect(await store.attemptsOf('n1-t')).to.have.length(1);
    });

    it('keeps the history across a replay, and the replay starts a new budget', async () => {
      const item = acceptItem('n1', T0);
      await accept(item.notification, item.deliveries, new Set());
      await update([attempted('n1-t', T0, { state: 'dead', nextAttemptAt: null })]);
      await store.replay({ ids: ['n1-t'] }, T0 + 60_000);
      await update([attempted('n1-t', T0 + 60_000, { attempts: 2, state: 'delivered', lastStatus: 200, replay: true })]);
      expect((await store.attemptsOf('n1-t')).map((a) => [a.attempt, a.outcome, a.replay])).to.deep.equal([
        [1, 'dead', false],
        [2, 'delivered', true],
      ]);
      expect(await store.getDelivery('n1-t')).to.include({ attempts: 2, attemptsAtReplay: 1, replayedAt: T0 + 60_000, createdAt: T0 });
    });

    it('replays dead letters with a fresh attempt budget counted from the replay, keeping their attempts and createdAt', async () => {
      await accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' })], new Set());
      await accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', target: 'u' })], new Set());
      await update([
        { id: 'd1', state: 'dead', attempts: 12, lastError: 'boom', updatedAt: T0 },
        { id: 'd2', state: 'dead', attempts: 3, updatedAt: T0 },
      ]);
      expect((await store.replay({ target: 't' }, T0 + 5)).ids).to.deep.equal(['d1']);
      expect(await store.getDelivery('d1')).to.include({ state: 'pending', attempts: 12, attemptsAtReplay: 12, replayedAt: T0 + 5, nextAttemptAt: T0 + 5, createdAt: T0 });
      expect((await store.replay({ ids: ['d2', 'nope'] }, T0 + 6)).ids).to.deep.equal(['d2']);
      expect((await store.replay({ state: 'dead' }, T0 + 7)).ids).to.deep.equal([]);
    });

    it('replays only deliveries of configured targets and reports the others', async () => {
      await accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' }), delivery('d2', 'n1', { groupKey: 'a', target: 'gone' })], new Set());
      await update([
        { id: 'd1', state: 'dead', attempts: 1, updatedAt: T0 },
        { id: 'd2', state: 'dead', attempts: 1, updatedAt: T0 },
      ]);
      expect(await store.replay({ state: 'dead', configured: ['t'] }, T0 + 5)).to.deep.equal({
        ids: ['d1'],
        unconfigured: [{ id: 'd2', target: 'gone' }],
        unconfiguredCount: 1,
      });
      expect((await store.getDelivery('d2'))?.state).to.equal('dead');
    });
  });
}
