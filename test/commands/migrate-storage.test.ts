import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateStorageCommand, type MigrateIO } from '../../src/commands/migrate-storage.js';
import { openSqliteLedger } from '../../src/delivery/sqlite-ledger.js';
import { SqliteExport } from '../../src/delivery/sqlite-transfer.js';
import pg from 'pg';
import { openImportDestination } from '../../src/delivery/open.js';
import { openPostgresLedger } from '../../src/delivery/postgres/ledger.js';
import { acceptItem, dedupFor } from '../helpers/ledger.js';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import type { ImportCounts, Ledger, LedgerExport, LedgerImport } from '../../src/delivery/ledger.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');

/** A destination that keeps the pages it was given (the PostgreSQL import has its own tests). */
function recorder(): { pages: LedgerExport[]; opened: string[]; closed: number; destination: (url: string) => Promise<Ledger & LedgerImport> } {
  const self = {
    pages: [] as LedgerExport[],
    opened: [] as string[],
    closed: 0,
    destination: async (url: string) => {
      self.opened.push(url);
      const counts = (p: LedgerExport): ImportCounts => ({
        notifications: p.notifications.length,
        deliveries: p.deliveries.length,
        attempts: p.attempts.length,
        dedup: p.dedup.length,
        state: p.state.length,
      });
      return {
        importRecords: async (page: LedgerExport) => (self.pages.push(page), counts(page)),
        close: async () => void self.closed++,
      } as unknown as Ledger & LedgerImport;
    },
  };
  return self;
}

