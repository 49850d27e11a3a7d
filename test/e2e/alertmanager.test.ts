import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** Debian's package installs the binary under this name; upstream tarballs call it `alertmanager`. */
const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

function findAlertmanager(): string | undefined {
  return BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
}

describe('end to end with a real Alertmanager', function () {
  this.timeout(60_000);
  const binary = findAlertmanager();
  let alertmanager: ChildProcess | undefined;
  let app: TestApp | undefined;
  let dir: string | undefined;
  const targets: LoopbackTarget[] = [];

  before(function () {
    if (binary) return;
    if (process.env['CI']) throw new Error(`CI is set but no Alertmanager binary (${BINARIES.join(' or ')}) is on PATH: .ci/run must apt-get install prometheus-alertmanager`);
    console.log(`      (skipped: no ${BINARIES.join(' or ')} on PATH; apt-get install prometheus-alertmanager to run it)`);
    this.skip();
  });

  after(async () => {
    alertmanager?.kill('SIGKILL');
    await app?.close();
    await Promise.all(targets.map((t) => t.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives groups from Alertmanager, fans them out to two targets, firing then resolved', async () => {
    const critical = await loopbackTarget();
    const everything = await loopbackTarget();
    targets.push(critical, everything);
    app = await startApp(
      `storage: {path: ":memory:"}
auth: {bearer_token: e2e-secret}
targets:
  - {name: critical, type: webhook, url: "${critical.url}/hook", match: ['severity="critical"']}
  - {name: everything, type: webhook, url: "${everything.url}/hook", format: alertmux}
`,
    );

    dir = mkdtempSync(join(tmpdir(), 'alertmux-am-'));
    const amPort = await refusedPort();
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route:
  receiver: alertmux
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: alertmux
    webhook_configs:
      - url: ${app.base}/webhook
        send_resolved: true
        http_config:
          authorization: {credentials: e2e-secret}
`,
    );
    let amLog = '';
    alertmanager = spawn(
      binary!,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        `--web.external-url=http://127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    alertmanager.stderr?.on('data', (d: Buffer) => (amLog += d.toString()));
    const am = `http://127.0.0.1:${amPort}`;
    await eventually(async () => (await fetch(`${am}/-/ready`).catch(() => undefined))?.ok, `Alertmanager ready (${amLog})`, 20_000);

    const startsAt = new Date().toISOString();
    const alerts = [
      { labels: { alertname: 'E2EDiskFull', instance: 'db-1', severity: 'critical' }, annotations: { summary: 'disk full on db-1' } },
      { labels: { alertname: 'E2EDiskFull', instance: 'db-2', severity: 'warning' }, annotations: { summary: 'disk filling on db-2' } },
    ];
    const postAlerts = async (body: unknown[]) => {
      const res = await fetch(`${am}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status, await res.text()).to.equal(200);
    };
    await postAlerts(alerts.map((a) => ({ ...a, startsAt, generatorURL: 'http://prometheus.e2e/graph' })));

    const firing = await eventually(() => everything.received.find((r) => (r.body as WebhookMessage).status === 'firing'), 'a firing group', 20_000);
    const group = firing.body as WebhookMessage;
    expect(group.receiver).to.equal('alertmux');
    expect(group.alerts.map((a) => a.labels['instance']).sort()).to.deep.equal(['db-1', 'db-2']);
    expect(group.alerts[0]?.annotations['silence_url']).to.contain(`${am}/#/silences/new`); // enriched (format: alertmux)
    const criticalGroup = critical.received[0]?.body as WebhookMessage;
    expect(criticalGroup.alerts.map((a) => a.labels['instance'])).to.deep.equal(['db-1']);
    expect(criticalGroup.alerts[0]?.endsAt).to.equal('0001-01-01T00:00:00Z'); // passed through as Alertmanager sent it

    // Resolve both: Alertmanager sends the resolved group, and alertmux relays it.
    const endsAt = new Date().toISOString();
    await postAlerts(alerts.map((a) => ({ ...a, startsAt, endsAt, generatorURL: 'http://prometheus.e2e/graph' })));
    const resolved = await eventually(() => everything.received.find((r) => (r.body as WebhookMessage).status === 'resolved'), 'a resolved group', 20_000);
    expect((resolved.body as WebhookMessage).alerts.every((a) => a.status === 'resolved')).to.equal(true);
    await eventually(() => critical.received.some((r) => (r.body as WebhookMessage).status === 'resolved'), 'the resolved group at the critical target');
    const statuses = critical.received.map((r) => (r.body as WebhookMessage).status);
    expect(statuses.indexOf('firing')).to.be.lessThan(statuses.indexOf('resolved'));

    const metrics = (await app.get('/metrics')).text;
    expect(metrics).to.match(/alertmux_webhook_requests_total\{code="200"\} [1-9]/);
    expect(metrics).to.match(/alertmux_webhook_requests_total\{code="401"\} 0\n/);
  });
});
