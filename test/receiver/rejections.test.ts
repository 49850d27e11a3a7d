import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { request } from 'undici';
import winston from 'winston';
import { StorageError } from '../../src/delivery/storage-error.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createWebhookHandler } from '../../src/receiver/webhook.js';
import { config } from '../helpers/fixtures.js';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

/** A winston logger whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('webhook rejections and odd input', () => {
  let target: LoopbackTarget;
  let app: TestApp;
  let lines: Array<Record<string, unknown>>;
  const rejected = () => lines.filter((l) => l['message'] === 'webhook rejected');
  beforeEach(async () => {
    target = await loopbackTarget();
    const captured = capturingLogger();
    lines = captured.lines;
    app = await startApp(
      `storage: {path: ":memory:"}
auth: {bearer_token: s3cr3t}
limits: {max_body_bytes: 4096}
enrich:
  silence_link: true
  severity_map: {P1: critical}
  links: {runbook_url: "https://runbooks.example/{{urlquery labels.alertname}}"}
targets:
  - {name: hook, type: webhook, url: "${target.url}/hook", format: alertmux}
`,
      { logger: captured.logger },
    );
  });
  afterEach(async () => {
    await app.close();
    await target.close();
  });
  const auth = { authorization: 'Bearer s3cr3t' };

  it('logs each 4xx once at warn with status, reason, remote address and, when readable, receiver and group key', async () => {
    const answers = [
      await app.post('/webhook', fixture(), { authorization: 'Bearer wrong' }),
      await app.post('/webhook', 'x', { ...auth, 'content-type': 'text/plain' }),
      await app.post('/webhook', { pad: 'x'.repeat(5000) }, auth),
      await app.post('/webhook', '{"a":', auth),
      await app.post('/webhook', { ...fixture(), version: '3' }, auth),
      await app.post('/webhook?targets=nope', fixture(), auth),
      await app.post('/webhook', `{"receiver":"r","deep":${'['.repeat(200)}${']'.repeat(200)}}`, auth),
    ];
    expect(answers.map((a) => a.status)).to.deep.equal([401, 415, 413, 400, 400, 400, 400]);
    for (const a of answers) expect(a.body.error).to.be.a('string').with.length.greaterThan(0);
    await flush();
    expect(rejected().map((l) => [l['level'], l['status'], l['reason']])).to.deep.equal([
      ['warn', 401, 'unauthorized'],
      ['warn', 415, 'unsupported_media_type'],
      ['warn', 413, 'too_large'],
      ['warn', 400, 'invalid_json'],
      ['warn', 400, 'invalid_payload'],
      ['warn', 400, 'unknown_target'],
      ['warn', 400, 'too_deep'],
    ]);
    for (const line of rejected()) expect(line).to.include({ component: 'webhook', remote: '127.0.0.1' }).and.have.property('error');
    expect(rejected()[4]).to.include({ receiver: 'fanout', groupKey: '{}:{alertname="TestAlert"}' });
    expect(rejected()[4]?.['details']).to.deep.equal(['/version: must be "4" (Alertmanager webhook payload version 4)']);
    expect(rejected()[5]).to.include({ receiver: 'fanout', error: 'unknown target(s) in ?targets=: nope' });
    expect(rejected()[6]?.['error']).to.equal('JSON nested deeper than 100 levels');
    // The secret a client sent is never in the log.
    expect(JSON.stringify(lines)).not.to.include('s3cr3t');
  });

  it('a flood of one rejection is rate-limited, and every request is still counted', async () => {
    for (let i = 0; i < 30; i++) expect((await app.post('/webhook', fixture())).status).to.equal(401);
    await flush();
    expect(rejected()).to.have.length(10);
    const requests = await app.mux.metrics.webhookRequests.get();
    expect(requests.values.find((v) => v.labels.code === '401')?.value).to.equal(30);
  });

  it('accepts severities named like Object.prototype members (they were a storage error and a 503)', async () => {
    for (const severity of ['constructor', 'Constructor', '__proto__', 'toString']) {
      const msg = fixture();
      msg.alerts[0]!.labels['severity'] = severity;
      msg.groupKey = `{}:{severity="${severity}"}`;
      const answer = await app.post('/webhook', msg, auth);
      expect(answer.status, severity).to.equal(200);
    }
    const errors = await app.mux.metrics.storageErrors.get();
    expect(errors.values.reduce((sum, v) => sum + v.value, 0)).to.equal(0);
  });

  it('reads lone surrogates as U+FFFD, as Alertmanager does, and logs that it did', async () => {
    // Built as text: a label value (silence link), a label name, and alertname (a urlquery link template).
    const text = JSON.stringify(fixture())
      .replace('"instance":"host1"', '"instance":"a\\ud800b","\\udfff":"x"')
      .replace('"alertname":"TestAlert","instance":"host2"', '"alertname":"T\\udbff","instance":"host2"');
    const answer = await app.post('/webhook', text, auth);
    expect(answer.status, answer.text).to.equal(200);
    const sent = target.received[0]?.body as { alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> };
    expect(sent.alerts[0]?.labels).to.include({ instance: 'a\ufffdb', '\ufffd': 'x' });
    expect(sent.alerts[0]?.annotations['silence_url']).to.include(encodeURIComponent('instance="a\ufffdb"'));
    expect(sent.alerts[1]?.annotations['runbook_url']).to.equal(`https://runbooks.example/${encodeURIComponent('T\ufffd')}`);
    await flush();
    const note = lines.find((l) => String(l['message']).startsWith('webhook payload has invalid UTF-16'));
    expect(note).to.include({ level: 'warn', replaced: 3, receiver: 'fanout', remote: '127.0.0.1' });
  });
});

describe('webhook answers to a failing dispatch', () => {
  /** The handler alone on a loopback server, its dispatch replaced by `dispatch`. */
  async function post(dispatch: () => Promise<never>) {
    const { logger, lines } = capturingLogger();
    const cfg = config('storage: {path: ":memory:"}\ntargets: [{name: a, type: log}]');
    const handler = createWebhookHandler({ config: () => cfg, metrics: createMetrics(new Registry()), accepting: () => true, dispatch, logger });
    const server = createServer(handler).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fixture()),
      });
      const body = (await res.body.json()) as { error: string };
      await flush();
      return { status: res.statusCode, body, lines };
    } finally {
      server.close();
    }
  }

  it('a ledger failure is 503 (Alertmanager retries): alertmux could not take responsibility', async () => {
    const { status, body } = await post(() => Promise.reject(new StorageError('disk I/O error')));
    expect(status).to.equal(503);
    expect(body.error).to.equal('cannot record the notification; retry later');
  });

  it('any other exception is a bug: 500, logged at error with the stack, never a 503 Alertmanager would retry forever', async () => {
    const { status, body, lines } = await post(() => Promise.reject(new TypeError('boom')));
    expect(status).to.equal(500);
    expect(body.error).to.equal('internal error');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ level: 'error', message: 'webhook failed', status: 500, receiver: 'fanout', remote: '127.0.0.1' });
    expect(String(lines[0]?.['error'])).to.match(/^TypeError: boom\n\s+at /);
  });
});
