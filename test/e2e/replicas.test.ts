import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { fixture } from '../helpers/fixtures.js';
import { acknowledged, postWebhook, spread, startLoad as newLoad, type Load, type LoadOptions, type Post } from '../helpers/load.js';
import { requirePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { recordingTarget, type RecordingTarget } from '../helpers/recorder.js';
import { eventually, refusedPort } from '../helpers/servers.js';
import { scrape, startService, statusOf, type Service } from './process.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** The group key of the notifications of group `name` (one alert, alertname=name). */
const keyOf = (name: string) => `{}:{alertname="${name}"}`;

/** A notification of its own group `name`: firing, or its resolve (the same alert, ended). */
function notification(name: string, status: 'firing' | 'resolved' = 'firing'): WebhookMessage {
  const msg = fixture(status === 'firing' ? 'am025-firing-1-firing-noauth.json' : 'am025-resolved-1-resolved-noauth.json');
  msg.groupKey = keyOf(name);
  msg.groupLabels = { alertname: name };
  msg.commonLabels = { ...msg.commonLabels, alertname: name };
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: name }, fingerprint: '' }));
  return msg;
}

/**
 * Fault tests of several replicas of the built service on one PostgreSQL database (issue 23, "Real parts and tests
 * that can fail"): a replica killed with -9, an HA pair posting to two replicas, a trigger and its resolve through
 * different replicas, and the database stopped under load. Counts are printed for the CI log.
 */
