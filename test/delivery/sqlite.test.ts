import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, PAGE_CACHE_KIB, openDatabase, openSqliteStore } from '../../src/delivery/sqlite.js';
import { dedupEntryOf, dedupFor, newDelivery, type DedupView } from '../helpers/ledger.js';
import type { NewDelivery, NotificationRecord, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

function notification(id: string, groupKey = 'g', createdAt = T0, key = `key-${id}`): NotificationRecord {
  return { id, key, receiver: 'r', groupKey, status: 'firing', createdAt, original: '{}', enriched: '{}' };
}

const delivery = (id: string, n: string, overrides: Partial<NewDelivery> = {}): NewDelivery => newDelivery(id, n, T0, overrides);

describe('the SQLite ledger', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-ledger-'));
    store = openSqliteStore(join(dir, 'sub', 'ledger.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates a new database to the latest schema version, once, and creates its directory', async () => {
    await store.close();
    const db = new Database(join(dir, 'sub', 'ledger.db'));
    expect(db.pragma('user_version', { simple: true })).to.equal(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    db.close();
    store = openSqliteStore(join(dir, 'sub', 'ledger.db'));
    expect(store.list({})).to.deep.equal([]);
  });

  it('bounds the page cache of every connection to the ledger (better-sqlite3 defaults to 16 MB)', async () => {
    await store.close();
    const fresh = new Database(join(dir, 'sub', 'ledger.db'));
    expect(fresh.pragma('cache_size', { simple: true })).to.equal(-16000);
    fresh.close();
    const db = openDatabase(join(dir, 'sub', 'ledger.db'));
    expect(db.pragma('cache_size', { simple: true })).to.equal(-PAGE_CACHE_KIB);
    db.close();
    store = openSqliteStore(':memory:');
  });

  it('refuses a database written by a newer alertmux', async () => {
    await store.close();
    const db = new Database(join(dir, 'sub', 'ledger.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openSqliteStore(join(dir, 'sub', 'ledger.db'))).to.throw(/newer than this alertmux/);
    store = openSqliteStore(':memory:');
  });

  it('migrates a version 3 ledger to the latest schema, keeping its deliveries, their lanes and their dedup', async () => {
    await store.close();
    const path = join(dir, 'v3.db');
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, 3)) old.exec(migration);
    old.pragma('user_version = 3');
    old.exec(`INSERT INTO notifications VALUES ('n1', 'key-n1', 'r', 'g', 'firing', ${T0}, '{}', '{}');
      INSERT INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, priority, alerts, attempts, created_at, updated_at, next_attempt_at)
      VALUES ('d1', 'n1', 't', 'webhook', 'g', 'key-n1', 'pending', 2, '[0]', 0, ${T0}, ${T0}, ${T0}),
             ('d0', 'n1', 'u', 'webhook', 'g', 'key-n1', 'delivered', 2, '[0]', 1, ${T0}, ${T0}, NULL);`);
    old.close();
    store = openSqliteStore(path);
    const db = new Database(path, { readonly: true });
    const columns = (index: string) => (db.pragma(`index_info(${index})`) as Array<{ name: string }>).map((c) => c.name);
    expect(db.pragma('user_version', { simple: true })).to.equal(MIGRATIONS.length);
    expect(columns('deliveries_lane')).to.deep.equal(['group_key', 'target', 'seq']);
    expect(columns('notifications_key')).to.deep.equal([]);
    expect(columns('deliveries_created')).to.deep.equal(['created_at']);
    expect(columns('deliveries_key')).to.deep.equal([]);
    expect(columns('sqlite_autoindex_dedup_state_1')).to.deep.equal(['receiver', 'group_key', 'target']);
    db.close();
    // The dedup state starts empty: the first notification of a lane after the upgrade goes, the next identical one does not.
    const entries = [dedupEntryOf('u', 'g')];
    expect(store.claimDedup(entries, T0 + 1, T0 - 1)).to.equal(true);
    store.accept(notification('n2', 'g', T0 + 1), [delivery('d2', 'n2', { target: 'u' })], new Set(), { entries, since: T0 - 1, claimed: true });
    expect(store.claimDedup(entries, T0 + 2, T0 - 1)).to.equal(false);
    const [resent] = store.accept(notification('n2b', 'g', T0 + 2), [delivery('d2b', 'n2b', { target: 'u' })], new Set(), {
      entries,
      since: T0 - 1,
      claimed: false,
    });
    expect(resent).to.include({ state: 'skipped', skipReason: 'duplicate' });
    // A new notification of the group supersedes the one pending in its lane.
    store.accept(notification('n3'), [delivery('d3', 'n3')], new Set());
    expect(store.getDelivery('d1')).to.include({ state: 'superseded' });
    expect(store.latestSeq('t', 'g')).to.equal(store.getDelivery('d3')?.seq);
  });

  it('keeps what was accepted across a reopen', async () => {
    store.accept(notification('n1'), [delivery('d1', 'n1')], new Set());
    await store.close();
    store = openSqliteStore(join(dir, 'sub', 'ledger.db'));
    expect(store.due(T0, 10, new Set()).map((d) => d.id)).to.deep.equal(['d1']);
    expect(store.getNotification('n1')).to.include({ receiver: 'r', groupKey: 'g' });
  });

  it('supersedes older pending deliveries of the same target and group, but not ones in flight', () => {
    store.accept(notification('n1'), [delivery('d1', 'n1')], new Set());
    store.accept(notification('n2'), [delivery('d2', 'n2')], new Set());
    expect(store.getDelivery('d1')).to.include({ state: 'superseded', skipReason: 'superseded' });
    store.accept(notification('n3'), [delivery('d3', 'n3')], new Set(['d2']));
    expect(store.getDelivery('d2')?.state).to.equal('pending');
    expect(store.latestSeq('t', 'g')).to.equal(store.getDelivery('d3')?.seq);
    // Another group or another target is untouched.
    store.accept(notification('n4', 'other'), [delivery('d4', 'n4', { groupKey: 'other' })], new Set());
    expect(store.getDelivery('d3')?.state).to.equal('pending');
  });

  it('orders due deliveries by priority, then due time, and skips the excluded', () => {
    store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a', priority: 2, nextAttemptAt: T0 - 10 })], new Set());
    store.accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', priority: 0, nextAttemptAt: T0 })], new Set());
    store.accept(notification('n3', 'c'), [delivery('d3', 'n3', { groupKey: 'c', priority: 2, nextAttemptAt: T0 - 20 })], new Set());
    store.accept(notification('n4', 'd'), [delivery('d4', 'n4', { groupKey: 'd', priority: 0, nextAttemptAt: T0 + 1000 })], new Set());
    expect(store.due(T0, 10, new Set()).map((d) => d.id)).to.deep.equal(['d2', 'd3', 'd1']);
    expect(store.due(T0, 2, new Set(['d2'])).map((d) => d.id)).to.deep.equal(['d3', 'd1']);
    expect(store.nextDueAt(new Set(['d3', 'd1', 'd2']))).to.equal(T0 + 1000);
  });

  it('decides duplicates per target by the fingerprints of the last accepted notification of its lane, within the window', () => {
    const accept = (id: string, targets: string[], since: number, view: DedupView = {}) => {
      const ds = targets.map((target) => delivery(`${id}-${target}`, id, { target }));
      return store.accept(notification(id), ds, new Set(), dedupFor(ds, since, view)).map((d) => [d.target, d.state, d.skipReason ?? null]);
    };
    expect(accept('n1', ['t'], T0 - 1)).to.deep.equal([['t', 'pending', null]]);
    // The same alerts again (an HA peer, timestamps apart): t has it; u has never seen this group.
    expect(accept('n2', ['t', 'u'], T0 - 1)).to.deep.equal([
      ['t', 'skipped', 'duplicate'],
      ['u', 'pending', null],
    ]);
    expect(store.deliveriesOf('n2').map((d) => [d.target, d.state])).to.deep.equal([
      ['t', 'skipped'],
      ['u', 'pending'],
    ]);
    // A duplicate for every target stores nothing: the lanes count it.
    expect(accept('n3', ['t', 'u'], T0 - 1)).to.deep.equal([
      ['t', 'skipped', 'duplicate'],
      ['u', 'skipped', 'duplicate'],
    ]);
    expect(store.getNotification('n3')).to.equal(undefined);
    expect(store.dedupState('r', 'g', 't')).to.deep.include({ firing: ['fp-a'], resolved: [], at: T0, duplicates: 2 });
    // A new alert in the group goes; then the smaller set is a duplicate of it.
    expect(accept('n4', ['t'], T0 - 1, { firing: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
    expect(accept('n5', ['t'], T0 - 1, { firing: ['fp-b'] })).to.deep.equal([['t', 'skipped', 'duplicate']]);
    // Everything resolved goes once, send_resolved or not.
    expect(accept('n6', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
    expect(accept('n7', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'skipped', 'duplicate']]);
    // Outside the window nothing counts; a repeat is never a duplicate.
    expect(accept('n8', ['t'], T0 + 1, { firing: [], resolved: ['fp-a', 'fp-b'] })).to.deep.equal([['t', 'pending', null]]);
    expect(accept('n9', ['t'], T0 - 1, { firing: [], resolved: ['fp-a', 'fp-b'], repeat: true })).to.deep.equal([['t', 'pending', null]]);
    // Without dedup, nothing is a duplicate.
    expect(store.accept(notification('n10'), [delivery('n10-t', 'n10')], new Set()).map((d) => d.state)).to.deep.equal(['pending']);
  });

  it('records the state of a filtered target (send_resolved off, all resolved), so that its next firing is not taken for a duplicate', () => {
    const accept = (id: string, state: 'pending' | 'skipped', view: DedupView) => {
      const ds = [delivery(`${id}-t`, id, state === 'skipped' ? { state, skipReason: 'filtered', nextAttemptAt: undefined } : {})];
      return store.accept(notification(id), ds, new Set(), dedupFor(ds, T0 - 1, view)).map((d) => d.skipReason ?? d.state);
    };
    expect(accept('n1', 'pending', {})).to.deep.equal(['pending']);
    expect(accept('n2', 'skipped', { firing: [], resolved: ['fp-a'] })).to.deep.equal(['filtered']);
    expect(store.dedupState('r', 'g', 't')).to.deep.include({ firing: [], resolved: ['fp-a'] });
    expect(accept('n3', 'pending', {})).to.deep.equal(['pending']);
  });

  it('vouches that a notification is no duplicate only when no state in the window can make it one, across a reopen', async () => {
    const window = 600_000;
    const lane = (target: string, view: DedupView = {}) => [dedupEntryOf(target, 'g', view)];
    const claim = (target: string, at: number, view: DedupView = {}) => store.claimDedup(lane(target, view), at, at - window);
    store.accept(notification('n1'), [delivery('d1', 'n1')], new Set(), { entries: lane('t'), since: T0 - window, claimed: true });
    store.accept(notification('old', 'g', T0 - 2 * window), [delivery('d-old', 'old', { target: 'old', createdAt: T0 - 2 * window })], new Set(), {
      entries: lane('old'),
      since: T0 - 3 * window,
      claimed: true,
    });
    await store.close();
    store = openSqliteStore(join(dir, 'sub', 'ledger.db'));
    // Loaded from the ledger at the first claim: t's state is inside the window, old's is not.
    expect(claim('new', T0 + 1)).to.equal(true);
    expect(claim('t', T0 + 1)).to.equal(false);
    expect(claim('t', T0 + 1, { firing: ['fp-a', 'fp-b'] })).to.equal(true);
    expect(claim('old', T0 + 1)).to.equal(true);
    // Claimed means on its way into the ledger: a second claim (an HA peer's copy) must wait for the commit.
    expect(claim('new', T0 + 2)).to.equal(false);
    // A repeat is never a duplicate.
    expect(claim('new', T0 + 3, { repeat: true })).to.equal(true);
  });

  it('replays dead letters with a fresh attempt budget counted from the replay, keeping their attempts and createdAt', () => {
    store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' })], new Set());
    store.accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', target: 'u' })], new Set());
    store.update([
      { id: 'd1', state: 'dead', attempts: 12, lastError: 'boom', updatedAt: T0 },
      { id: 'd2', state: 'dead', attempts: 3, updatedAt: T0 },
    ]);
    expect(store.replay({ target: 't' }, T0 + 5).ids).to.deep.equal(['d1']);
    expect(store.getDelivery('d1')).to.include({ state: 'pending', attempts: 12, attemptsAtReplay: 12, replayedAt: T0 + 5, nextAttemptAt: T0 + 5, createdAt: T0 });
    expect(store.replay({ ids: ['d2', 'nope'] }, T0 + 6).ids).to.deep.equal(['d2']);
    expect(store.replay({ state: 'dead' }, T0 + 7).ids).to.deep.equal([]);
  });

  it('replays only deliveries of configured targets and reports the others', () => {
    store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a' }), delivery('d2', 'n1', { groupKey: 'a', target: 'gone' })], new Set());
    store.update([
      { id: 'd1', state: 'dead', attempts: 1, updatedAt: T0 },
      { id: 'd2', state: 'dead', attempts: 1, updatedAt: T0 },
    ]);
    expect(store.replay({ state: 'dead', configured: ['t'] }, T0 + 5)).to.deep.equal({
      ids: ['d1'],
      unconfigured: [{ id: 'd2', target: 'gone' }],
      unconfiguredCount: 1,
    });
    expect(store.getDelivery('d2')?.state).to.equal('dead');
  });

  it('wakes the waiting deliveries of a recovered target', () => {
    store.accept(notification('n1'), [delivery('d1', 'n1')], new Set());
    store.update([{ id: 'd1', state: 'pending', attempts: 0, skipReason: 'circuit_open', nextAttemptAt: T0 + 60_000, updatedAt: T0 }]);
    expect(store.wake('t', T0 + 1)).to.equal(1);
    expect(store.getDelivery('d1')?.nextAttemptAt).to.equal(T0 + 1);
    expect(store.wake('other', T0 + 1)).to.equal(0);
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

  it('counts the queue and the dead letters by priority, leaves finished deliveries out, and knows the oldest pending', () => {
    store.accept(notification('n1', 'a'), [delivery('d1', 'n1', { groupKey: 'a', priority: 0, createdAt: T0 - 5000 })], new Set());
    store.accept(notification('n2', 'b'), [delivery('d2', 'n2', { groupKey: 'b', priority: 2 }), delivery('d3', 'n2', { target: 'u', groupKey: 'b', priority: 2 })], new Set());
    store.accept(notification('n3', 'c'), [delivery('d4', 'n3', { groupKey: 'c', priority: 2 })], new Set());
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
    store.accept(notification('n1'), [delivery('d1', 'n1'), delivery('d2', 'n1', { target: 'u' })], new Set());
    expect(store.list({ target: 'u' }).map((d) => d.id)).to.deep.equal(['d2']);
    expect(store.deliveriesOf('n1').map((d) => d.id)).to.deep.equal(['d1', 'd2']);
    expect(store.delete('d1')).to.equal(true);
    expect(store.delete('d1')).to.equal(false);
    expect(store.list({ notificationId: 'n1' }).map((d) => d.id)).to.deep.equal(['d2']);
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
});
