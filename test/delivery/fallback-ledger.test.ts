import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, openSqliteStore } from '../../src/delivery/sqlite.js';
import { newDelivery } from '../helpers/ledger.js';
import type { NewDelivery, NotificationRecord, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

function notification(id: string, groupKey = 'g'): NotificationRecord {
  return { id, key: `key-${id}`, receiver: 'r', groupKey, status: 'firing', createdAt: T0, original: '{}', enriched: '{}' };
}

/** The fallback delivery of `original` to target `to`. */
function fallbackOf(id: string, original: string, n: string, to = 'backup'): NewDelivery {
  return newDelivery(id, n, T0 + 1000, { target: to, fallbackOf: original, fallbackFor: 't', fallbackReason: 'dead' });
}

describe('fallback deliveries in the SQLite ledger (the rest: test/delivery/contract/fallback.ts)', () => {
  let dir: string;
  let path: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-fallback-ledger-'));
    path = join(dir, 'ledger.db');
    store = openSqliteStore(path, { writerThread: false });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one fallback per original delivery across a restart', async () => {
    store.accept(notification('n1'), [newDelivery('d1', 'n1', T0)], new Set());
    expect(await store.addFallback(fallbackOf('f1', 'd1', 'n1'))).to.include({ id: 'f1' });
    await store.close();
    store = openSqliteStore(path, { writerThread: false });
    expect(await store.addFallback(fallbackOf('f3', 'd1', 'n1'))).to.equal(undefined);
    expect(store.getDelivery('d1')).to.include({ fallbackId: 'f1' });
  });

  it('migrates a ledger of the previous schema, keeping its deliveries', async () => {
    await store.close();
    rmSync(path);
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, -1)) old.exec(migration);
    old.pragma(`user_version = ${MIGRATIONS.length - 1}`);
    old.exec(`INSERT INTO notifications VALUES ('n1', 'k', 'r', 'g', 'firing', ${T0}, '{}', '{}');
      INSERT INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, priority, alerts, attempts, created_at, updated_at, next_attempt_at)
      VALUES ('d1', 'n1', 't', 'webhook', 'g', 'k', 'pending', 3, '[0]', 0, ${T0}, ${T0}, ${T0});`);
    old.close();
    store = openSqliteStore(path, { writerThread: false });
    expect(store.getDelivery('d1')).to.include({ state: 'pending', fallbackId: undefined, heldSince: undefined });
    expect(await store.addFallback(fallbackOf('f1', 'd1', 'n1'))).to.include({ id: 'f1' });
  });
});
