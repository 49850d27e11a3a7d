import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { main } from '../../src/cli.js';
import { controlCommand } from '../../src/commands/control.js';
import { targetsCommand } from '../../src/commands/targets.js';
import { deliveriesCommand, replayCommand } from '../../src/commands/deliveries.js';
import { notificationCommand, notificationsCommand, notificationText } from '../../src/commands/notifications.js';
import { byMode, config, group } from '../helpers/console.js';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { ClientIO } from '../../src/commands/client.js';

describe('alertmux notifications, notification, deliveries, replay, pause, resume', () => {
  let hook: LoopbackTarget;
  let app: TestApp;
  let out: string[];
  let err: string[];
  let dir: string;
  let failedId: string;
  const io = (env: Record<string, string> = { ALERTMUX_TOKEN: 'adm-7f3e' }): ClientIO => ({
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env: { ALERTMUX_URL: app.base, ...env },
    now: Date.now,
  });
  const text = () => out.join('\n');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-cli-'));
    hook = await loopbackTarget(byMode);
    app = await startApp(config(hook.url));
    await app.post('/webhook', group('a', [{ alertname: 'DiskFull', team: 'web' }]));
    const failed = await app.post('/webhook', group('b', [{ alertname: 'DbDown', team: 'db', mode: '400', route: 'hook-only' }]));
    failedId = failed.body.id as string;
    await app.mux.dispatcher.idle();
    out = [];
    err = [];
  });

  afterEach(async () => {
    await app.close();
    await hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists notifications as a table with per-target chips, filtered', async () => {
    expect(await notificationsCommand([], io())).to.equal(0);
    const lines = text().split('\n');
    expect(lines[0]).to.match(/^RECEIVED\s+ID\s+STATUS\s+ALERTNAME\s+ALERTS\s+OUTCOME\s+TARGETS$/);
    expect(lines[1]).to.match(/^\d+s ago\s+n_\S+\s+firing\s+DbDown\s+1\s+failed\s+hook:dead\(clientError\)$/);
    expect(lines[2]).to.match(/^\d+s ago\s+n_\S+\s+firing\s+DiskFull\s+1\s+delivered\s+logs:delivered$/);
    out = [];
    expect(await notificationsCommand(['--alertname', 'DiskFull', '--since', '1h', '--outcome', 'delivered', '--limit', '5'], io())).to.equal(0);
    expect(text().split('\n')).to.have.length(2);
    out = [];
    expect(await notificationsCommand(['--target', 'hook', '--json'], io())).to.equal(0);
    const json = JSON.parse(text()) as { notifications: Array<{ id: string }>; nextCursor: null };
    expect(json.notifications.map((n) => n.id)).to.deep.equal([failedId]);
    expect(json.nextCursor).to.equal(null);
  });

  it('says when more pages follow, and how to get the next', async () => {
    expect(await notificationsCommand(['--limit', '1'], io())).to.equal(0);
    expect(err.join('\n')).to.match(/^more: add --cursor \S+$/);
    const cursor = err.join('\n').split(' ').at(-1)!;
    out = [];
    expect(await notificationsCommand(['--limit', '1', '--cursor', cursor], io())).to.equal(0);
    expect(text()).to.contain('DiskFull');
  });

  it('shows one notification: its alerts and each target', async () => {
    expect(await notificationCommand([failedId], io())).to.equal(0);
    expect(text()).to.contain(`Notification ${failedId}`);
    expect(text()).to.match(/outcome\s+failed/);
    expect(text()).to.match(/firing\s+\S+\s+alertname="DbDown",team="db",mode="400",route="hook-only"/);
    expect(text()).to.match(/hook\s+webhook\s+failed\s+1\s+400\s+clientError\s+-\s+.*400/);
    out = [];
    expect(await notificationCommand([failedId, '--json'], io())).to.equal(0);
    expect(JSON.parse(text())).to.include({ id: failedId, outcome: 'failed' });
  });

  it('prints each target\'s attempt timeline when the API gives one', () => {
    const now = Date.parse('2026-11-22T10:05:00Z');
    const text = notificationText(
      {
        id: 'n_1',
        receivedAt: '2026-11-22T10:00:00.000Z',
        receiver: 'fanout',
        groupKey: '{}:{alertname="X"}',
        status: 'firing',
        outcome: 'accepted',
        targets: [
          {
            target: 'hook',
            type: 'webhook',
            state: 'failed',
            deliveryId: 'd_1',
            attempts: 2,
            statusCode: 503,
            reason: 'serverError',
            error: 'unexpected status code 503',
            nextAttemptAt: '2026-11-22T10:06:00.000Z',
            attemptHistory: [
              { attempt: 1, at: '2026-11-22T10:00:00.010Z', replica: 'pod-a', durationMs: 12.5, statusCode: 503, outcome: 'failed', reason: 'serverError', error: 'unexpected status code 503', nextAttemptAt: '2026-11-22T10:00:01.000Z' },
              { attempt: 2, at: '2026-11-22T10:00:01.020Z', replica: 'pod-b', durationMs: 1500, statusCode: 503, outcome: 'failed', reason: 'serverError', error: 'unexpected status code 503' },
            ],
          },
        ],
      },
      now,
    );
    const lines = text.split('\n');
    expect(lines).to.include('Attempts to hook (d_1):');
    const at = lines.indexOf('Attempts to hook (d_1):');
    expect(lines[at + 1]).to.match(/^#\s+AT\s+REPLICA\s+DURATION\s+STATUS\s+OUTCOME\s+REASON\s+NEXT\s+ERROR$/);
    expect(lines[at + 2]).to.match(/^1\s+2026-11-22T10:00:00.010Z\s+pod-a\s+13 ms\s+503\s+failed\s+serverError\s+2026-11-22T10:00:01.000Z\s+unexpected status code 503$/);
    expect(lines[at + 3]).to.match(/^2\s+2026-11-22T10:00:01.020Z\s+pod-b\s+1.5 s\s+503\s+failed\s+serverError\s+-\s+unexpected status code 503$/);
    expect(text).to.match(/hook\s+webhook\s+failed\s+2\s+503\s+serverError\s+in 60s\s+unexpected status code 503/);
  });

  it('lists dead letters and replays them by filter or by id', async () => {
    expect(await deliveriesCommand(['--state', 'dead', '--target', 'hook', '--since', '1h'], io())).to.equal(0);
    const lines = text().split('\n');
    expect(lines[0]).to.match(/^CREATED\s+ID\s+TARGET\s+STATE\s+ATTEMPTS\s+STATUS\s+REASON\s+NEXT\s+ERROR$/);
    expect(lines[1]).to.match(/^\d+s ago\s+d_\S+\s+hook\s+dead\s+1\s+400\s+clientError\s+-\s+.*400/);
    const id = lines[1]!.split(/\s+/)[2]!;
    hook.reply = () => ({ status: 200 });
    out = [];
    expect(await replayCommand(['--target', 'hook', '--state', 'dead', '--since', '1h'], io())).to.equal(0);
    expect(text()).to.equal('replayed 1 delivery');
    await eventually(async () => (await app.get(`/api/v1/deliveries/${id}`, { authorization: 'Bearer adm-7f3e' })).body.state === 'delivered', 'replayed');
    out = [];
    // Delivered now: replaying it by id replays nothing, and says which.
    expect(await replayCommand([id], io())).to.equal(1);
    expect(text()).to.equal('replayed 0 of 1 deliveries');
    expect(err.join('\n')).to.equal(`not dead or pending (or unknown): ${id}`);
  });

  it('pauses and resumes a target', async () => {
    expect(await controlCommand('pause', ['hook'], io())).to.equal(0);
    expect(text()).to.equal('hook: paused (its deliveries queue until it is resumed)');
    out = [];
    const file = join(dir, 'token');
    writeFileSync(file, 'adm-7f3e\n');
    expect(await targetsCommand(['--token-file', file], io({}))).to.equal(0);
    expect(text()).to.match(/^hook\s+webhook\s+paused\s+/m);
    expect(text()).to.match(/^logs\s+log\s+yes\s+/m);
    const answer = await app.post('/webhook', group('c', [{ alertname: 'Queued', team: 'db', route: 'hook-only' }]));
    expect(answer.body.targets[1]).to.deep.include({ state: 'skipped', skipReason: 'paused' });
    out = [];
    expect(await controlCommand('resume', ['hook', '--json'], io())).to.equal(0);
    expect(JSON.parse(text())).to.include({ name: 'hook', paused: false });
    await eventually(() => hook.received.some((r) => JSON.stringify(r.body).includes('Queued')), 'the queued notification sent');
  });

  it('reads the token from --token-file, never from the command line', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'adm-7f3e\n');
    expect(await notificationsCommand(['--token-file', file], io({}))).to.equal(0);
    expect(await notificationsCommand(['--token', 'adm-7f3e'], io({}))).to.equal(2);
    expect(err.join('\n')).to.match(/Unknown option '--token'/);
    err = [];
    expect(await notificationsCommand(['--token-file', join(dir, 'missing')], io({}))).to.equal(1);
    expect(err.join('\n')).to.match(/cannot read the token file .*missing: ENOENT/);
  });

  it('exits 1 with a clear message for 401, 404, 400 and an unreachable alertmux', async () => {
    expect(await notificationsCommand([], io({}))).to.equal(1);
    expect(err.pop()).to.equal('GET /api/v1/notifications: 401 unauthorized (give the admin token in $ALERTMUX_TOKEN or with --token-file)');
    expect(await notificationCommand(['n_nope'], io())).to.equal(1);
    expect(err.pop()).to.equal('GET /api/v1/notifications/n_nope: 404 no such notification');
    expect(await controlCommand('pause', ['nope'], io())).to.equal(1);
    expect(err.pop()).to.equal('POST /api/v1/targets/nope/pause: 404 no such target');
    expect(await notificationsCommand(['--outcome', 'great'], io())).to.equal(1);
    expect(err.pop()).to.match(/^GET \/api\/v1\/notifications\?outcome=great: HTTP 400: query parameter outcome must be one of/);
    const port = await refusedPort();
    expect(await deliveriesCommand(['--url', `http://127.0.0.1:${port}`], io())).to.equal(1);
    expect(err.pop()).to.equal(`cannot reach alertmux at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('exits 2 on a usage error', async () => {
    expect(await replayCommand([], io())).to.equal(2);
    expect(err.pop()).to.match(/^give delivery ids or a filter/);
    expect(await replayCommand(['d_1', '--target', 'hook'], io())).to.equal(2);
    expect(await notificationCommand([], io())).to.equal(2);
    expect(await controlCommand('pause', [], io())).to.equal(2);
    expect(await deliveriesCommand(['--bogus'], io())).to.equal(2);
    // The command line dispatches to the client commands (no token in this environment: 401).
    const saved = { token: process.env['ALERTMUX_TOKEN'], admin: process.env['ALERTMUX_ADMIN_TOKEN'] };
    delete process.env['ALERTMUX_TOKEN'];
    delete process.env['ALERTMUX_ADMIN_TOKEN'];
    try {
      expect(await main(['deliveries', '--url', app.base], (s) => out.push(s), (s) => err.push(s))).to.equal(1);
      expect(err.pop()).to.match(/^GET \/api\/v1\/deliveries: 401 unauthorized/);
    } finally {
      if (saved.token !== undefined) process.env['ALERTMUX_TOKEN'] = saved.token;
      if (saved.admin !== undefined) process.env['ALERTMUX_ADMIN_TOKEN'] = saved.admin;
    }
    out = [];
    expect(await main(['help', 'notifications'], (s) => out.push(s), (s) => err.push(s))).to.equal(0);
    expect(text()).to.match(/^Usage: alertmux notifications/);
  });
});
