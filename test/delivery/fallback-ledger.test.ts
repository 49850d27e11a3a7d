import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, openSqliteStore } from '../../src/delivery/sqlite.js';
import { newDelivery } from '../helpers/ledger.js';
import type { DeliveryUpdate, NewDelivery, NotificationRecord, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

function notification(id: string, groupKey = 'g'): NotificationRecord {
  return { id, key: `key-${id}`, receiver: 'r', groupKey, status: 'firing', createdAt: T0, original: '{}', enriched: '{}' };
}

/** The fallback delivery of `original` to target `to`. */
function fallbackOf(id: string, original: string, n: string, to = 'backup'): NewDelivery {
  return newDelivery(id, n, T0 + 1000, { target: to, fallbackOf: original, fallbackFor: 't', fallbackReason: 'dead' });
}

const held = (id: string, at: number, heldSince: number): DeliveryUpdate => ({
  id,
  state: 'pending',
  skipReason: 'circuit_open',
  attempts: 0,
  nextAttemptAt: at + 60_000,
  heldSince,
  updatedAt: at,
});

describe('fallback deliveries in the SQLite ledger', () => {
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

  it('records one fallback per original delivery, across a restart, and marks the original', async () => {
    store.accept(notification('n1'), [newDelivery('d1', 'n1', T0)], new Set());
    const first = await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
    expect(first).to.include({ id: 'f1', target: 'backup', state: 'pending', fallbackOf: 'd1', fallbackFor: 't', fallbackReason: 'dead' });
    expect(await store.addFallback(fallbackOf('f2', 'd1', 'n1'))).to.equal(undefined);
    await store.close();
    store = openSqliteStore(path, { writerThread: false });
    expect(await store.addFallback(fallbackOf('f3', 'd1', 'n1'))).to.equal(undefined);
    expect(store.getDelivery('d1')).to.include({ fallbackId: 'f1' });
    expect(store.list({ target: 'backup' }).map((d) => d.id)).to.deep.equal(['f1']);
    expect(store.deliveriesOf('n1').map((d) => d.id)).to.deep.equal(['d1', 'f1']);
  });

  it('keeps fallback deliveries out of the lanes: they neither supersede nor are superseded, nor move a lane\'s newest sequence', async () => {
    store.accept(notification('n1'), [newDelivery('d1', 'n1', T0), newDelivery('b1', 'n1', T0, { target: 'backup' })], new Set());
    const before = store.latestSeq('backup', 'g');
    await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
    expect(store.latestSeq('backup', 'g')).to.equal(before);
    expect(store.getDelivery('b1')).to.include({ state: 'pending' });
    // A newer notification of the group supersedes the backup's own pending delivery, never the fallback.
    store.accept(notification('n2'), [newDelivery('b2', 'n2', T0 + 2000, { target: 'backup' })], new Set());
    expect(store.getDelivery('b1')).to.include({ state: 'superseded' });
    expect(store.getDelivery('f1')).to.include({ state: 'pending' });
    expect(store.latestSeq('backup', 'g')).to.equal(store.getDelivery('b2')!.seq);
  });

  it('finds held deliveries past a time, longest held first, until they have a fallback or are no longer pending', async () => {
    store.accept(notification('n1'), [newDelivery('d1', 'n1', T0), newDelivery('d2', 'n1', T0, { groupKey: 'h' })], new Set());
    store.accept(notification('n3', 'k'), [newDelivery('d3', 'n3', T0, { groupKey: 'k' }), newDelivery('x3', 'n3', T0, { target: 'other', groupKey: 'k' })], new Set());
    store.update([held('d2', T0, T0 + 20), held('d1', T0, T0 + 10), held('d3', T0, T0 + 30), held('x3', T0, T0)]);
    // The first time held is kept: a later update never moves it.
    store.update([held('d1', T0 + 50, T0 + 50), { ...held('d3', T0 + 50, T0 + 50), heldSince: null }]);
    expect(await store.earliestHeld('t')).to.equal(T0 + 10);
    expect((await store.heldSince('t', T0 + 20, 10)).map((d) => d.id)).to.deep.equal(['d1', 'd2']);
    expect((await store.heldSince('t', T0 + 30, 1)).map((d) => d.id)).to.deep.equal(['d1']);
    expect(store.getDelivery('d3')).to.include({ heldSince: T0 + 30 });
    await store.addFallback(fallbackOf('f1', 'd1', 'n1'));
    store.update([{ id: 'd2', state: 'delivered', attempts: 1, deliveredAt: T0 + 60, updatedAt: T0 + 60 }]);
    expect((await store.heldSince('t', T0 + 100, 10)).map((d) => d.id)).to.deep.equal(['d3']);
    expect(await store.earliestHeld('t')).to.equal(T0 + 30);
    expect(await store.earliestHeld('nobody')).to.equal(undefined);
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