describe('migrate-storage', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-migrate-'));
    path = join(dir, 'ledger.db');
    const ledger = openSqliteLedger(path, { writerThread: false, replica: 'old' });
    // n1: one pending delivery with a failed attempt on record; n2: dead; n3: delivered (history, not moved).
    const n1 = acceptItem('n1', T0, { groupKey: 'g1' });
    const n2 = acceptItem('n2', T0 + 1, { groupKey: 'g2' });
    const n3 = acceptItem('n3', T0 + 2, { groupKey: 'g3' });
    await ledger.write({ accepts: [{ ...n1, dedup: dedupFor(n1.deliveries, T0 - 600_000) }, n2, n3], updates: [] });
    const failed = { attempts: 1, lastStatus: 503, lastReason: 'serverError', lastError: '503', retryable: true, updatedAt: T0 + 10, attemptedAt: T0 + 5 };
    await ledger.write({
      accepts: [],
      updates: [
        { id: 'n1-t', state: 'pending', nextAttemptAt: T0 + 1000, ...failed },
        { id: 'n2-t', state: 'dead', ...failed },
        { id: 'n3-t', state: 'delivered', attempts: 1, lastStatus: 200, deliveredAt: T0 + 20, updatedAt: T0 + 20, attemptedAt: T0 + 15 },
      ],
    });
    await ledger.stateSet('slack:ts:x', '{"ts":"1.2"}', T0 + 3_600_000);
    await ledger.stateSet('expired', 'x', T0 - 1);
    await ledger.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const io = (dest: ReturnType<typeof recorder>, lines: string[], errors: string[]): MigrateIO => ({
    out: (s) => lines.push(s),
    err: (s) => errors.push(s),
    env: {},
    now: () => T0,
    openDestination: dest.destination,
  });

  it('exports pending and dead deliveries with their notifications, attempts, the dedup state and live correlation state', () => {
    const source = new SqliteExport(path);
    try {
      expect(source.counts()).to.deep.equal({ pending: 1, dead: 1 });
      const pages = [...source.pages(T0)];
      expect(pages).to.have.length(1);
      const [page] = pages as [LedgerExport];
      expect(page.deliveries.map((d) => [d.id, d.state, d.attempts])).to.deep.equal([
        ['n1-t', 'pending', 1],
        ['n2-t', 'dead', 1],
      ]);
      expect(page.deliveries[0]).to.include({ nextAttemptAt: T0 + 1000, lastReason: 'serverError' });
      expect(page.notifications.map((n) => n.id)).to.deep.equal(['n1', 'n2']);
      expect(page.attempts.map((a) => [a.deliveryId, a.replica, a.statusCode])).to.deep.equal([
        ['n1-t', 'old', 503],
        ['n2-t', 'old', 503],
      ]);
      expect(page.dedup).to.deep.equal([{ receiver: 'r', groupKey: 'g1', target: 't', firing: ['fp-a'], resolved: [], at: T0, duplicates: 0 }]);
      expect(page.state).to.deep.equal([{ key: 'slack:ts:x', value: '{"ts":"1.2"}', expiresAt: T0 + 3_600_000 }]);
      expect(page.next).to.equal(undefined);
    } finally {
      source.close();
    }
  });

  it('pages in arrival order, the dedup and correlation state with the first page only', () => {
    const source = new SqliteExport(path);
    try {
      const pages = [...source.pages(T0, 1)];
      expect(pages.map((p) => p.deliveries.map((d) => d.id))).to.deep.equal([['n1-t'], ['n2-t'], []]);
      expect(pages.map((p) => [p.dedup.length, p.state.length])).to.deep.equal([
        [1, 1],
        [0, 0],
        [0, 0],
      ]);
      expect(pages[0]!.next).to.be.a('number');
    } finally {
      source.close();
    }
  });

  it('copies every page to the destination and reports the counts, never the URL password', async () => {
    const dest = recorder();
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await migrateStorageCommand(['--from', path, '--to', 'postgres://u:hunter2@db:5432/am'], io(dest, lines, errors));
    expect(errors).to.deep.equal([]);
    expect(code).to.equal(0);
    expect(dest.opened).to.deep.equal(['postgres://u:hunter2@db:5432/am']);
    expect(dest.pages.flatMap((p) => p.deliveries.map((d) => d.id))).to.deep.equal(['n1-t', 'n2-t']);
    expect(dest.closed).to.equal(1);
    expect(lines.join('\n')).to.include('1 pending deliveries, 1 dead letters').and.include('copied to postgres://u:***@db:5432/am: 2 deliveries');
    expect(lines.join('\n')).not.to.include('hunter2');
  });

  it('--dry-run counts without opening the destination', async () => {
    const dest = recorder();
    const lines: string[] = [];
    expect(await migrateStorageCommand(['--from', path, '--to', 'postgres://db/am', '--dry-run'], io(dest, lines, []))).to.equal(0);
    expect(dest.opened).to.deep.equal([]);
    expect(lines).to.deep.equal([`source ${path}: 1 pending deliveries, 1 dead letters`]);
  });

  it('fails with 1 and a redacted message when the destination fails, and with 2 on usage errors', async () => {
    const errors: string[] = [];
    const failing: MigrateIO = {
      out: () => {},
      err: (s) => errors.push(s),
      env: {},
      openDestination: async (url) => {
        throw new Error(`connect ECONNREFUSED for ${url}`);
      },
    };
    expect(await migrateStorageCommand(['--from', path, '--to', 'postgres://u:hunter2@db/am'], failing)).to.equal(1);
    expect(errors.join('\n')).to.include('postgres://u:***@db/am').and.not.include('hunter2');
    expect(await migrateStorageCommand(['--from', join(dir, 'missing.db'), '--to', 'postgres://db/am'], failing)).to.equal(1);
    expect(await migrateStorageCommand(['--to', 'postgres://db/am'], failing)).to.equal(2);
    expect(await migrateStorageCommand(['--from', path, '--to', 'mysql://db/am'], failing)).to.equal(2);
    expect(await migrateStorageCommand(['--bogus'], failing)).to.equal(2);
  });

  describe('into a real PostgreSQL', () => {
    let cluster: PostgresCluster | undefined;
    before(async function () {
      this.timeout(60_000);
      cluster = await startPostgres(requirePostgres(this));
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      await admin.query('CREATE DATABASE moved');
      await admin.end();
    });
    after(() => cluster?.stop());

    it('moves the open work so that a replica on PostgreSQL carries on with it, and a second run copies nothing again', async function () {
      this.timeout(30_000);
      const url = cluster!.url.replace(/\/postgres$/, '/moved');
      const lines: string[] = [];
      const errors: string[] = [];
      const io = { out: (l: string) => lines.push(l), err: (l: string) => errors.push(l), env: {}, now: () => T0, openDestination: openImportDestination };
      expect(await migrateStorageCommand(['--from', path, '--to', url], io)).to.equal(0);
      expect(errors).to.deep.equal([]);
      expect(lines[1]).to.include('2 deliveries, 2 notifications, 2 attempts, 1 dedup states, 1 correlation entries');
      expect(await migrateStorageCommand(['--from', path, '--to', url], io)).to.equal(0);
      expect(lines[3]).to.include('0 deliveries, 0 notifications, 0 attempts, 0 dedup states, 0 correlation entries');

      const ledger = await openPostgresLedger({ url, poolSize: 2, statementTimeoutMs: 5000, leaseMs: 30_000, replica: 'new' });
      try {
        expect(await ledger.getDelivery('n2-t')).to.include({ state: 'dead', attempts: 1, lastReason: 'serverError' });
        expect((await ledger.attemptsOf('n1-t')).map((a) => [a.replica, a.statusCode])).to.deep.equal([['old', 503]]);
        expect(await ledger.stateGet('slack:ts:x', T0)).to.equal('{"ts":"1.2"}');
        expect(await ledger.dedupState('r', 'g1', 't')).to.deep.include({ firing: ['fp-a'], at: T0 });
        // The pending one is claimed when its retry is due, as it would have been on SQLite.
        expect(await ledger.claim(T0 + 999, 10, new Set())).to.deep.equal([]);
        expect((await ledger.claim(T0 + 1000, 10, new Set())).map((d) => d.id)).to.deep.equal(['n1-t']);
        expect((await ledger.notifications({}, 10)).map((n) => n.id)).to.deep.equal(['n2', 'n1']);
      } finally {
        await ledger.close();
      }
    });
  });
});
