import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, PAGE_CACHE_KIB, openDatabase, openSqliteStore } from '../../src/delivery/sqlite.js';
import { dedupEntryOf, newDelivery, type DedupView } from '../helpers/ledger.js';
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

});
