import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteLedger } from '../../src/delivery/sqlite-ledger.js';
import { recordingLogger } from '../helpers/logs.js';
import { eventually, loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { group } from '../helpers/console.js';

const ADMIN = { authorization: 'Bearer adm-7f3e' };

describe('pausing and resuming a target', () => {
  let dir: string;
  let hook: LoopbackTarget;
  let app: TestApp;
  const configText = (extra = '') => `admin: {bearer_token: adm-7f3e}
storage: {path: '${join(dir, 'ledger.db')}'}
dispatch: {max_concurrency: 1}
retry: {initial_backoff: 1h}
${extra}
targets:
  - {name: logs, type: log}
  - {name: hook, type: webhook, url: '${hook.url}/hook'}
`;
  const alertnames = () => hook.received.map((r) => (r.body as { alerts: Array<{ labels: Record<string, string> }> }).alerts[0]?.labels['alertname']);
  const send = async (name: string) => {
    const res = await app.post('/webhook', group(name, [{ alertname: name }]));
    expect(res.status, res.text).to.be.oneOf([200, 202]);
    return res;
  };
  /** Every attempt the app would make now has been made. */
  const settle = async () => {
    await app.mux.dispatcher.idle();
    await app.mux.worker.tick();
    await app.mux.dispatcher.idle();
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-pause-'));
    hook = await loopbackTarget();
    app = await startApp(configText());
  });

  afterEach(async () => {
    await app.close();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues new notifications for a paused target, keeps it paused across a reload and a restart, and delivers them in order on resume', async () => {
    await send('Before');
    expect(alertnames()).to.deep.equal(['Before']);

    const paused = await app.post('/api/v1/targets/hook/pause', undefined, ADMIN);
    expect(paused.status).to.equal(200);
    expect(paused.body).to.include({ name: 'hook', paused: true });
    expect((await app.get('/metrics')).text).to.match(/alertmux_target_paused\{target="hook"\} 1/);

    const answer = await send('First');
    expect(answer.status).to.equal(202);
    expect(answer.body.outcome).to.equal('partial');
    const entry = answer.body.targets.find((t: { target: string }) => t.target === 'hook');
    expect(entry).to.deep.include({ state: 'skipped', skipReason: 'paused', queued: true });
    expect(entry).not.to.have.property('nextAttemptAt');
    await send('Second');
    await settle();
    expect(alertnames()).to.deep.equal(['Before']);
    const queued = await app.get('/api/v1/deliveries?target=hook&state=pending', ADMIN);
    expect(queued.body.deliveries.map((d: { skipReason: string; nextAttemptAt?: string }) => [d.skipReason, d.nextAttemptAt])).to.deep.equal([
      ['paused', undefined],
      ['paused', undefined],
    ]);

    expect((await app.post('/-/reload', undefined, ADMIN)).status).to.equal(200);
    expect((await app.get('/api/v1/targets/hook', ADMIN)).body.paused).to.equal(true);
    await send('Third');

    // A restart on the same ledger: still paused, and the queue is still held.
    await app.close();
    app = await startApp(configText());
    const target = await app.get('/api/v1/targets/hook', ADMIN);
    expect(target.body).to.include({ paused: true });
    expect(target.body.healthHistory).to.deep.equal([]);
    await send('Fourth');
    await settle();
    expect(alertnames()).to.deep.equal(['Before']);

    const resumed = await app.post('/api/v1/targets/hook/resume', undefined, ADMIN);
    expect(resumed.status).to.equal(200);
    expect(resumed.body).to.include({ paused: false });
    expect(resumed.body.healthHistory[0]).to.deep.include({ kind: 'pause', from: 'paused', to: 'active' });
    await eventually(() => hook.received.length === 5, 'the queued notifications delivered');
    expect(alertnames()).to.deep.equal(['Before', 'First', 'Second', 'Third', 'Fourth']);
    expect((await app.get('/metrics')).text).to.match(/alertmux_target_paused\{target="hook"\} 0/);
    await send('After');
    expect(alertnames().at(-1)).to.equal('After');
  });

  it('holds the deliveries already waiting for a retry, and does not attempt them when they fall due', async () => {
    hook.reply = () => ({ status: 503 });
    await send('Failing');
    expect(hook.received).to.have.length(1);
    await app.post('/api/v1/targets/hook/pause', undefined, ADMIN);
    const [held] = (await app.get('/api/v1/deliveries?target=hook&state=pending', ADMIN)).body.deliveries;
    expect(held).to.include({ skipReason: 'paused', attempts: 1 });
    // Even made due by a replay, it is not attempted while paused.
    expect((await app.post('/api/v1/deliveries/replay', { target: 'hook', state: 'pending' }, ADMIN)).status).to.equal(202);
    await settle();
    expect(hook.received).to.have.length(1);
    hook.reply = () => ({ status: 200 });
    await app.post('/api/v1/targets/hook/resume', undefined, ADMIN);
    await eventually(() => hook.received.length === 2, 'the held delivery sent');
  });

  it('logs who paused and resumed, and says when nothing changed', async () => {
    const logs = recordingLogger();
    await app.close();
    app = await startApp(configText(), { logger: logs.logger });
    await app.post('/api/v1/targets/hook/pause', undefined, ADMIN);
    await app.post('/api/v1/targets/hook/pause', undefined, ADMIN);
    await app.post('/api/v1/targets/hook/resume', undefined, ADMIN);
    const lines = logs.lines.filter((l) => l.meta['target'] === 'hook' && /pause|resume/.test(l.message));
    expect(lines.map((l) => [l.level, l.message, l.meta['remote']])).to.deep.equal([
      ['info', 'target paused: its deliveries queue until it is resumed', '127.0.0.1'],
      ['info', 'target pause requested; it was already paused', '127.0.0.1'],
      ['info', 'target resumed: releasing its queued deliveries', '127.0.0.1'],
    ]);
  });

  it('answers 404 for an unknown target and 401 without the admin token', async () => {
    expect((await app.post('/api/v1/targets/nope/pause', undefined, ADMIN)).status).to.equal(404);
    expect((await app.post('/api/v1/targets/hook/pause', undefined)).status).to.equal(401);
    expect((await app.post('/api/v1/targets/hook/resume?now=1', undefined, ADMIN)).status).to.equal(400);
    expect((await app.get('/api/v1/targets/hook', ADMIN)).body.paused).to.equal(false);
  });

  it('refuses a pause the ledger cannot record, with the reason', async () => {
    await app.close();
    app = await startApp(configText(), {
      openLedger: (config, replica) => ({
        ...openSqliteLedger(config.storage.path, { replica }),
        stateSet: () => Promise.reject(new Error('SQLITE_FULL: database or disk is full')),
      }),
    });
    const res = await app.post('/api/v1/targets/hook/pause', undefined, ADMIN);
    expect(res.status).to.equal(503);
    expect(res.body.error).to.equal('cannot pause hook: the ledger cannot record it (Error: SQLITE_FULL: database or disk is full)');
    expect((await app.get('/api/v1/targets/hook', ADMIN)).body.paused).to.equal(false);
    await send('Still');
    expect(alertnames()).to.deep.equal(['Still']);
  });

  it('keeps the health and breaker transitions of a target, newest first, with why', async () => {
    await app.close();
    hook.reply = () => ({ status: 503, body: 'down for maintenance' });
    app = await startApp(configText('health: {unhealthy_after: 1}\nbreaker: {consecutive_failures: 1, cooldown: 1h}'));
    await send('Down');
    const history = (await app.get('/api/v1/targets/hook', ADMIN)).body.healthHistory as Array<{ kind: string; from: string; to: string; reason?: string }>;
    expect(history.map((h) => [h.kind, h.from, h.to])).to.have.deep.members([
      ['breaker', 'closed', 'open'],
      ['health', 'unknown', 'unhealthy'],
    ]);
    expect(history.find((h) => h.kind === 'health')?.reason).to.equal('unexpected status code 503: down for maintenance');
    expect(history.find((h) => h.kind === 'breaker')?.reason).to.equal('1 failed delivery in a row');
    // A reload that changes nothing of the target keeps its history.
    expect((await app.post('/-/reload', undefined, ADMIN)).status).to.equal(200);
    expect((await app.get('/api/v1/targets/hook', ADMIN)).body.healthHistory).to.have.length(2);
  });

  it('shows where each target came from', async () => {
    const targets = (await app.get('/api/v1/targets', ADMIN)).body.targets as Array<{ name: string; source: unknown; paused: boolean }>;
    expect(targets.map((t) => [t.name, t.source, t.paused])).to.deep.equal([
      ['logs', { kind: 'config' }, false],
      ['hook', { kind: 'config' }, false],
    ]);
  });
});
