import { expect } from 'chai';
import { request } from 'undici';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { recordingLogger, type LogLine } from '../helpers/logs.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const FIRING = 'am025-firing-1-firing-noauth.json';

/** A distinct notification (its own group, alertname `Alert<i>`). */
function notification(i: number): WebhookMessage {
  const msg = fixture(FIRING);
  msg.groupKey = `{}:{alertname="Alert${i}"}`;
  msg.groupLabels = { alertname: `Alert${i}` };
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: `Alert${i}` }, fingerprint: '' }));
  msg.commonLabels = { ...msg.commonLabels, alertname: `Alert${i}` };
  return msg;
}

function config(targets: string, extra = '', maxAttempts = 2): string {
  return `storage: {path: ":memory:"}
retry: {initial_backoff: 20ms, max_backoff: 40ms, max_attempts: ${maxAttempts}}
dispatch: {response_deadline: 2s, timeout: 1s}
${extra}
targets:
${targets}`;
}

/** The lines with this message. */
const linesOf = (lines: LogLine[], message: string) => lines.filter((l) => l.message === message);

describe('attempt history, replay and trials (API, real loopback targets)', () => {
  let app: TestApp | undefined;
  const servers: LoopbackTarget[] = [];
  const target = async (reply?: LoopbackTarget['reply']) => {
    const t = await loopbackTarget(reply);
    servers.push(t);
    return t;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const del = async (path: string) => {
    const res = await request(`${app!.base}${path}`, { method: 'DELETE' });
    await res.body.dump();
    return res.statusCode;
  };
  const delivery = async (id: string) => (await app!.get(`/api/v1/deliveries/${id}`)).body;

  it('shows every attempt (time, replica, duration, status, reason, error, next attempt) by delivery and by notification', async () => {
    const statuses = [503, 502, 200];
    const t = await target(() => ({ status: statuses.shift() ?? 200, body: 'upstream down' }));
    const { logger, lines } = recordingLogger();
    app = await startApp(config(`  - {name: flaky, type: webhook, url: "${t.url}"}`, '', 5), {
      logger,
      replica: 'alertmux-0',
    });
    const res = await app.post('/webhook', notification(1));
    const id = res.body.targets[0].deliveryId as string;
    await eventually(async () => (await delivery(id)).state === 'delivered', 'delivered after two retries');
    const d = await delivery(id);
    expect(d.attempts).to.equal(3);
    expect(d.attemptHistory.map((a: { statusCode: number }) => a.statusCode)).to.deep.equal([503, 502, 200]);
    const [first, , last] = d.attemptHistory;
    expect(first).to.include({ attempt: 1, replica: 'alertmux-0', reason: 'serverError', outcome: 'pending', trial: false, replay: false });
    expect(first.error).to.match(/^unexpected status code 503/);
    expect(Number.isNaN(Date.parse(first.at))).to.equal(false);
    expect(Date.parse(first.nextAttemptAt)).to.be.at.least(Date.parse(first.at));
    expect(first.durationMs).to.be.a('number');
    expect(last).to.include({ attempt: 3, statusCode: 200, outcome: 'delivered' });
    expect(last).to.not.have.property('nextAttemptAt');

    const n = (await app.get(`/api/v1/notifications/${res.body.id}`)).body;
    expect(n.targets[0].attemptHistory).to.deep.equal(d.attemptHistory);
    const attempts = (await app.get(`/api/v1/deliveries/${id}/attempts`)).body;
    expect(attempts).to.deep.equal({ deliveryId: id, target: 'flaky', attempts: 3, attemptHistory: d.attemptHistory });
    expect((await app.get('/api/v1/deliveries/d_nope/attempts')).status).to.equal(404);

    const recovered = linesOf(lines, 'delivered after retries');
    expect(recovered).to.have.length(1);
    expect(recovered[0]).to.deep.include({ level: 'info' });
    expect(recovered[0]?.meta).to.include({ target: 'flaky', alertname: 'Alert1', notificationId: res.body.id, deliveryId: id, attempts: 3 });
  });

  it('gives a replayed dead letter a fresh budget while keeping its attempts, history and createdAt; logs the dead letter and the replay', async () => {
    let status = 503;
    const t = await target(() => ({ status }));
    const { logger, lines } = recordingLogger();
    app = await startApp(config(`  - {name: down, type: webhook, url: "${t.url}"}`), { logger });
    const res = await app.post('/webhook', notification(2));
    const id = res.body.targets[0].deliveryId as string;
    await eventually(async () => (await delivery(id)).state === 'dead', 'dead after max_attempts (2)');
    const before = await delivery(id);
    const dead = linesOf(lines, 'delivery dead-lettered');
    expect(dead).to.have.length(1);
    expect(dead[0]?.level).to.equal('warn');
    expect(dead[0]?.meta).to.include({ target: 'down', alertname: 'Alert2', notificationId: res.body.id, deliveryId: id, reason: 'serverError', attempts: 2 });

    // Still down: the replay gets two more attempts (max_attempts counts from the replay), then it is dead again.
    const replay = await app.post(`/api/v1/deliveries/${id}/replay`, undefined);
    expect(replay.status).to.equal(202);
    expect(replay.body).to.include({ replayed: 1 });
    expect(replay.body).to.not.have.property('trials'); // the breaker is closed: the worker sends it
    const replayed = linesOf(lines, 'deliveries replayed');
    expect(replayed).to.have.length(1);
    expect(replayed[0]?.meta).to.include({ by: '127.0.0.1', target: 'down', alertname: 'Alert2', notificationId: res.body.id, deliveryId: id, replayed: 1 });
    await eventually(async () => (await delivery(id)).attempts === 4 && (await delivery(id)).state === 'dead', 'dead again after two more attempts');
    let after = await delivery(id);
    expect(after.createdAt).to.equal(before.createdAt);
    expect(after.attemptsSinceReplay).to.equal(2);
    expect(after.attemptHistory.map((a: { attempt: number; replay: boolean }) => [a.attempt, a.replay])).to.deep.equal([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(linesOf(lines, 'delivery dead-lettered')).to.have.length(2);

    status = 200;
    expect((await app.post('/api/v1/deliveries/replay', { target: 'down' })).body).to.include({ replayed: 1 });
    await eventually(async () => (await delivery(id)).state === 'delivered', 'delivered after the second replay');
    after = await delivery(id);
    expect(after).to.include({ attempts: 5, createdAt: before.createdAt });
    expect(after.attemptHistory).to.have.length(5);
    expect(linesOf(lines, 'deliveries replayed')[1]?.meta).to.include({ by: '127.0.0.1', replayed: 1 });
    expect(linesOf(lines, 'delivered after retries')[0]?.meta).to.include({ attempts: 5, alertname: 'Alert2' });
  });

  it('sends a replay through an open breaker as the half-open trial: success closes it and drains the held backlog', async () => {
    let status = 503;
    const t = await target(() => ({ status }));
    const { logger, lines } = recordingLogger();
    app = await startApp(
      config(`  - {name: pd, type: webhook, url: "${t.url}"}`, 'breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 1h}\nhealth: {unhealthy_after: 100}', 1),
      { logger },
    );
    const first = await app.post('/webhook', notification(3));
    const deadId = first.body.targets[0].deliveryId as string;
    await eventually(async () => (await delivery(deadId)).state === 'dead', 'the first dead letter');
    // The breaker is open for an hour: the next notification is held.
    const held = await app.post('/webhook', notification(4));
    expect(held.body.targets[0]).to.include({ state: 'skipped', skipReason: 'circuit_open' });
    expect(t.received).to.have.length(1);

    status = 200;
    const replay = await app.post(`/api/v1/deliveries/${deadId}/replay`, undefined);
    expect(replay.status).to.equal(202);
    expect(replay.body.trials).to.have.length(1);
    expect(replay.body.trials[0]).to.include({ target: 'pd', deliveryId: deadId, trial: true, ok: true, state: 'delivered', breaker: 'closed', statusCode: 200 });
    await eventually(() => t.received.length === 3, 'the held notification, woken by the breaker closing');
    const history = (await delivery(deadId)).attemptHistory;
    expect(history.at(-1)).to.include({ trial: true, replay: true, outcome: 'delivered' });

    for (const [message, level] of [
      ['circuit breaker opened: the target looks down; its deliveries wait for a trial', 'warn'],
      ['circuit breaker half-open: one trial delivery goes to the target', 'info'],
      ['circuit breaker closed: the trial succeeded; waking its deliveries', 'info'],
    ] as const) {
      const found = linesOf(lines, message);
      expect(found, message).to.have.length(1);
      expect(found[0]).to.deep.include({ level });
      expect(found[0]?.meta).to.include({ target: 'pd' });
    }
  });

  it('says so when the trial of a replay fails: the breaker stays open', async () => {
    const t = await target(() => ({ status: 503 }));
    app = await startApp(
      config(`  - {name: pd, type: webhook, url: "${t.url}"}`, 'breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 2h}', 1),
    );
    const first = await app.post('/webhook', notification(5));
    const id = first.body.targets[0].deliveryId as string;
    await eventually(async () => (await delivery(id)).state === 'dead', 'dead letter');
    const replay = await app.post('/api/v1/deliveries/replay', { ids: [id] });
    expect(replay.body.trials[0]).to.include({ trial: true, ok: false, state: 'dead', breaker: 'open', statusCode: 503, reason: 'serverError' });
    expect(Date.parse(replay.body.trials[0].nextTrialAt)).to.be.greaterThan(Date.now() + 60 * 60_000);
    expect((await app.get('/api/v1/targets/pd')).body.breaker.state).to.equal('open');
    expect(t.received).to.have.length(2);
  });

  it('refuses (409) to replay a delivery whose target was removed; a bulk replay reports it; the reload names added, changed and removed targets', async () => {
    const t = await target(() => ({ status: 400 }));
    const { logger, lines } = recordingLogger();
    const targets = (extra: string) =>
      config(`  - {name: gone, type: webhook, url: "${t.url}"}\n  - {name: kept, type: webhook, url: "${t.url}"}${extra}`);
    app = await startApp(targets(''), { logger });
    const res = await app.post('/webhook', notification(6));
    const id = (res.body.targets as Array<{ target: string; deliveryId: string }>).find((r) => r.target === 'gone')?.deliveryId ?? '';
    await eventually(async () => (await delivery(id)).state === 'dead', 'dead letter');

    app.setConfig(
      config(`  - {name: kept, type: webhook, url: "${t.url}", timeout: 2s}\n  - {name: new, type: webhook, url: "${t.url}"}`),
    );
    expect(await app.mux.reload()).to.deep.equal({ ok: true });
    const reloaded = linesOf(lines, 'config reloaded');
    expect(reloaded).to.have.length(1);
    expect(reloaded[0]?.meta).to.deep.include({ added: ['new'], changed: ['kept'], removed: ['gone'] });

    const single = await app.post(`/api/v1/deliveries/${id}/replay`, undefined);
    expect(single.status).to.equal(409);
    expect(single.body).to.include({ target: 'gone', deliveryId: id });
    expect(single.body.error).to.match(/no longer configured/);
    expect((await delivery(id)).state).to.equal('dead');

    const bulk = await app.post('/api/v1/deliveries/replay', { state: 'dead' });
    expect(bulk.status).to.equal(202);
    expect(bulk.body.ids).to.not.include(id);
    expect(bulk.body.notReplayed).to.deep.include({ count: 1, deliveries: [{ id, target: 'gone' }] });
    expect((await delivery(id)).state).to.equal('dead');
  });

  it('logs a delete with who asked, the target, alertname and notification', async () => {
    const t = await target(() => ({ status: 400 }));
    const { logger, lines } = recordingLogger();
    app = await startApp(config(`  - {name: strict, type: webhook, url: "${t.url}"}`), { logger });
    const res = await app.post('/webhook', notification(7));
    const id = res.body.targets[0].deliveryId as string;
    await eventually(async () => (await delivery(id)).state === 'dead', 'dead letter');
    expect(await del(`/api/v1/deliveries/${id}`)).to.equal(204);
    expect(await del(`/api/v1/deliveries/${id}`)).to.equal(404);
    const deleted = linesOf(lines, 'delivery deleted');
    expect(deleted).to.have.length(1);
    expect(deleted[0]?.meta).to.include({ by: '127.0.0.1', target: 'strict', alertname: 'Alert7', notificationId: res.body.id, deliveryId: id, state: 'dead' });
  });

  it('answers /check honestly without a probe, and /try attempts the oldest held delivery as the trial', async () => {
    let status = 503;
    const t = await target(() => ({ status }));
    app = await startApp(config(`  - {name: pd, type: webhook, url: "${t.url}"}`, 'breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 1h}', 10));
    const check = await app.post('/api/v1/targets/pd/check', undefined);
    expect(check.status).to.equal(200);
    expect(check.body).to.include({ probed: false });
    expect(check.body).to.not.have.property('ok');
    expect(check.body.detail).to.match(/^no health probe configured for this target/);
    expect(check.body.trial.route).to.equal('POST /api/v1/targets/pd/try');

    expect((await app.post('/api/v1/targets/pd/try', undefined)).body).to.include({ tried: false, detail: 'nothing queued for this target' });
    expect((await app.post('/api/v1/targets/nope/try', undefined)).status).to.equal(404);

    const a = await app.post('/webhook', notification(8));
    const b = await app.post('/webhook', notification(9));
    expect(b.body.targets[0]).to.include({ skipReason: 'circuit_open' });
    status = 200;
    const tried = await app.post('/api/v1/targets/pd/try', undefined);
    expect(tried.status).to.equal(200);
    expect(tried.body).to.include({ target: 'pd', tried: true });
    expect(tried.body.result).to.include({ deliveryId: a.body.targets[0].deliveryId, trial: true, ok: true, breaker: 'closed' });
    expect(tried.body.breaker.state).to.equal('closed');
    await eventually(async () => (await delivery(b.body.targets[0].deliveryId as string)).state === 'delivered', 'the rest of the backlog');
  });
});
