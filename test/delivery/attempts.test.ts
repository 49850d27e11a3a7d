import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTEMPT_ERROR_CHARS } from '../../src/delivery/records.js';
import { MIGRATIONS, openSqliteStore } from '../../src/delivery/sqlite.js';
import { acceptItem } from '../helpers/ledger.js';
import { attempted } from './contract/fixtures.js';
import type { Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');

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
