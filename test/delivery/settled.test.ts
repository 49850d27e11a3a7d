import { expect } from 'chai';
import { storageFailure } from '../../src/delivery/ledger-health.js';
import { LedgerRecovery, PROBE_KEY } from '../../src/delivery/ledger-recovery.js';
import { UnwrittenOutcomes, eitherFilter, withOutcome } from '../../src/delivery/settled.js';
import { recordingLogger } from '../helpers/logs.js';
import type { DeliveryRecord, DeliveryUpdate } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-12-01T00:00:00Z');
const update = (id: string, overrides: Partial<DeliveryUpdate> = {}): DeliveryUpdate => ({ id, state: 'delivered', attempts: 1, updatedAt: T0, ...overrides });

describe('outcomes the ledger could not write (kept as settled in memory)', () => {
  it('keeps the newest outcome of each delivery until it is written, and excludes those deliveries', () => {
    const kept = new UnwrittenOutcomes();
    const u1 = update('a', { state: 'pending', nextAttemptAt: T0 + 1000 });
    kept.failed([u1, update('b')]);
    expect(kept.size).to.equal(2);
    expect(kept.has('a')).to.equal(true);
    // A newer outcome of `a` on its way to the ledger replaces the kept one...
    const u2 = update('a', { attempts: 2, updatedAt: T0 + 2000 });
    kept.replace(u2);
    // ...so the older one's late result changes nothing.
    kept.failed([u1]);
    kept.written([u1]);
    expect(kept.all()).to.deep.equal([u2, update('b')]);
    // A replace of a delivery that is not kept keeps nothing.
    kept.replace(update('c'));
    expect(kept.has('c')).to.equal(false);
    kept.written([u2]);
    expect(kept.all().map((u) => u.id)).to.deep.equal(['b']);
  });

  it('says which kept outcomes owe a retry now, and when the next one does', () => {
    const kept = new UnwrittenOutcomes();
    kept.failed([
      update('due', { state: 'pending', nextAttemptAt: T0 }),
      update('later', { state: 'pending', nextAttemptAt: T0 + 5000 }),
      update('busy', { state: 'pending', nextAttemptAt: T0 - 1 }),
      update('done'),
      update('dead', { state: 'dead' }),
    ]);
    const busy = new Set(['busy']);
    expect(kept.due(T0, busy).map((u) => u.id)).to.deep.equal(['due']);
    expect(kept.nextDueAt(busy)).to.equal(T0);
    expect(kept.nextDueAt(new Set(['busy', 'due']))).to.equal(T0 + 5000);
    const either = eitherFilter(busy, kept);
    expect([either.has('busy'), either.has('done'), either.has('other'), either.size]).to.deep.equal([true, true, false, 6]);
  });

  it('puts a kept outcome over its stale row', () => {
    const row = { id: 'a', state: 'pending', attempts: 0, lastError: 'old', nextAttemptAt: T0, seq: 7 } as DeliveryRecord;
    const record = withOutcome(row, update('a', { state: 'pending', attempts: 3, lastError: null, nextAttemptAt: T0 + 9, updatedAt: T0 + 1 }));
    expect(record).to.include({ id: 'a', seq: 7, state: 'pending', attempts: 3, lastError: undefined, nextAttemptAt: T0 + 9, updatedAt: T0 + 1 });
  });

  describe('the recovery (listening to the writer)', () => {
    /** A store whose probe writes fail while `full` is set. */
    const fakeStore = () => {
      const store = {
        full: true,
        probes: 0,
        stateSet: async (key: string) => {
          store.probes++;
          expect(key).to.equal(PROBE_KEY);
          if (store.full) throw storageFailure('database or disk is full', 'SQLITE_FULL');
        },
      };
      return store;
    };

    it('keeps what failed as settled, marks the ledger unhealthy, and writes it again once a write commits', () => {
      const store = fakeStore();
      const { logger, lines } = recordingLogger();
      let errors = 0;
      const recovery = new LedgerRecovery({ store, logger, countError: () => void errors++, now: () => T0 });
      const pushed: DeliveryUpdate[] = [];
      recovery.attach({ push: (u) => void pushed.push(u) });
      const delivered = update('a');
      recovery.failed(storageFailure('database or disk is full', 'SQLITE_FULL'), [delivered]);
      expect(recovery.unwritten.has('a')).to.equal(true);
      expect(recovery.health.ok).to.equal(false);
      expect(errors).to.equal(1);
      expect(lines.find((l) => l.level === 'error')?.meta).to.include({ code: 'SQLITE_FULL' });
      // An accept commits: the ledger works again, and the kept outcome goes to the writer.
      recovery.ok();
      expect(recovery.health.ok).to.equal(true);
      expect(pushed).to.deep.equal([delivered]);
      recovery.written([delivered]);
      expect(recovery.unwritten.size).to.equal(0);
      recovery.close();
    });

    it('forgets outcomes another replica took over (lost leases): counted, one warning per batch, never written again', () => {
      const { logger, lines } = recordingLogger();
      let lost = 0;
      const recovery = new LedgerRecovery({ store: fakeStore(), logger, countError: () => undefined, countLost: (n) => void (lost += n), now: () => T0 });
      const pushed: DeliveryUpdate[] = [];
      recovery.attach({ push: (u) => void pushed.push(u) });
      // Kept after a failed write, then written again under a lease that had expired meanwhile.
      const a = update('a');
      const b = update('b');
      recovery.failed(storageFailure('database or disk is full', 'SQLITE_FULL'), [a, b]);
      recovery.lost([a, b]);
      expect(lost).to.equal(2);
      expect(recovery.unwritten.size).to.equal(0);
      const warnings = lines.filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0]?.message).to.match(/another replica took over/);
      expect(warnings[0]?.meta).to.deep.include({ count: 2, deliveryIds: ['a', 'b'] });
      // The ledger recovers: nothing of theirs is written again.
      recovery.ok();
      expect(pushed).to.deep.equal([]);
      recovery.close();
    });

    it('with nothing kept, probes the ledger with a small write on each retry until it commits', async () => {
      const store = fakeStore();
      const recovery = new LedgerRecovery({ store, logger: recordingLogger().logger, countError: () => undefined, now: () => T0 });
      recovery.attach({ push: () => expect.fail('nothing to write again') });
      // A failed accept: nothing kept.
      recovery.failed(storageFailure('database or disk is full', 'SQLITE_FULL'), []);
      expect(recovery.unwritten.size).to.equal(0);
      // The first retry comes after RETRY_FIRST_MS (1 s) of real time; it fails, the next waits 2 s.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(store.probes).to.equal(1);
      expect(recovery.health.ok).to.equal(false);
      store.full = false;
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect(store.probes).to.equal(2);
      expect(recovery.health.ok).to.equal(true);
      recovery.close();
    });
  });
});
