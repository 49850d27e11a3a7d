import { expect } from 'chai';
import { Gauge } from 'prom-client';
import { storageFailure } from '../../src/delivery/ledger-health.js';
import { openSqliteStore } from '../../src/delivery/sqlite.js';
import { sqliteLedger } from '../../src/delivery/sqlite-ledger.js';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { recordingLogger, type LogLine } from '../helpers/logs.js';
import type { Config } from '../../src/config/types.js';
import type { Store } from '../../src/delivery/types.js';

const FIRING = 'am025-firing-2-firing-firing-noauth.json';
const FULL = 'SqliteError: database or disk is full';

/** A real (in-memory) SQLite ledger whose outcome writes, probes and single updates fail while `full` is set; accepts still commit. */
function faultyStore() {
  const faults = { full: false, acceptsFail: false, corrupt: false, store: undefined as Store | undefined };
  const openStore = (path: string): Store => {
    const store = openSqliteStore(path);
    const fail = () => {
      if (faults.full) throw storageFailure(FULL, 'SQLITE_FULL');
    };
    faults.store = store;
    return {
      ...store,
      write: async (batch) => {
        if (faults.acceptsFail) return { accepted: batch.accepts.map(() => ({ error: FULL, code: 'SQLITE_FULL' })), updateError: FULL, updateCode: 'SQLITE_FULL' };
        if (!faults.full || !batch.updates.length) return store.write(batch);
        const { accepted } = await store.write({ accepts: batch.accepts, updates: [] });
        return { accepted, updateError: FULL, updateCode: 'SQLITE_FULL' };
      },
      update: (updates) => (fail(), store.update(updates)),
      stateSet: (key, value, expiresAt) => (fail(), store.stateSet(key, value, expiresAt)),
      stats: () => {
        if (faults.corrupt) throw storageFailure('SqliteError: database disk image is malformed', 'SQLITE_CORRUPT');
        return store.stats();
      },
    };
  };
  // The app reads and writes through the asynchronous ledger over that store; the test reads the store itself.
  const openLedger = (config: Config, replica: string) => sqliteLedger(openStore(config.storage.path), replica);
  return { faults, openLedger };
}

