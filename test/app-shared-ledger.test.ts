import { expect } from 'chai';
import { openSqliteLedger } from '../src/delivery/sqlite-ledger.js';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from './helpers/servers.js';
import { fixture } from './helpers/fixtures.js';
import { acceptItem } from './helpers/ledger.js';
import { recordingLogger } from './helpers/logs.js';
import type { Config } from '../src/config/types.js';
import type { ExclusiveJob, Ledger, LedgerEvents } from '../src/delivery/ledger.js';

const FIRING = 'am025-firing-2-firing-firing-noauth.json';

function yaml(targets: string): string {
  return `storage: {path: ":memory:"}
retry: {initial_backoff: 20ms, max_backoff: 40ms}
dispatch: {response_deadline: 2s, timeout: 1s}
targets:
${targets}`;
}

/**
 * The app on the SQLite ledger made to answer as a shared one would: `change` rewrites the ledger (an accept's
 * deliveries blocked behind another replica, updates lost to it, jobs another replica holds). `events` are the
 * ledger's reports the app subscribed to.
 */
function sharedLedger(change: (ledger: Ledger) => Partial<Ledger>) {
  const seen: { events?: LedgerEvents; ledger?: Ledger } = {};
  const openLedger = (config: Config, replica: string, events: LedgerEvents): Ledger => {
    const ledger = openSqliteLedger(config.storage.path, { replica });
    seen.events = events;
    seen.ledger = { ...ledger, ...change(ledger) };
    return seen.ledger;
  };
  return { seen, openLedger };
}