describe('replicas on one PostgreSQL database (child processes of the built service)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-replicas-'));
  // Answers that never come fail the test in seconds rather than undici's default of 5 minutes.
  const client = new Agent({ connections: 64, keepAliveTimeout: 1000, headersTimeout: 20_000, bodyTimeout: 20_000 });
  let cluster: PostgresCluster | undefined;
  const services: Service[] = [];
  const targets: RecordingTarget[] = [];
  const loads: Load[] = [];

  before(async function () {
    this.timeout(90_000);
    const binaries = requirePostgres(this);
    // Durable (synchronous commits): a notification acknowledged before the database is stopped must survive it.
    cluster = await startPostgres(binaries, { durable: true });
    await requirePostgresDriver(this, cluster);
  });

  afterEach(async () => {
    await Promise.all(loads.splice(0).map((l) => l.stop()));
    await Promise.all(services.splice(0).map(stopService));
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  after(async () => {
    await client.destroy();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Skip (fail under CI) when the built service has no PostgreSQL ledger: it refuses to start on driver postgres. */
  async function requirePostgresDriver(context: Mocha.Context, pg: PostgresCluster): Promise<void> {
    const config = writeConfig('probe', await pg.freshDatabase(), []);
    try {
      await stopService(await startService(config, await refusedPort(), { ALERTMUX_REPLICA: 'probe' }));
    } catch (err) {
      if (!/not available in this build/.test(String(err))) throw err;
      const what = 'the built service has no PostgreSQL ledger (storage.driver postgres is not available in this build)';
      if (process.env['CI']) throw new Error(`CI is set but ${what}`);
      console.log(`      (skipped: ${what})`);
      context.skip();
    }
  }

  /**
   * A config on database `url`: a 2 s lease (a dead replica's deliveries are taken over 2 s after its last renewal),
   * quick retries and breaker, and a generous attempt timeout so that a loaded machine does not make a healthy
   * target's answer late (a timed-out attempt that reached the target would be a duplicate not caused by a kill).
   */
  function writeConfig(name: string, url: string, to: Array<{ name: string; target: RecordingTarget }>): string {
    const file = join(dir, `${name}.yml`);
    writeFileSync(
      file,
      `storage: {driver: postgres, url: "${url}", lease: 2s, pool_size: 4}
dispatch: {response_deadline: 300ms, timeout: 5s}
retry: {initial_backoff: 100ms, max_backoff: 400ms, max_attempts: 1000}
breaker: {cooldown: 200ms, max_cooldown: 400ms}
targets:
${to.map((t) => `  - {name: ${t.name}, type: webhook, url: "${t.target.url}/${t.name}"}`).join('\n') || '  []'}
`,
    );
    return file;
  }

  async function replica(config: string, name: string): Promise<Service> {
    const service = await startService(config, await refusedPort(), { ALERTMUX_REPLICA: name });
    services.push(service);
    return service;
  }

  /** A load generator stopped after the test whatever happens. */
  function startLoad(options: LoadOptions): Load {
    const load = newLoad(options);
    loads.push(load);
    return load;
  }

  async function target(reply?: Parameters<typeof recordingTarget>[0]): Promise<RecordingTarget> {
    const t = await recordingTarget(reply);
    targets.push(t);
    return t;
  }

  /** No delivery pending in the shared ledger (as `base` sees it) and nothing unanswered at the targets: all is settled. */
  async function settled(base: string, at: RecordingTarget[]): Promise<boolean> {
    if (at.some((t) => t.open() > 0)) return false;
    const res = await fetch(`${base}/api/v1/deliveries?state=pending&limit=1`);
    if (!res.ok) return false;
    const body = (await res.json()) as { deliveries: unknown[] };
    return body.deliveries.length === 0;
  }

  /** The replicas named in the attempt history of notification `id` for `targetName`, oldest first. */
  async function attemptReplicas(base: string, id: string, targetName: string): Promise<string[]> {
    const res = await fetch(`${base}/api/v1/notifications/${id}`);
    if (!res.ok) return [`(${res.status})`];
    const body = (await res.json()) as { targets?: Array<{ target: string; attemptHistory?: Array<{ replica?: string }> }> };
    const entry = body.targets?.find((t) => t.target === targetName);
    return (entry?.attemptHistory ?? []).map((a) => a.replica ?? '?');
  }

  it('kill -9 of one of two replicas under load: the survivor takes over its work; duplicates only from attempts in flight at the kill', async function () {
    const pg = cluster as PostgresCluster;
    const url = await pg.freshDatabase();
    const database = new URL(url).pathname.slice(1);
    const healthy = await target();
    // The flaky target answers 500 for the first 2.5 s of the load, then 200: a dies with retries owed to it.
    let failUntil = Number.POSITIVE_INFINITY;
    const flaky = await target(() => ({ code: Date.now() < failUntil ? 500 : 200 }));
    const config = writeConfig('kill9', url, [
      { name: 'healthy', target: healthy },
      { name: 'flaky', target: flaky },
    ]);
    const a = await replica(config, 'a');
    const b = await replica(config, 'b');

    // About 100 notifications/s for 6 s, each its own group, even ones to a and odd ones to b until a dies;
    // a post that a never answers goes to b again, as Alertmanager retries behind a Service.
    const total = 600;
    let aAlive = true;
    failUntil = Date.now() + 2500;
    const load = startLoad({
      client,
      rate: 100,
      message: (i) => notification(`Kill${i}`),
      route: (i) => (i >= total ? undefined : aAlive && i % 2 === 0 ? a.base : b.base),
      failover: (_i, base) => (base === a.base ? b.base : undefined),
    });

    // A third of the way (2 s in: the flaky target still fails, a has first attempts in flight and retries owed),
    // once a has acknowledged some (a fresh replica's first answers can take a second on a loaded machine), kill -9 a.
    const ackedByA = () => [...load.posts.values()].filter((p) => p.some((x) => x.base === a.base && acknowledged(x.status))).length;
    await eventually(() => load.posts.size >= total / 3 && ackedByA() >= 50, 'a third of the load started and 50 acknowledged by a', 30_000);
    const openAtKill = healthy.open() + flaky.open();
    const startedAtKill = load.posts.size;
    a.child.kill('SIGKILL');
    aAlive = false;
    await a.exited;
    // What a had leased at its death: nothing renews these leases any more, and until they expire (2 s) no
    // other replica may take them, so this count is read before any takeover.
    const leasedToA = count(pg, database, "SELECT count(*) FROM deliveries WHERE lease_owner = 'a' AND state = 'pending'");
    // Retries owed by a: deliveries of the notifications a acknowledged that wait, unleased, for a retry (the flaky
    // target's, failed or held by a's open breaker); b must claim them when they are due.
    const idsByA = [...load.posts.values()].flatMap((p) => p.filter((x) => x.base === a.base && x.result).map((x) => `'${x.result?.id}'`));
    const owedByA = idsByA.length
      ? count(pg, database, `SELECT count(*) FROM deliveries WHERE state = 'pending' AND lease_owner IS NULL AND notification_id IN (${idsByA.join(',')})`)
      : 0;
    // Takeovers so far are of leases that expired before the kill (a renewal delayed on a loaded machine): a's
    // leases at its death run at least two thirds of the lease (1.3 s) past it, longer than these reads take.
    const takeoversBefore = (await scrape(b.base, 'alertmux_ledger_lease_takeovers_total')) ?? 0;

    await eventually(() => load.posts.size >= total, 'the whole load started', 30_000);
    await load.stop();
    const acked = load.acknowledged();
    const everywhere = () => {
      const [h, f] = [healthy.delivered(), flaky.delivered()];
      return acked.every((i) => h.has(keyOf(`Kill${i}`)) && f.has(keyOf(`Kill${i}`)));
    };
    await eventually(everywhere, 'every acknowledged notification answered 2xx by both targets', 40_000);
    await eventually(() => settled(b.base, [healthy, flaky]), 'nothing pending', 20_000);

    const takeovers = (await scrape(b.base, 'alertmux_ledger_lease_takeovers_total')) ?? Number.NaN;
    const duplicates = healthy.duplicates();
    const cutOff = [...load.posts.values()].filter((p) => p.some((x) => x.status === 0)).length;
    const byA = ackedByA();
    const flakyFailures = flaky.requests.filter((r) => r.code === 500).length;
    const duplicated = [...healthy.counts()].filter(([, n]) => n > 1).map(([key]) => key);
    const sample = duplicated[0] === undefined ? undefined : idOf(load.posts, duplicated[0]);
    const answered = (base: string) => [...load.posts.values()].flatMap((p) => p.filter((x) => x.base === base && acknowledged(x.status)).map((x) => x.ms));
    console.log(
      `      kill -9: answer times (2xx): a ${spread(answered(a.base))}; b ${spread(answered(b.base))}\n` +
      `      kill -9: ${total} notifications (a killed after ${startedAtKill} were posted), ${acked.length} acknowledged (${byA} by a before its death), ${cutOff} cut off by the kill and posted to b again; ` +
        `delivered: healthy ${healthy.delivered().size}, flaky ${flaky.delivered().size} (${flakyFailures} answered 500); ` +
        `duplicates at the healthy target ${duplicates}; leased to a at the kill ${leasedToA ?? 'n/a'}, retries owed by a ${owedByA ?? 'n/a'}; requests open at the targets at the kill ${openAtKill}; ` +
        `takeovers by b ${takeovers} (${takeoversBefore} at the first scrape after the kill)` +
        (sample ? `; attempts of a duplicated one (${duplicated[0]}): ${(await attemptReplicas(b.base, sample, 'healthy')).join(' → ')}` : ''),
    );

    expect(acked.length, 'acknowledged notifications').to.be.greaterThan(total / 2);
    expect(flakyFailures, 'the flaky target failed some attempts').to.be.greaterThan(0);
    // Bound: a notification reaches a healthy target twice only if a sent it and died before its outcome was
    // committed, leaving the delivery leased to a; b then takes it over when the lease expires (each such
    // delivery is one takeover, counted by b's alertmux_ledger_lease_takeovers_total). So duplicates ≤ takeovers,
    // and the takeovers since the kill ≤ what a had leased at its death (read from the database right after it).
    expect(duplicates, 'duplicates at the healthy target').to.be.at.most(takeovers);
    if (leasedToA !== undefined) expect(takeovers - takeoversBefore, 'takeovers after the kill').to.be.at.most(leasedToA);
  });

  it('the same notification posted to both replicas at once (an HA pair) reaches each target once', async () => {
    const pg = cluster as PostgresCluster;
    const one = await target();
    const two = await target();
    const config = writeConfig('pair', await pg.freshDatabase(), [
      { name: 'one', target: one },
      { name: 'two', target: two },
    ]);
    const a = await replica(config, 'a');
    const b = await replica(config, 'b');
    const rounds = 20;
    const answers: Post[][] = [];
    for (let r = 0; r < rounds; r++) {
      const msg = notification(`Pair${r}`);
      answers.push(await Promise.all([postWebhook(client, a.base, msg), postWebhook(client, b.base, msg)]));
    }
    const keys = Array.from({ length: rounds }, (_, r) => keyOf(`Pair${r}`));
    await eventually(() => keys.every((k) => one.delivered().has(k) && two.delivered().has(k)), 'every round at both targets', 20_000);
    await eventually(() => settled(a.base, [one, two]), 'nothing pending', 20_000);

    const duplicateSkips = answers.flat().reduce((n, p) => n + (p.result?.targets.filter((t) => t.skipReason === 'duplicate').length ?? 0), 0);
    console.log(
      `      HA pair: ${rounds} rounds posted to a and b at once; answers ${answers.map((p) => p.map((x) => x.status).join('/')).join(' ')}; ` +
        `target entries answered skipped as duplicate ${duplicateSkips} (of ${rounds * 2 * 2}); received: one ${one.requests.length}, two ${two.requests.length}`,
    );
    for (const [a2, b2] of answers) {
      expect(acknowledged(a2?.status ?? 0) && acknowledged(b2?.status ?? 0), 'both replicas answer 2xx').to.equal(true);
    }
    for (const t of [one, two]) {
      const counts = t.counts();
      for (const k of keys) expect(counts.get(k), `${k} received`).to.equal(1);
    }
  });

  it('a trigger and its resolve posted to different replicas reach the target in order', async () => {
    const pg = cluster as PostgresCluster;
    // The target holds each firing notification 1 s: its resolve arrives at the other replica meanwhile.
    const slow = await target(({ status }) => (status === 'firing' ? { code: 200, delayMs: 1000 } : { code: 200 }));
    const config = writeConfig('order', await pg.freshDatabase(), [{ name: 'slow', target: slow }]);
    const a = await replica(config, 'a');
    const b = await replica(config, 'b');
    const groups = Array.from({ length: 6 }, (_, g) => `Order${g}`);
    const posted = await Promise.all(
      groups.map(async (name, g) => {
        // Alternate the direction: firing to a and resolve to b, then the other way round.
        const [first, second] = g % 2 === 0 ? [a, b] : [b, a];
        const firing = await postWebhook(client, first.base, notification(name, 'firing'));
        // Answered at the response deadline (300 ms) while the target holds the attempt: post the resolve now.
        const resolved = await postWebhook(client, second.base, notification(name, 'resolved'));
        return { name, firing, resolved };
      }),
    );
    await eventually(() => groups.every((name) => slow.counts('resolved').has(keyOf(name))), 'every resolve at the target', 20_000);
    await eventually(() => settled(a.base, [slow]), 'nothing pending', 20_000);

    const lines: string[] = [];
    for (const { name, firing, resolved } of posted) {
      const who = async (p: Post) => (p.result ? (await attemptReplicas(a.base, p.result.id, 'slow')).join(',') : '-');
      lines.push(`${name} ${firing.status}/${resolved.status} attempts by ${await who(firing)} then ${await who(resolved)}`);
    }
    console.log(`      trigger and resolve on different replicas: ${lines.join('; ')}`);
    for (const { name, firing, resolved } of posted) {
      expect(acknowledged(firing.status) && acknowledged(resolved.status), `${name} acknowledged`).to.equal(true);
      const seen = slow.requests.filter((r) => r.groupKey === keyOf(name));
      expect(
        seen.map((r) => r.status),
        `${name} at the target`,
      ).to.deep.equal(['firing', 'resolved']);
      // Not only sent after: the resolve arrived after the target had answered the firing one.
      expect(seen[1]?.arrived, `${name}: resolve arrived after the firing one was answered`).to.be.greaterThan(seen[0]?.answered ?? Number.POSITIVE_INFINITY);
    }
  });

  it('PostgreSQL stopped under load: 503s while it is down, recovery without a restart, nothing acknowledged is lost', async () => {
    const pg = cluster as PostgresCluster;
    const sink = await target();
    const config = writeConfig('outage', await pg.freshDatabase(), [{ name: 'sink', target: sink }]);
    const solo = await replica(config, 'solo');
    type Phase = 'before' | 'down' | 'after';
    let phase = 'before' as Phase;
    const phaseOf = new Map<number, Phase>();
    const load = startLoad({
      client,
      rate: 50,
      message: (i) => notification(`Outage${i}`),
      route: (i) => (phaseOf.set(i, phase), solo.base),
    });
    const ackedIn = (p: Phase) => load.acknowledged().filter((i) => phaseOf.get(i) === p).length;
    const answeredIn = (p: Phase, status: number) =>
      [...load.posts].filter(([i, posts]) => phaseOf.get(i) === p && posts.some((x) => x.status === status)).length;

    await eventually(() => ackedIn('before') >= 50, '50 notifications acknowledged', 20_000);
    await pg.crash();
    phase = 'down';
    // While it is down: webhooks get 503, readiness is 503, the database gauge is 0.
    await eventually(() => answeredIn('down', 503) >= 20, '503 answers while the database is down', 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; answers by phase: ${JSON.stringify(answers(load.posts, phaseOf))}\n${solo.output().slice(-3000)}`);
    });
    await eventually(async () => (await statusOf(solo.base, '/-/ready')) === 503, '/-/ready 503', 20_000);
    await eventually(async () => (await scrape(solo.base, 'alertmux_ledger_database_up')) === 0, 'alertmux_ledger_database_up 0', 20_000);
    const downAnswers = new Map<number, number>();
    for (const posts of [...load.posts].filter(([i]) => phaseOf.get(i) === 'down').map(([, p]) => p)) {
      for (const p of posts) downAnswers.set(p.status, (downAnswers.get(p.status) ?? 0) + 1);
    }

    await pg.resume();
    phase = 'after';
    await eventually(async () => (await statusOf(solo.base, '/-/ready')) === 200, '/-/ready 200 again', 30_000);
    await eventually(() => ackedIn('after') >= 50, '50 notifications acknowledged after the restart', 30_000);
    await load.stop();
    expect(solo.child.exitCode, 'alertmux was not restarted').to.equal(null);

    const acked = load.acknowledged();
    await eventually(() => acked.every((i) => sink.delivered().has(keyOf(`Outage${i}`))), 'every acknowledged notification at the target', 40_000);
    await eventually(() => settled(solo.base, [sink]), 'nothing pending', 20_000);
    const up = await scrape(solo.base, 'alertmux_ledger_database_up');
    const refused = [...load.posts].filter(([, p]) => !p.some((x) => acknowledged(x.status))).map(([i]) => i);
    const refusedDelivered = refused.filter((i) => sink.delivered().has(keyOf(`Outage${i}`))).length;
    // Posted while it was down (or starting again) and acknowledged: held until the database answered (a connection
    // attempt waits up to its timeout), then committed; those are owed like any other.
    console.log(
      `      PostgreSQL stopped: acknowledged ${ackedIn('before')} posted before the stop, ${ackedIn('down')} posted while down (answered once it was back), ` +
        `${ackedIn('after')} after the restart; answered while it was down: ${[...downAnswers].map(([s, n]) => `${s}×${n}`).join(' ')}; ` +
        `every answer by phase ${JSON.stringify(answers(load.posts, phaseOf))}; ${refused.length} never acknowledged ` +
        `(${refusedDelivered} of them delivered anyway); delivered ${sink.delivered().size}; database up ${up}`,
    );
    expect(up, 'alertmux_ledger_database_up once it is back').to.equal(1);
    expect(downAnswers.get(503) ?? 0, '503 answers while down').to.be.greaterThan(0);
  });
});

/** How many posts got each status, by phase (a diagnosis when a wait times out). */
function answers(posts: Map<number, Post[]>, phaseOf: Map<number, string>): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  for (const [i, list] of posts) {
    const phase = (out[phaseOf.get(i) ?? '?'] ??= {});
    if (list.length === 0) phase[-1] = (phase[-1] ?? 0) + 1;
    for (const p of list) phase[p.status] = (phase[p.status] ?? 0) + 1;
  }
  return out;
}

/** Stop a child process for good (SIGKILL: its leases expire with it; each test has its own database). */
async function stopService(service: Service): Promise<void> {
  if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  await service.exited;
}

/** The notification id from the 2xx answer to the notification with group key `key`. */
function idOf(posts: Map<number, Post[]>, key: string): string | undefined {
  const i = Number(/Kill(\d+)/.exec(key)?.[1]);
  return posts.get(i)?.find((p) => p.result)?.result?.id;
}

/**
 * A count read from database `database` with psql, straight from the ledger's tables (what no API shows: leases);
 * undefined if the schema changed under the query (then the count is only not printed or compared).
 */
function count(pg: PostgresCluster, database: string, sql: string): number | undefined {
  try {
    return Number(pg.psql(sql, database));
  } catch (err) {
    console.log(`      (could not read the ledger's tables: ${String(err)})`);
    return undefined;
  }
}

