import { expect } from 'chai';
import { byMode, config, group } from '../helpers/console.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

const ADMIN = { authorization: 'Bearer adm-7f3e' };
const T0 = Date.parse('2026-11-22T10:02:00Z');

describe('GET /api/v1/overview', () => {
  let hook: LoopbackTarget;
  let app: TestApp;
  let clock: number;

  beforeEach(async () => {
    clock = T0;
    hook = await loopbackTarget(byMode);
    app = await startApp(config(hook.url), { now: () => clock });
  });

  afterEach(async () => {
    await app.close();
    await hook.close();
  });

  it('shows per target tiles, outcomes by five-minute bucket over the hour, and the config status', async () => {
    const send = async (name: string, labels: Record<string, string>) => {
      await app.post('/webhook', group(name, [{ alertname: name, ...labels }]));
    };
    await send('ok', { team: 'web' });
    await send('partial', { team: 'db', mode: '400' });
    clock += 6 * 60_000;
    await send('queued', { team: 'db', mode: '503', route: 'hook-only' });
    await app.mux.dispatcher.idle();
    clock += 60_000;
    const res = await app.get('/api/v1/overview', ADMIN);
    expect(res.status).to.equal(200);
    const { targets, totals, config: status, deadman } = res.body;
    const hookTile = targets.find((t: { name: string }) => t.name === 'hook');
    expect(hookTile).to.deep.include({
      type: 'webhook',
      health: 'healthy',
      breaker: 'closed',
      paused: false,
      successRate1h: 0,
      attempts1h: 2,
      queueDepth: 1,
      oldestPendingAgeSeconds: 60,
      deadLetters: 1,
    });
    expect(hookTile.p95Ms1h).to.be.a('number').above(0);
    expect(hookTile.lastError).to.match(/503/);
    const logsTile = targets.find((t: { name: string }) => t.name === 'logs');
    expect(logsTile).to.deep.include({ successRate1h: 1, attempts1h: 2, queueDepth: 0, deadLetters: 0, oldestPendingAgeSeconds: 0 });
    expect(totals).to.have.length(12);
    // now is 10:09: the buckets run from 09:10 to 10:05, each five minutes.
    expect(totals[0].start).to.equal('2026-11-22T09:10:00.000Z');
    expect(totals[11].start).to.equal('2026-11-22T10:05:00.000Z');
    expect(totals[10]).to.deep.equal({ start: '2026-11-22T10:00:00.000Z', delivered: 1, partial: 1, failed: 0, accepted: 0 });
    expect(totals[11]).to.deep.equal({ start: '2026-11-22T10:05:00.000Z', delivered: 0, partial: 0, failed: 0, accepted: 1 });
    expect(totals.slice(0, 10).every((b: { delivered: number; partial: number; failed: number; accepted: number }) => b.delivered + b.partial + b.failed + b.accepted === 0)).to.equal(true);
    expect(status).to.deep.equal({ lastReloadAt: new Date(T0).toISOString(), lastReloadSuccess: true });
    expect(deadman).to.equal(null);
  });

  it('shows the dead man\'s switch when one is configured', async () => {
    await app.close();
    app = await startApp(config(hook.url, 'deadman: {targets: [logs], timeout: 5m}'), { now: () => clock });
    const { deadman } = (await app.get('/api/v1/overview', ADMIN)).body;
    expect(deadman).to.include({ enabled: true, state: 'waiting', timeout: '5m' });
    expect(deadman.targets).to.deep.equal(['logs']);
  });

  it('needs the admin token and takes no parameters', async () => {
    expect((await app.get('/api/v1/overview')).status).to.equal(401);
    expect((await app.get('/api/v1/overview?span=2h', ADMIN)).status).to.equal(400);
  });
});

describe('GET /api/v1/config', () => {
  let app: TestApp;
  const env = {
    ADMIN_TOKEN: 'adm-7f3e',
    HOOK_TOKEN: 'hook-token-9d2b7c41',
    SLACK_URL: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX',
    AM_PASSWORD: 'am-password-51c3',
    INBOUND: 'inbound-token-0e6a',
  };
  const text = (extra = '') => `admin: {bearer_token: '\${env:ADMIN_TOKEN}'}
auth: {bearer_token: '\${env:INBOUND}', basic_auth: {username: am, password: '\${env:AM_PASSWORD}'}}
storage: {path: ':memory:'}
${extra}
targets:
  - name: hook
    type: webhook
    url: 'http://127.0.0.1:1/hook?token=\${env:HOOK_TOKEN}'
    health_check: {url: 'http://127.0.0.1:1/health?token=\${env:HOOK_TOKEN}', interval: 1h}
  - {name: slack, type: slack, webhook_url: '\${env:SLACK_URL}'}
`;

  beforeEach(async () => {
    app = await startApp(text(), {}, env);
  });

  afterEach(async () => {
    await app.close();
  });

  it('shows the running config with every secret redacted, where each target came from, and the last reload', async () => {
    const res = await app.get('/api/v1/config', { authorization: 'Bearer adm-7f3e' });
    expect(res.status).to.equal(200);
    for (const secret of Object.values(env)) expect(res.text).not.to.contain(secret);
    expect(res.text).not.to.contain('XXXXXXXXXXXXXXXXXXXXXXXX');
    const { config: cfg, sources, reload } = res.body;
    expect(cfg.admin).to.deep.equal({ bearer_token: '<secret>' });
    expect(cfg.auth).to.deep.equal({ bearer_token: '<secret>', basic_auth: { username: 'am', password: '<secret>' } });
    expect(cfg.targets[0].url).to.equal('<secret>');
    // Not a secret field, but it holds a secret reference's value.
    expect(cfg.targets[0].health_check.url).to.equal('http://127.0.0.1:1/health?<secret>');
    expect(cfg.targets[1].webhook_url).to.equal('<secret>');
    expect(cfg.dispatch.timeout).to.equal(10_000);
    expect(cfg).not.to.have.property('secrets');
    expect(sources).to.deep.equal({ hook: { kind: 'config' }, slack: { kind: 'config' } });
    expect(reload).to.include({ lastReloadSuccess: true });
  });

  it('reports a failed reload with its errors, secrets redacted', async () => {
    app.setConfig(text(`dispatch: {timeout: '\${env:HOOK_TOKEN}'}`));
    expect((await app.post('/-/reload', undefined, { authorization: 'Bearer adm-7f3e' })).status).to.equal(500);
    const res = await app.get('/api/v1/config', { authorization: 'Bearer adm-7f3e' });
    expect(res.body.reload.lastReloadSuccess).to.equal(false);
    expect(res.body.reload.lastReloadError).to.match(/^config is invalid \(1 problem\):\nline \d+:\d+: dispatch.timeout: must be a duration/);
    expect(res.body.reload.problems).to.have.length(1);
    expect(res.text).not.to.contain(env.HOOK_TOKEN);
    const overview = await app.get('/api/v1/overview', { authorization: 'Bearer adm-7f3e' });
    expect(overview.body.config).to.deep.include({ lastReloadSuccess: false });
  });
});