describe('the app on a shared ledger (leases, exclusive jobs, wake-ups)', () => {
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  const target = async () => {
    const t = await loopbackTarget();
    targets.push(t);
    return t;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  it('does not attempt a delivery blocked behind another replica: reports it queued, and the retry worker claims it', async () => {
    const a = await target();
    const b = await target();
    // The accept's second delivery (target b) waits behind another replica's attempt in its lane. A shared ledger
    // never vouches for dedup ahead of the commit, so nothing is sent before the accept's answer says what is blocked.
    const { openLedger } = sharedLedger((ledger) => ({
      claimDedup: () => false,
      write: async (batch) => {
        const result = await ledger.write(batch);
        // Blocked deliveries are not leased to the accepting replica: the SQLite ledger's lease on it goes back.
        const blocked = batch.accepts.flatMap((a, i) => ('seqs' in (result.accepted[i] ?? {}) && a.deliveries[1] ? [a.deliveries[1].id] : []));
        if (blocked.length) await ledger.unlease(blocked);
        return { ...result, accepted: result.accepted.map((r) => ('seqs' in r ? { ...r, blocked: [1] } : r)) };
      },
    }));
    app = await startApp(yaml(`  - {name: a, type: webhook, url: "${a.url}"}\n  - {name: b, type: webhook, url: "${b.url}"}`), { openLedger });
    // In-process: the dispatch's own answer.
    const result = await app.mux.dispatcher.dispatch(fixture(FIRING));
    expect(result.targets.map((t) => [t.target, t.state, t.attempts, t.queued ?? false])).to.deep.equal([
      ['a', 'succeeded', 1, false],
      ['b', 'pending', 0, true],
    ]);
    expect(a.received).to.have.length(1);
    // The retry worker claims it (here at once: SQLite's claim is this process's own), and it is sent once, by it.
    app.mux.worker.wake();
    await eventually(async () => (await app!.mux.store.getDelivery(result.targets[1]!.deliveryId!))?.state === 'delivered', 'the claimed delivery');
    await app.mux.dispatcher.idle();
    expect(b.received).to.have.length(1);
    expect(await app.mux.store.attemptsOf(result.targets[1]!.deliveryId!)).to.have.length(1);
  });

  it('forgets outcomes another replica took over: counted, one warning per batch, never retried here', async () => {
    const t = await target();
    const { logger, lines } = recordingLogger();
    let lostIds: string[] = [];
    // Every update is refused: this replica's lease had expired and another replica holds the delivery.
    const { openLedger } = sharedLedger((ledger) => ({
      write: async (batch) => {
        const result = await ledger.write({ accepts: batch.accepts, updates: [] });
        lostIds = [...lostIds, ...batch.updates.map((u) => u.id)];
        return batch.updates.length ? { ...result, lost: batch.updates.map((u) => u.id) } : result;
      },
    }));
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`), { openLedger, logger });
    const res = await app.post('/webhook', fixture(FIRING));
    expect(res.status).to.equal(200);
    await app.mux.dispatcher.flush();
    expect(lostIds).to.deep.equal([res.body.targets[0].deliveryId]);
    expect((await app.get('/metrics')).text).to.match(/^alertmux_ledger_leases_lost_total 1$/m);
    const warnings = lines.filter((l) => l.level === 'warn' && /another replica took over/.test(l.message));
    expect(warnings).to.have.length(1);
    expect(warnings[0]?.meta).to.deep.include({ count: 1 });
    expect(app.mux.dispatcher.ledger.unwritten.size, 'not kept to be written again').to.equal(0);
    expect(app.mux.dispatcher.ledger.health.ok).to.equal(true);
  });

  it('wakes the retry worker when the ledger says another replica made work claimable, and unsubscribes on close', async () => {
    const t = await target();
    const listeners = new Set<() => void>();
    const { seen, openLedger } = sharedLedger(() => ({
      onWork: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    }));
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`), { openLedger });
    expect(listeners.size).to.equal(1);
    // The worker looked and found nothing: it sleeps (up to 30 s) until woken.
    await app.mux.worker.tick();
    // Another replica accepted a notification whose delivery this one may claim (written behind the app's back).
    const item = acceptItem('n_other', Date.now(), { targets: ['t'] });
    const payload = JSON.stringify(fixture(FIRING));
    item.notification.original = payload;
    item.notification.enriched = payload;
    item.deliveries[0] = { ...item.deliveries[0]!, targetType: 'webhook', alerts: [0, 1], nextAttemptAt: Date.now() };
    await seen.ledger!.write({ accepts: [item], updates: [] });
    // That replica's first attempt never started: it gave its lease back, so any replica's claim may take the delivery.
    await seen.ledger!.unlease([item.deliveries[0].id]);
    for (const listener of listeners) listener();
    await eventually(() => t.received.length === 1, 'the delivery claimed after the wake-up');
    await app.close();
    app = undefined;
    expect(listeners.size).to.equal(0);
  });

  it("follows a breaker another replica opened until a trial closes it, and records one its own attempts opened", async function () {
    // The shared records are read every PAUSE_SYNC_MS (5 s): this test waits for two reads.
    this.timeout(40_000);
    const t = await target();
    const down = await loopbackTarget(() => ({ status: 503 }));
    targets.push(down);
    const { seen, openLedger } = sharedLedger(() => ({ driver: 'postgres' as const, claimDedup: () => false }));
    app = await startApp(
      yaml(`  - {name: t, type: webhook, url: "${t.url}"}\n  - {name: u, type: webhook, url: "${down.url}"}`).replace('targets:', 'breaker: {consecutive_failures: 2, cooldown: 60s}\ntargets:'),
      { openLedger },
    );
    const circuit = async (target: string) => /state="(\w+)"\} 1$/m.exec((await app!.get('/metrics')).text.split('\n').filter((l) => l.startsWith(`alertmux_target_circuit_state{target="${target}"`) && l.endsWith(' 1')).join('\n'))?.[1];
    // Another replica found t down: its record, until its trial in a minute.
    const until = Date.now() + 60_000;
    await seen.ledger!.stateSet('alertmux:breaker:t', JSON.stringify({ until, trips: 1, by: 'pod-b' }), until);
    await eventually(async () => (await circuit('t')) === 'open', "t's breaker opened after the other replica's", 8000);
    const queued = await app.mux.dispatcher.dispatch({ ...fixture(FIRING), groupKey: 'g-t' }, { targets: ['t'] });
    expect(queued.targets.map((r) => [r.target, r.state, r.skipReason, r.queued, r.nextAttemptAt])).to.deep.equal([['t', 'skipped', 'circuit_open', true, new Date(until).toISOString()]]);
    expect(t.received, 'nothing sent to a target another replica found down').to.have.length(0);
    // That replica's trial closed it: the record goes, and this replica sends what waited.
    await seen.ledger!.stateDelete('alertmux:breaker:t');
    await eventually(() => t.received.length === 1, 'the waiting delivery, once the other replica closed the breaker', 8000);
    // u fails twice in a row here: this replica's breaker opens and it tells the others.
    await app.mux.dispatcher.dispatch({ ...fixture(FIRING), groupKey: 'g-u' }, { targets: ['u'] });
    app.mux.worker.wake();
    const record = await eventually(async () => seen.ledger!.stateGet('alertmux:breaker:u', Date.now()), "u's record", 8000);
    expect(JSON.parse(record)).to.deep.include({ trips: 1, by: seen.ledger!.replica });
  });

  it('exports the queue gauges and runs the jobs only where the ledger says so, and shows which replica runs which job', async () => {
    const t = await target();
    const asked: ExclusiveJob[] = [];
    const { openLedger } = sharedLedger(() => ({ exclusive: async (job) => (asked.push(job), job !== 'queue-gauges') }));
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`), { openLedger });
    const text = (await app.get('/metrics')).text;
    expect(asked).to.include('queue-gauges');
    expect(text).to.match(/^alertmux_ledger_exclusive_jobs\{task="queue-gauges"\} 0$/m);
    expect(text, 'another replica exports them').not.to.match(/^alertmux_delivery_queue_depth/m);
    expect(text).not.to.match(/^alertmux_delivery_oldest_pending_age_seconds/m);
    expect(text, 'no deadman config: this replica does not compete for that job').not.to.match(/^alertmux_ledger_exclusive_jobs\{task="deadman"\}/m);
  });

  it('exports the queue gauges on SQLite, where every job runs in this process', async () => {
    const t = await target();
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`));
    const text = (await app.get('/metrics')).text;
    expect(text).to.match(/^alertmux_ledger_exclusive_jobs\{task="queue-gauges"\} 1$/m);
    expect(text).to.match(/^alertmux_delivery_queue_depth\{state="pending",priority="0"\} 0$/m);
    expect(text).to.match(/^alertmux_ledger_database_up 1$/m);
    expect(text).to.match(/^alertmux_ledger_lease_takeovers_total 0$/m);
    expect(text).to.match(/^alertmux_ledger_leases_lost_total 0$/m);
  });

  it("counts the ledger's takeovers and follows whether its database answers, with a log line for each change", async () => {
    const t = await target();
    const { logger, lines } = recordingLogger();
    const { seen, openLedger } = sharedLedger(() => ({}));
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`), { openLedger, logger });
    seen.events!.takeover!(3, 'pod-b');
    seen.events!.reachable!(false);
    let text = (await app.get('/metrics')).text;
    expect(text).to.match(/^alertmux_ledger_lease_takeovers_total 3$/m);
    expect(text).to.match(/^alertmux_ledger_database_up 0$/m);
    seen.events!.reachable!(true);
    text = (await app.get('/metrics')).text;
    expect(text).to.match(/^alertmux_ledger_database_up 1$/m);
    expect(lines.find((l) => /took over/.test(l.message))).to.deep.include({ level: 'info', meta: { count: 3, from: 'pod-b' } });
    expect(lines.filter((l) => /database/.test(l.message)).map((l) => l.level)).to.deep.equal(['error', 'info']);
  });

  it('is not ready while the database does not answer, and asks it again on each readiness check until it does', async () => {
    const t = await target();
    let answering = true;
    const asked: string[] = [];
    const { seen, openLedger } = sharedLedger((ledger) => ({
      stateGet: async (key, now) => {
        asked.push(key);
        if (!answering) throw new Error('connect ECONNREFUSED');
        // The ledger reports its database answers again on its first success.
        seen.events!.reachable!(true);
        return ledger.stateGet(key, now);
      },
    }));
    app = await startApp(yaml(`  - {name: t, type: webhook, url: "${t.url}"}`), { openLedger });
    asked.length = 0;
    expect((await app.get('/-/ready')).status).to.equal(200);
    expect(asked, 'no probe while the database answers').to.deep.equal([]);
    answering = false;
    seen.events!.reachable!(false);
    const down = await app.get('/-/ready');
    expect([down.status, down.text]).to.deep.equal([503, 'not ready: the ledger database does not answer']);
    expect(asked).to.have.length(1);
    answering = true;
    expect((await app.get('/-/ready')).status).to.equal(200);
    expect((await app.get('/metrics')).text).to.match(/^alertmux_ledger_database_up 1$/m);
  });
});
