import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { eventually, loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

/** Debian's package installs the binary under this name; upstream tarballs call it `alertmanager`. */
const BINARIES = ['prometheus-alertmanager', 'alertmanager'];

describe('a real Alertmanager with the wrong token', function () {
  this.timeout(60_000);
  const binary = BINARIES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore' }).status === 0);
  let alertmanager: ChildProcess | undefined;
  let app: TestApp | undefined;
  let target: LoopbackTarget | undefined;
  let dir: string | undefined;

  before(function () {
    if (binary) return;
    if (process.env['CI']) throw new Error(`CI is set but no Alertmanager binary (${BINARIES.join(' or ')}) is on PATH: .ci/run must apt-get install prometheus-alertmanager`);
    console.log(`      (skipped: no ${BINARIES.join(' or ')} on PATH; apt-get install prometheus-alertmanager to run it)`);
    this.skip();
  });

  after(async () => {
    alertmanager?.kill('SIGKILL');
    await app?.close();
    await target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is refused with 401, and alertmux logs the refusal and counts it (AlertmuxWebhookUnauthorized watches the count)', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
    target = await loopbackTarget();
    app = await startApp(`storage: {path: ":memory:"}\nauth: {bearer_token: the-new-token}\ntargets:\n  - {name: hook, type: webhook, url: "${target.url}/hook"}\n`, { logger });

    dir = mkdtempSync(join(tmpdir(), 'alertmux-am-auth-'));
    const amPort = await refusedPort();
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      `route: {receiver: alertmux, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}
receivers:
  - name: alertmux
    webhook_configs:
      - url: ${app.base}/webhook
        http_config:
          authorization: {credentials: the-old-token}
`,
    );
    let amLog = '';
    alertmanager = spawn(
      binary!,
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    alertmanager.stderr?.on('data', (d: Buffer) => (amLog += d.toString()));
    const am = `http://127.0.0.1:${amPort}`;
    await eventually(async () => (await fetch(`${am}/-/ready`).catch(() => undefined))?.ok, `Alertmanager ready (${amLog})`, 20_000);
    const res = await fetch(`${am}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: 'E2ETokenRotated', severity: 'critical' }, startsAt: new Date().toISOString() }]),
    });
    expect(res.status).to.equal(200);

    const refused = await eventually(() => lines.find((l) => l['message'] === 'webhook rejected'), 'the logged refusal', 20_000);
    expect(refused).to.include({ level: 'warn', status: 401, reason: 'unauthorized', remote: '127.0.0.1' });
    // Alertmanager gives up on a 4xx: the alert is dropped, never delivered.
    await eventually(() => /unexpected status code 401/.test(amLog), `Alertmanager's log of the 401 (${amLog})`, 20_000);
    expect(target.received).to.deep.equal([]);
    expect(JSON.stringify(lines)).not.to.include('the-old-token');
    expect((await app.get('/metrics')).text).to.match(/alertmux_webhook_requests_total\{code="401"\} [1-9]/);
  });
});