describe('storage faults never cause re-sends (a ledger that cannot write outcomes)', function () {
  this.timeout(20_000);
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  const start = async (reply: LoopbackTarget['reply'], lines?: { logger: ReturnType<typeof recordingLogger>['logger'] }) => {
    const target = await loopbackTarget(reply);
    targets.push(target);
    const { faults, openLedger } = faultyStore();
    app = await startApp(
      `storage: {path: ":memory:"}
retry: {initial_backoff: 20ms, max_backoff: 40ms, max_attempts: 4}
dispatch: {response_deadline: 2s, timeout: 1s}
health: {unhealthy_after: 1000}
breaker: {consecutive_failures: 1000}
targets:
  - {name: t, type: webhook, url: "${target.url}"}`,
      { openLedger, ...(lines ? { logger: lines.logger } : {}) },
    );
    return { target, faults, store: faults.store as Store };
  };

  it('keeps a delivered outcome it could not write as settled: never sent again, written once the ledger recovers; readiness follows the ledger', async () => {
    const { logger, lines } = recordingLogger();
    const { target, faults, store } = await start(() => ({ status: 200 }), { logger });
    faults.full = true;
    const res = await app!.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    const id = res.body.targets[0].deliveryId ?? store.list({})[0]?.id;
    const ready = await eventually(async () => {
      const r = await app!.get('/-/ready');
      return r.status === 503 ? r : undefined;
    }, '/-/ready answering 503');
    expect(ready.text).to.match(/SQLITE_FULL/);
    // The ledger's row is stale (pending, due): the retry worker would have sent it again and again.
    expect(store.getDelivery(id)).to.include({ state: 'pending', attempts: 0 });
    app!.mux.worker.wake();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app!.mux.dispatcher.idle();
    expect(target.received).to.have.length(1);
    // Scrapes still answer while the ledger fails.
    expect((await app!.get('/metrics')).text).to.match(/alertmux_storage_errors_total [1-9]/);
    const failure = lines.find((l: LogLine) => l.level === 'error' && l.message === 'ledger write failed');
    expect(failure?.meta).to.include({ code: 'SQLITE_FULL' });

    faults.full = false;
    await eventually(async () => (await app!.get('/-/ready')).status === 200, '/-/ready answering 200 again', 5000);
    await eventually(() => store.getDelivery(id)?.state === 'delivered', 'the kept outcome written', 5000);
    expect(store.getDelivery(id)).to.include({ state: 'delivered', attempts: 1 });
    expect(target.received).to.have.length(1);
    expect(lines.some((l) => l.level === 'info' && l.message === 'ledger writable again')).to.equal(true);
  });

  it('counts the attempts of a failing target while its outcomes cannot be written, so it dead-letters instead of looping', async () => {
    const { logger, lines } = recordingLogger();
    const { target, faults, store } = await start(() => ({ status: 500 }), { logger });
    faults.full = true;
    expect((await app!.post('/webhook', fixture(FIRING))).status).to.equal(202);
    const [row] = store.list({});
    // Retried from the outcome kept in memory, each retry counted: max_attempts (4) requests, then dead.
    await eventually(() => target.received.length >= 4, 'four attempts');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await app!.mux.dispatcher.idle();
    expect(target.received).to.have.length(4);
    expect(app!.mux.dispatcher.ledger.unwritten.all().map((u) => [u.id, u.state, u.attempts])).to.deep.equal([[row!.id, 'dead', 4]]);
    // Several failed writes in well under the log interval: one error line (the rest counted, not logged).
    expect(lines.filter((l) => l.message === 'ledger write failed')).to.have.length(1);

    faults.full = false;
    await eventually(() => store.getDelivery(row!.id)?.state === 'dead', 'the dead letter written', 5000);
    expect(store.getDelivery(row!.id)).to.include({ attempts: 4, lastReason: 'serverError' });
  });

  it('answers 503 with a log line when the accept cannot be written, and not ready until a write commits', async () => {
    const { logger, lines } = recordingLogger();
    const { faults } = await start(() => ({ status: 200 }), { logger });
    faults.acceptsFail = true;
    faults.full = true;
    const res = await app!.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(503);
    const line = lines.find((l) => l.message === 'webhook answered 503: Alertmanager will retry');
    expect(line?.level).to.equal('warn');
    expect(line?.meta).to.include({ code: 'SQLITE_FULL', why: 'the ledger could not record the notification' });
    expect((await app!.get('/-/ready')).status).to.equal(503);
    faults.acceptsFail = false;
    faults.full = false;
    // No traffic needed: the probe write after the backoff finds the ledger writable.
    await eventually(async () => (await app!.get('/-/ready')).status === 200, '/-/ready answering 200 again', 5000);
  });

  it('answers a scrape whose ledger gauges cannot be read, leaving those gauges out', async () => {
    const { logger, lines } = recordingLogger();
    const { faults } = await start(() => ({ status: 200 }), { logger });
    faults.corrupt = true;
    const res = await app!.get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.text).to.contain('alertmux_storage_errors_total 0');
    expect(res.text).not.to.match(/alertmux_delivery_queue_depth|alertmux_delivery_oldest_pending_age_seconds/);
    expect(lines.find((l) => l.level === 'error')?.meta).to.include({ what: 'ledger', code: 'SQLITE_CORRUPT' });
    faults.corrupt = false;
    expect((await app!.get('/metrics')).text).to.match(/alertmux_delivery_queue_depth\{state="pending",priority="0"\} 0/);
  });

  it('leaves a metric whose collection fails out of the scrape, not the whole scrape', async () => {
    await start(() => ({ status: 200 }));
    new Gauge({
      name: 'test_broken_gauge',
      help: 'A gauge whose collect throws.',
      registers: [app!.registry],
      collect() {
        throw new Error('cannot read it');
      },
    });
    const res = await app!.get('/metrics');
    expect(res.status).to.equal(200);
    expect(res.text).not.to.contain('test_broken_gauge');
    expect(res.text).to.contain('alertmux_storage_errors_total 0');
  });
});
