import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTEMPT_ERROR_CHARS, MIGRATIONS, openSqliteStore } from '../../src/delivery/sqlite.js';
import { acceptItem } from '../helpers/ledger.js';
import type { DeliveryUpdate, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

/** The update the dispatcher writes after an attempt of `id` that started at `at`. */
function attempted(id: string, at: number, overrides: Partial<DeliveryUpdate> = {}): DeliveryUpdate {
  return {
    id,
    state: 'pending',
    attempts: 1,
    nextAttemptAt: at + 1000,
    lastStatus: 503,
    lastReason: 'serverError',
    lastError: 'unexpected status code 503',
    retryable: true,
    durationMs: 12.5,
    updatedAt: at + 13,
    attemptedAt: at,
    trial: false,
    replay: false,
    ...overrides,
  };
}

describe('the attempt history (SQLite)', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-attempts-'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const writerThread of [false, true]) {
    it(`records one row per attempt in the outcome's transaction, with the replica (${writerThread ? 'writer thread' : 'main thread'})`, async () => {
      store = openSqliteStore(join(dir, 'ledger.db'), { writerThread, replica: 'pod-a' });
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
      expect(store.attemptsOf('n1-u')).to.deep.equal([]);
      expect(store.attemptsOf('n1-t')).to.deep.equal([
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
      expect(store.attemptsOfNotification('n1').map((a) => [a.deliveryId, a.attempt])).to.deep.equal([
        ['n1-t', 1],
        ['n1-t', 2],
      ]);
    });
  }

  it('names the host as the replica by default, and keeps an excerpt of a long error', () => {
    store = openSqliteStore(':memory:');
    store.accept(acceptItem('n1', T0).notification, acceptItem('n1', T0).deliveries, new Set());
    store.update([attempted('n1-t', T0, { lastError: 'x'.repeat(5000) })]);
    const [a] = store.attemptsOf('n1-t');
    expect(a?.replica).to.equal(hostname());
    expect(a?.error).to.equal('x'.repeat(ATTEMPT_ERROR_CHARS));
    // The delivery keeps its whole last error.
    expect(store.getDelivery('n1-t')?.lastError?.length).to.equal(5000);
  });

  it('skips the attempt of a delivery deleted meanwhile without failing the rest of the batch', () => {
    store = openSqliteStore(':memory:');
    const item = acceptItem('n1', T0, { targets: ['t', 'u'] });
    store.accept(item.notification, item.deliveries, new Set());
    expect(store.delete('n1-u')).to.equal(true);
    store.update([attempted('n1-u', T0), attempted('n1-t', T0)]);
    expect(store.attemptsOf('n1-u')).to.deep.equal([]);
    expect(store.attemptsOf('n1-t')).to.have.length(1);
    expect(store.getDelivery('n1-t')?.lastStatus).to.equal(503);
  });

  it('records an outcome written again (ledger recovery) once', () => {
    store = openSqliteStore(':memory:');
    const item = acceptItem('n1', T0);
    store.accept(item.notification, item.deliveries, new Set());
    const update = attempted('n1-t', T0);
    store.update([update]);
    store.update([update]);
    expect(store.attemptsOf('n1-t')).to.have.length(1);
  });

  it('keeps the history across a replay, and the replay starts a new budget', () => {
    store = openSqliteStore(':memory:');
    const item = acceptItem('n1', T0);
    store.accept(item.notification, item.deliveries, new Set());
    store.update([attempted('n1-t', T0, { state: 'dead', nextAttemptAt: null })]);
    store.replay({ ids: ['n1-t'] }, T0 + 60_000);
    store.update([attempted('n1-t', T0 + 60_000, { attempts: 2, state: 'delivered', lastStatus: 200, replay: true })]);
    expect(store.attemptsOf('n1-t').map((a) => [a.attempt, a.outcome, a.replay])).to.deep.equal([
      [1, 'dead', false],
      [2, 'delivered', true],
    ]);
    expect(store.getDelivery('n1-t')).to.include({ attempts: 2, attemptsAtReplay: 1, replayedAt: T0 + 60_000, createdAt: T0 });
  });

  it('drops the history with its delivery: by retention pruning (in batches) and by DELETE', () => {
    store = openSqliteStore(':memory:');
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

  it('migrates a ledger of the previous version: old deliveries have no history and count their budget from creation', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, -1)) old.exec(migration);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    old.exec(`INSERT INTO notifications VALUES ('n1', 'key-n1', 'r', 'g', 'firing', ${T0}, '{}', '{}');
      INSERT INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, priority, alerts, attempts, created_at, updated_at)
      VALUES ('d1', 'n1', 't', 'webhook', 'g', 'key-n1', 'dead', 2, '[0]', 4, ${T0}, ${T0});`);
    old.close();
    store = openSqliteStore(path);
    expect(store.getDelivery('d1')).to.include({ attempts: 4, replayedAt: undefined, attemptsAtReplay: undefined });
    expect(store.attemptsOf('d1')).to.deep.equal([]);
    store.update([attempted('d1', T0 + 1, { attempts: 5 })]);
    expect(store.attemptsOf('d1').map((a) => a.attempt)).to.deep.equal([5]);
  });
});
