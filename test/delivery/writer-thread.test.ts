import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import { WriterThread } from '../../src/delivery/writer-thread.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import type { AcceptBatchItem, Store } from '../../src/delivery/types.js';

const T0 = Date.parse('2026-11-23T01:00:00Z');

const item = (n: string, groupKey = n): AcceptBatchItem => acceptItem(n, T0, { groupKey, targets: ['a', 'b'] });

describe('the ledger writer thread', () => {
  let dir: string;
  let path: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-thread-'));
    path = join(dir, 'ledger.db');
    store = openSqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forgets what it vouched for when the accept that claimed it fails to commit (the ledger decides again)', async () => {
    await store.write({ accepts: [item('n1')], updates: [] });
    const { notification, deliveries } = item('n1', 'g');
    const entries = dedupFor(deliveries, T0 - 1).entries;
    expect(store.claimDedup(entries, T0, T0 - 1)).to.equal(true);
    // The same notification id again: this accept fails, so the lanes it claimed hold nothing.
    const result = await store.write({ accepts: [{ notification, deliveries, dedup: { entries, since: T0 - 1, claimed: true } }], updates: [] });
    expect(result.accepted[0]).to.have.property('error');
    expect(store.dedupState('r', 'g', 'a')).to.equal(undefined);
    expect(store.claimDedup(entries, T0 + 1, T0 - 1)).to.equal(true);
  });

  it('checkpoints the WAL into the database file once the writes pause', async () => {
    const inDatabaseFile = () => statSync(path).size;
    const before = inDatabaseFile();
    await store.write({ accepts: [item('n1'), item('n2')], updates: [] });
    expect(inDatabaseFile()).to.equal(before);
    const deadline = Date.now() + 5_000;
    while (inDatabaseFile() === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(inDatabaseFile()).to.be.greaterThan(before);
  });

  it('never checkpoints on the main connection, which would stop the event loop', () => {
    const before = statSync(path).size;
    // The main connection writes too (replays, correlation state). 1,500 commits of 3 KB: past SQLite's
    // default automatic checkpoint (1,000 pages of 4 KiB).
    for (let i = 0; i < 1_500; i++) store.stateSet(`k${i}`, 'x'.repeat(3000), T0 + 60_000);
    expect(statSync(path).size).to.equal(before);
    expect(store.stateGet('k1499', T0)).to.have.length(3000);
  });

  it('finishes the writes it was sent before it closes', async () => {
    const thread = new WriterThread(path);
    const writes = [thread.write({ accepts: [item('n1')], updates: [] }), thread.write({ accepts: [item('n2')], updates: [] })];
    await thread.close();
    expect((await Promise.all(writes)).map((r) => r.accepted.length)).to.deep.equal([1, 1]);
    expect(store.getNotification('n2')).to.include({ id: 'n2' });
  });

  it('rejects what a dead thread had not answered, and starts a new one for the next write', async () => {
    const thread = new WriterThread(path);
    const lost = thread.write({ accepts: [item('n1')], updates: [] });
    await (thread as unknown as { worker: Worker }).worker.terminate();
    let error: unknown;
    await lost.catch((err: unknown) => (error = err));
    expect(String(error)).to.match(/ledger writer thread exited/);
    const next = await thread.write({ accepts: [item('n2')], updates: [] });
    expect(next.accepted[0]).to.have.property('seqs').with.length(2);
    expect(store.getNotification('n2')).to.include({ id: 'n2' });
    await thread.close();
  });
});
