import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { Agent } from 'undici';
import winston from 'winston';
import { checkConfig } from '../src/commands/check-config.js';
import { sendTestCommand } from '../src/commands/send-test.js';
import { targetsCommand } from '../src/commands/targets.js';
import { parseConfig } from '../src/config/load.js';
import { fieldSecrets } from '../src/publishers/redaction.js';
import { targetKinds, targetSecretFields } from '../src/publishers/registry.js';
import { eventually, startApp, type TestApp } from './helpers/servers.js';
import { fixture } from './helpers/fixtures.js';
import type { Logger } from '../src/observability/logger.js';

/**
 * Redaction by construction, end to end: marker secrets in every secret field of every target kind, every
 * target pointed at a loopback server that answers 500 and echoes the whole request back (request line,
 * every header, the body; as text and again as JSON), and every channel through which a string leaves
 * alertmux searched for the markers and their derived forms.
 */

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** A proxy that answers 500 with everything it received, first as text, then JSON-escaped. */
async function echoServer(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // Credentials first (an excerpt is cut after a few hundred characters): authorization and custom headers.
      const headers = Object.entries(req.headers).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
      const text = `${req.method} ${req.url} HTTP/1.1\n${headers.map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\n\n${body}`;
      seen.push(text);
      const echo = `${text}\n${JSON.stringify({ url: req.url, headers: req.headers, body }).replace(/\//g, '\\/')}`;
      res.writeHead(500, { 'content-type': 'text/plain' }).end(echo);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
const rank = (header: string) => (header === 'authorization' ? 0 : header.startsWith('x-') ? 1 : 2);

/** A winston logger at debug that keeps every line. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink })] });
  return { logger, lines };
}

/** Every marker, and the basic-auth pairs whose base64 is what goes over the wire. */
const M = {
  pagerduty: 'PdRoutingKeyMRK00000000000000001', // 32 characters, as PagerDuty's keys
  slackHook: 'slackHookSecretMRK0000000002',
  slackBot: 'xoxb-slackBotTokenMRK0003',
  rootly: 'rootlyTokenMRK0004',
  rootlyApi: 'rootlyApiTokenMRK0005',
  whPath: 'whPathSecretMRK00000006',
  whQuery: 'whQueryTokMRK+0007/x',
  whPassword: 'whBasicPwMRK/0008+=',
  whHeader: 'whHeaderValueMRK0009',
  whSigning: 'whsec_SigningSecretMRK0010AAAA',
  whBearer: 'whBearerTokMRK0011',
  amPassword: 'amBasicPwMRK0012',
  amBearer: 'amBearerTokMRK0013',
  teamsPath: 'teamsWorkflowMRK0014abcdef',
  teamsSig: 'teamsSigMRK0015',
  discord: 'discordTokenMRK0016abcdefghijklmnop',
  admin: 'adminTokenMRK0017',
};
const BASIC = [`amuser:${M.whPassword}`, `amfwd:${M.amPassword}`];

/** Every string that must not appear: each marker, its start, URL-encoded and base64; each basic-auth pair and its base64. */
function forbidden(): string[] {
  const forms = new Set<string>();
  for (const m of Object.values(M)) {
    for (const f of [m, m.slice(0, 10), encodeURIComponent(m), b64(m)]) forms.add(f);
  }
  for (const pair of BASIC) for (const f of [pair, b64(pair), encodeURIComponent(pair)]) forms.add(f);
  return [...forms];
}

function config(echo: string, storage: string): string {
  const q = encodeURIComponent(M.whQuery);
  return `admin: {bearer_token: ${M.admin}}
storage: {path: "${storage}"}
retry: {initial_backoff: 20ms, max_backoff: 40ms, max_attempts: 2}
dispatch: {response_deadline: 5s, timeout: 2s, health_strategy: publish_to_all}
breaker: {consecutive_failures: 100, min_requests: 100}
targets:
  - {name: pd, type: pagerduty, routing_key: ${M.pagerduty}, url: "${echo}/v2/enqueue"}
  - {name: slack-hook, type: slack, webhook_url: "${echo}/services/T0SLACK01/B0SLACK02/${M.slackHook}"}
  - {name: slack-bot, type: slack, token: ${M.slackBot}, channel: C0123ABC, api_url: "${echo}/api"}
  - {name: rootly, type: rootly, token: ${M.rootly}, url: "${echo}/webhooks/incoming/alertmanager_webhooks"}
  - {name: rootly-api, type: rootly, mode: api, token: ${M.rootlyApi}, url: "${echo}"}
  - name: hook-basic
    type: webhook
    url: "${echo}/hook/${M.whPath}?token=${q}&v=1"
    basic_auth: {username: amuser, password: "${M.whPassword}"}
    headers: {X-Api-Key: ${M.whHeader}}
    signing_secret: ${M.whSigning}
  - {name: hook-bearer, type: webhook, url: "${echo}/hook-b", bearer_token: ${M.whBearer}, headers: {X-Api-Key: ${M.whHeader}}}
  - {name: am-basic, type: alertmanager, url: "${echo}/am", basic_auth: {username: amfwd, password: ${M.amPassword}}}
  - {name: am-bearer, type: alertmanager, url: "${echo}/am", bearer_token: ${M.amBearer}}
  - {name: teams, type: teams, webhook_url: "${echo}/workflows/${M.teamsPath}/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${M.teamsSig}"}
  - {name: discord, type: discord, webhook_url: "${echo}/api/webhooks/123456789012345678/${M.discord}"}
  - {name: logs, type: log}
`;
}

describe('redaction by construction (every target kind echoing its request with a 500)', function () {
  this.timeout(30_000);
  let dir: string;
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let app: TestApp | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redact-'));
    echo = await echoServer();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the test config sets every secret field of every target kind that has one', () => {
    const loaded = parseConfig(config('http://127.0.0.1:1', ':memory:'), { env: {}, baseDir: '/tmp', kinds: targetKinds });
    for (const [type, fields] of Object.entries(targetSecretFields)) {
      const targets = loaded.targets.filter((t) => t.type === type);
      if (fields.length > 0) expect(targets.length, `a ${type} target`).to.be.greaterThan(0);
      for (const f of fields) expect(targets.some((t) => fieldSecrets(t, [f]).length > 0), `${type}.${f.path}`).to.equal(true);
    }
  });

  it('no marker reaches the answer, the API, the CLI, the logs, the metrics or the ledger', async () => {
    const ledger = join(dir, 'ledger.db');
    const text = config(echo.url, ledger);
    const file = join(dir, 'alertmux.yml');
    writeFileSync(file, text);
    const { logger, lines } = capturingLogger();
    app = await startApp(text, { logger });
    const admin = { authorization: `Bearer ${M.admin}` };
    const outputs: Array<[channel: string, text: string]> = [];

    const answer = await app.post('/webhook', fixture());
    outputs.push(['webhook answer', answer.text]);
    expect(answer.status).to.equal(202);
    const failed = (answer.body.targets as Array<{ target: string; state: string; error?: string }>).filter((t) => t.state === 'failed');
    expect(failed.map((t) => t.target).sort()).to.have.members(['am-basic', 'am-bearer', 'discord', 'hook-basic', 'hook-bearer', 'pd', 'rootly', 'rootly-api', 'slack-bot', 'slack-hook', 'teams']);
    // The echo is in the errors (so a secret could have been there), redacted.
    for (const t of failed) expect(t.error, t.target).to.match(/500/);
    expect(failed.some((t) => (t.error ?? '').includes('<secret>'))).to.equal(true);

    // Each target received its secrets, so each echo carried them.
    const received = echo.seen.join('\n');
    for (const m of [M.pagerduty, M.slackHook, M.slackBot, M.rootly, M.rootlyApi, M.whPath, encodeURIComponent(M.whQuery), M.whHeader, M.whBearer, M.amBearer, M.teamsPath, M.teamsSig, M.discord]) {
      expect(received, m).to.contain(m);
    }
    for (const pair of BASIC) expect(received).to.contain(b64(pair));

    // Retries run out: every delivery dead-lettered, with its warn log lines.
    await eventually(async () => (await app!.get('/api/v1/deliveries?state=pending', admin)).body.deliveries?.length === 0, 'no pending delivery');
    for (const path of ['/api/v1/deliveries', '/api/v1/deliveries?state=dead', '/api/v1/deliveries?state=pending', `/api/v1/notifications/${answer.body.id as string}`, '/api/v1/targets', '/api/v1/publish/parallel/status']) {
      const res = await app.get(path, admin);
      expect(res.status, path).to.equal(200);
      outputs.push([`GET ${path}`, res.text]);
    }
    // What was sent, rendered per target from the stored notification: every HTTP kind renders its request, its secrets
    // redacted (the render is in the outputs searched below).
    const detail = (await app.get(`/api/v1/notifications/${answer.body.id as string}`, admin)).body as { targets: Array<{ target: string; sent?: object; sentUnavailable?: string }> };
    for (const t of detail.targets) {
      if (t.target === 'logs') expect(t.sentUnavailable, t.target).to.match(/no HTTP request/);
      else expect(JSON.stringify(t.sent), t.target).to.contain('<secret>');
    }
    const dead = (await app.get('/api/v1/deliveries?state=dead', admin)).body.deliveries as Array<{ target: string }>;
    expect(dead.length).to.be.at.least(11);
    for (const t of failed) outputs.push([`GET /api/v1/targets/${t.target}`, (await app.get(`/api/v1/targets/${t.target}`, admin)).text]);
    outputs.push(['/metrics', (await app.get('/metrics')).text]);

    // The CLI, in process: `alertmux targets` (table and JSON), `send-test` (table and JSON), `check-config`.
    const cli: string[] = [];
    const io = { out: (s: string) => cli.push(s), err: (s: string) => cli.push(s), env: {}, now: Date.now, logger };
    expect(await targetsCommand(['--url', app.base, '--token', M.admin], io)).to.equal(0);
    expect(await targetsCommand(['--url', app.base, '--token', M.admin, '--json'], io)).to.equal(0);
    expect(cli.join('\n')).to.contain('<secret>');
    outputs.push(['alertmux targets', cli.splice(0).join('\n')]);
    const http = new Agent();
    try {
      const state = join(dir, 'send-test-state.json');
      expect(await sendTestCommand(['--config', file, '--state', state], { ...io, http })).to.equal(1);
      expect(await sendTestCommand(['--config', file, '--state', state, '--json'], { ...io, http })).to.equal(1);
    } finally {
      await http.close();
    }
    expect(cli.join('\n')).to.match(/unexpected status code 500/);
    outputs.push(['alertmux send-test', cli.splice(0).join('\n')]);
    checkConfig([file], { env: {} }, io.out, io.err);
    outputs.push(['alertmux check-config', cli.splice(0).join('\n')]);

    await app.close();
    app = undefined;
    expect(lines.some((l) => l.includes('delivery dead-lettered'))).to.equal(true);
    outputs.push(['logs', lines.join('')]);
    const db = new Database(ledger, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
      const rows = tables.map(({ name }) => JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v)));
      const dump = rows.join('\n');
      expect(dump).to.contain('unexpected status code 500');
      outputs.push(['ledger', dump]);
    } finally {
      db.close();
    }

    const leaks: string[] = [];
    for (const [channel, out] of outputs) for (const f of forbidden()) if (out.includes(f)) leaks.push(`${channel}: ${f} in …${out.slice(Math.max(0, out.indexOf(f) - 60), out.indexOf(f) + 60)}…`);
    expect(leaks, leaks.join('\n')).to.deep.equal([]);
  });
});
