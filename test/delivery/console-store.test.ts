import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { MIGRATIONS, openSqliteStore } from '../../src/delivery/sqlite.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const payload = (...alertnames: string[]) => JSON.stringify({ alerts: alertnames.map((alertname) => ({ labels: { alertname } })) });

describe('the notification list migration', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'alertmux-migrate-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fills the list from the notifications a ledger already holds', async () => {
    const path = join(dir, 'ledger.db');
    const index = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE notification_index'));
    const old = new Database(path);
    for (const migration of MIGRATIONS.slice(0, index)) old.exec(migration);
    old.pragma(`user_version = ${index}`);
    const insert = old.prepare(`INSERT INTO notifications VALUES (?, 'k', 'r', 'g', 'firing', ?, ?, '{}')`);
    insert.run('n1', T0, payload('A', 'B', 'A'));
    insert.run('n2', T0 + 1, payload());
    insert.run('n3', T0 + 2, 'not json');
    const delivery = old.prepare(
      `INSERT INTO deliveries (id, notification_id, target, target_type, group_key, notification_key, state, skip_reason, priority, alerts, attempts, created_at, updated_at)
       VALUES (?, ?, ?, 'webhook', 'g', 'k', ?, ?, 3, '[0]', 0, ?, ?)`,
    );
    delivery.run('d1', 'n1', 'x', 'delivered', null, T0, T0);
    delivery.run('d2', 'n1', 'y', 'skipped', 'filtered', T0, T0);
    delivery.run('d3', 'n2', 'y', 'pending', null, T0, T0);
    old.close();
    const store = openSqliteStore(path, { writerThread: false });
    try {
      expect([...store.notifications({})]).to.deep.equal([
        { id: 'n2', createdAt: T0 + 1, receiver: 'r', groupKey: 'g', status: 'firing', alerts: 0, alertnames: [] },
        { id: 'n1', createdAt: T0, receiver: 'r', groupKey: 'g', status: 'firing', alerts: 3, alertnames: ['A', 'B'] },
      ]);
      expect([...store.notifications({ target: 'y' })].map((n) => n.id)).to.deep.equal(['n2']);
      expect([...store.notifications({ target: 'x', alertname: 'B' })].map((n) => n.id)).to.deep.equal(['n1']);
    } finally {
      await store.close();
    }
  });
});
