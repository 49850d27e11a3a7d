import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { groupKeyHash } from '../../src/alerts/fingerprint.js';
import { createPublisher, redactTarget } from '../../src/publishers/registry.js';
import { MESSAGE_TTL_MS, type SlackTarget } from '../../src/publishers/slack.js';
import {
  MAX_BLOCKS,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  RESOLVED_COLOR,
  SEVERITY_COLORS,
  type Block,
  type SlackMessage,
} from '../../src/publishers/slack-blocks.js';
import { alert, config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';
import type { Logger } from '../../src/observability/logger.js';

const HOOK_ORIGIN = 'https://hooks.slack.com';
const HOOK_PATH = '/services/T0001/B0002/sEcReTwEbHoOkToKeN123';
const WEBHOOK_URL = `${HOOK_ORIGIN}${HOOK_PATH}`;
const API_ORIGIN = 'https://slack.com';
const TOKEN = 'xoxb-1111-2222-sEcReTbOtToKeN';
const TS = '1503435956.000247';

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> };
type Call = { path: string; headers: Record<string, string>; body: SlackMessage & Record<string, unknown> };
type Deps = ReturnType<typeof mockDeps>;

function slack(overrides: Partial<SlackTarget> = {}): SlackTarget {
  return { name: 'slack-ops', type: 'slack', enabled: true, match: [], send_resolved: true, api_url: 'https://slack.com/api', thread_replies: false, ...overrides };
}
const hook = (overrides: Partial<SlackTarget> = {}) => slack({ webhook_url: WEBHOOK_URL, ...overrides });
const api = (overrides: Partial<SlackTarget> = {}) => slack({ token: TOKEN, channel: '#ops', ...overrides });

/** A logger that keeps every line it is given, to check that no secret reaches a log. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
}

/** Answer every POST to `origin` with `answer(call)`, recording the calls. */
function double(deps: Deps, origin: string, answer: (call: Call) => Reply): Call[] {
  const calls: Call[] = [];
  deps.agent
    .get(origin)
    .intercept({ path: () => true, method: 'POST' })
    .reply((opts) => {
      const call: Call = { path: opts.path, headers: opts.headers as Record<string, string>, body: JSON.parse(String(opts.body)) as Call['body'] };
      calls.push(call);
      const r = answer(call);
      const data = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
      return { statusCode: r.status ?? 200, data, responseOptions: { headers: r.headers ?? {} } };
    })
    .persist();
  return calls;
}

/** Publish `msg` through an incoming webhook double answering `reply` (default: 200 `ok`, text/html). */
async function viaHook(msg: WebhookMessage = fixture(), reply: Reply = {}, target = hook(), deps = mockDeps()) {
  const calls = double(deps, HOOK_ORIGIN, () => ({ body: 'ok', headers: { 'content-type': 'text/html' }, ...reply }));
  const outcome = await createPublisher(target, deps).publish(targetMessage(msg), ctx());
  return { outcome, calls };
}

const posted = (channel = 'C123ABC456', ts = TS): Reply => ({ body: { ok: true, channel, ts, message: { ts } } });

/** Publish `msg` through a Web API double; `answer` sees each call (chat.postMessage, chat.update). */
async function viaApi(msg: WebhookMessage, answer: (call: Call) => Reply = () => posted(), target = api(), deps = mockDeps()) {
  const calls = double(deps, API_ORIGIN, answer);
  const outcome = await createPublisher(target, deps).publish(targetMessage(msg), ctx());
  return { outcome, calls, deps };
}

const KEY = (msg: WebhookMessage) => `slack:${groupKeyHash(msg.groupKey)}`;
const texts = (blocks: Block[]) => blocks.flatMap((b) => (b.type === 'context' ? b.elements.map((e) => e.text) : [b.text.text]));

describe('slack publisher', () => {
  describe('the message (Block Kit)', () => {
    it('posts a firing group as a header and a red attachment with the alerts, links and counts', async () => {
      const { outcome, calls } = await viaHook();
      expect(outcome).to.deep.equal({ ok: true, status: 200 });
      expect(calls).to.have.length(1);
      expect(calls[0]!.path).to.equal(HOOK_PATH);
      expect(calls[0]!.headers['content-type']).to.equal('application/json');
      expect(calls[0]!.body).to.deep.equal({
        text: '[FIRING:2] TestAlert (critical)',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: '[FIRING:2] TestAlert (critical)', emoji: true } }],
        attachments: [
          {
            color: SEVERITY_COLORS['critical'],
            fallback: '[FIRING:2] TestAlert (critical)',
            blocks: [
              { type: 'section', text: { type: 'mrkdwn', text: '🔥 test summary\ninstance=host1 severity=critical\n\n🔥 test summary\ninstance=host2 severity=warning' } },
              { type: 'section', text: { type: 'mrkdwn', text: '<http://prom.example/graph|Source>' } },
              {
                type: 'context',
                elements: [
                  { type: 'mrkdwn', text: '*2* firing · *0* resolved' },
                  { type: 'mrkdwn', text: '<http://127.0.0.1:19093|Alertmanager>' },
                ],
              },
            ],
          },
        ],
        unfurl_links: false,
        unfurl_media: false,
      });
    });

    it('posts a resolved group in green with [RESOLVED] in the title', async () => {
      const { calls } = await viaHook(fixture('am025-all-resolved.json'));
      const body = calls[0]!.body;
      expect(body.text).to.equal('[RESOLVED] DiskFull node (critical)');
      expect(body.attachments[0]!.color).to.equal(RESOLVED_COLOR);
      expect(texts(body.attachments[0]!.blocks)).to.include('*0* firing · *2* resolved');
    });

    it('colours a warning group amber', async () => {
      const msg = { ...fixture(), commonLabels: { alertname: 'X', severity: 'warning' } };
      expect((await viaHook(msg)).calls[0]!.body.attachments[0]!.color).to.equal(SEVERITY_COLORS['warning']);
    });

    it('escapes &, < and > in the default text and keeps | out of link URLs', async () => {
      const annotations = { summary: 'p99 <script> & > 5s', runbook_url: 'https://r.example/a?b=1&c=x|y' };
      const msg = { ...fixture(), alerts: [alert({ alertname: 'X' }, { annotations })], commonLabels: { alertname: 'X' } };
      const blocks = (await viaHook(msg)).calls[0]!.body.attachments[0]!.blocks;
      expect(texts(blocks)[0]).to.equal('🔥 p99 &lt;script&gt; &amp; &gt; 5s');
      expect(texts(blocks)[1]).to.contain('<https://r.example/a?b=1&amp;c=x%7Cy|Runbook>');
    });

    it('renders the per-target template for title and text, its text as mrkdwn', async () => {
      const target = hook({ template: { title: '{{upper status}}: {{name}} x{{numFiring}}', text: '*{{commonAnnotations.summary}}* <{{externalURL}}|AM>' } });
      const body = (await viaHook(fixture(), {}, target)).calls[0]!.body;
      expect(body.text).to.equal('FIRING: TestAlert x2');
      expect(texts(body.attachments[0]!.blocks)[0]).to.equal('*test summary* <http://127.0.0.1:19093|AM>');
    });

    it('sends the default text, escaped, with a warning, when the custom text fails while rendering', async () => {
      const { logger, lines } = capturingLogger();
      const deps = mockDeps();
      deps.logger = logger;
      const annotations = { summary: 'p99 <script> & > 5s' };
      const msg = { ...fixture(), alerts: [alert({ alertname: 'X' }, { annotations })], commonLabels: { alertname: 'X' } };
      const { outcome, calls } = await viaHook(msg, {}, hook({ template: { text: '{{#if status}}{{nope status}}{{/if}}' } }), deps);
      expect(outcome.ok).to.equal(true);
      expect(texts(calls[0]!.body.attachments[0]!.blocks)[0]).to.equal('🔥 p99 &lt;script&gt; &amp; &gt; 5s');
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).to.contain('Slack template.text failed; the default is sent');
    });

    it('keeps a huge group within 50 blocks, 3000 characters a section, 150 for the header and the total cap', async () => {
      const alerts = Array.from({ length: 300 }, (_, i) =>
        alert({ alertname: 'X'.repeat(200), instance: `host-${i}` }, { annotations: { summary: `s${i}`, description: 'd'.repeat(4000) } }),
      );
      const body = (await viaHook({ ...fixture(), alerts, commonLabels: { alertname: 'X'.repeat(200) } })).calls[0]!.body;
      const blocks = [...body.blocks, ...body.attachments[0]!.blocks];
      expect(blocks.length).to.be.at.most(MAX_BLOCKS);
      const header = body.blocks[0]!;
      expect(header.type === 'header' && header.text.text.length).to.equal(MAX_HEADER_TEXT);
      for (const text of texts(body.attachments[0]!.blocks)) expect(text.length).to.be.at.most(MAX_SECTION_TEXT);
      expect(texts(blocks).join('').length).to.be.at.most(MAX_TOTAL_BLOCK_TEXT);
      expect(texts(body.attachments[0]!.blocks)).to.include('*300* firing · *0* resolved');
    });
  });

  describe('incoming webhook responses', () => {
    it('counts only a 200 with the plain-text body ok as delivered', async () => {
      expect((await viaHook(fixture(), { body: 'ok' })).outcome).to.deep.equal({ ok: true, status: 200 });
      expect((await viaHook(fixture(), { body: 'no_text' })).outcome).to.deep.equal({
        ok: false,
        retryable: false,
        reason: 'clientError',
        status: 200,
        message: 'webhook answered 200: no_text',
      });
    });

    it('reads a JSON answer as the Web API does', async () => {
      const json = { 'content-type': 'application/json' };
      expect((await viaHook(fixture(), { body: { ok: true }, headers: json })).outcome).to.deep.equal({ ok: true, status: 200 });
      expect((await viaHook(fixture(), { body: { ok: false, error: 'invalid_blocks' }, headers: json })).outcome).to.include({ retryable: false, reason: 'clientError' });
    });

    const cases: Array<[number, string, boolean, string]> = [
      [400, 'invalid_payload', false, 'clientError'],
      [400, 'user_not_found', false, 'clientError'],
      [403, 'action_prohibited', false, 'authError'],
      [404, 'channel_not_found', false, 'clientError'],
      [410, 'channel_is_archived', false, 'clientError'],
      [403, 'invalid_token', false, 'authError'],
      [404, 'no_service', false, 'authError'],
      [400, 'team_disabled', false, 'authError'],
      [500, 'rollup_error', true, 'serverError'],
      [503, 'service unavailable', true, 'serverError'],
    ];
    for (const [status, error, retryable, reason] of cases) {
      it(`${retryable ? 'retries' : 'gives up on'} ${status} ${error}`, async () => {
        const { outcome } = await viaHook(fixture(), { status, body: error });
        expect(outcome).to.deep.equal({ ok: false, retryable, reason, status, message: `unexpected status code ${status}: ${error}` });
      });
    }

    it('retries a 429 after its Retry-After', async () => {
      const { outcome } = await viaHook(fixture(), { status: 429, body: '', headers: { 'retry-after': '3' } });
      expect(outcome).to.include({ ok: false, retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: 3000 });
    });

    it('retries a network error without naming the URL', async () => {
      const deps = mockDeps();
      deps.agent.get(HOOK_ORIGIN).intercept({ path: HOOK_PATH, method: 'POST' }).replyWithError(Object.assign(new Error(`connect to ${WEBHOOK_URL} failed`), { code: 'ECONNREFUSED' }));
      const outcome = await createPublisher(hook(), deps).publish(targetMessage(), ctx());
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: 'network error: ECONNREFUSED' });
    });
  });

  describe('Web API: chat.postMessage and chat.update', () => {
    it('posts a firing group with the bot token as Bearer and remembers channel id and ts', async () => {
      const msg = fixture();
      const { outcome, calls, deps } = await viaApi(msg);
      expect(outcome).to.deep.equal({ ok: true, status: 200 });
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.postMessage']);
      expect(calls[0]!.headers).to.include({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' });
      expect(calls[0]!.body).to.include({ channel: '#ops', text: '[FIRING:2] TestAlert (critical)', unfurl_links: false });
      expect(calls[0]!.body.attachments[0]!.color).to.equal(SEVERITY_COLORS['critical']);
      expect(deps.state.get(KEY(msg))).to.deep.equal({ channel: 'C123ABC456', ts: TS });
      expect(deps.state.entries.get(KEY(msg))!.expiresAt).to.equal(deps.now() + MESSAGE_TTL_MS);
    });

    it('updates the stored message on resolve (channel id and ts) and forgets it', async () => {
      const deps = mockDeps();
      const calls = double(deps, API_ORIGIN, () => posted('C0PS', '1700000000.000100'));
      const publisher = createPublisher(api(), deps);
      await publisher.publish(targetMessage(fixture('am025-grouped-firing.json')), ctx());
      const resolved = fixture('am025-all-resolved.json');
      const outcome = await publisher.publish(targetMessage(resolved), ctx());
      expect(outcome).to.deep.equal({ ok: true, status: 200 });
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.postMessage', '/api/chat.update']);
      expect(calls[1]!.body).to.include({ channel: 'C0PS', ts: '1700000000.000100', text: '[RESOLVED] DiskFull node (critical)' });
      expect(calls[1]!.body.attachments[0]!.color).to.equal(RESOLVED_COLOR);
      expect(deps.state.get(KEY(resolved))).to.equal(undefined);
    });

    it('with thread_replies, also answers in the thread of the original message', async () => {
      const deps = mockDeps();
      deps.state.set(KEY(fixture('am025-all-resolved.json')), { channel: 'C0PS', ts: TS }, MESSAGE_TTL_MS);
      const { calls } = await viaApi(fixture('am025-all-resolved.json'), () => posted('C0PS', '1700000001.000200'), api({ thread_replies: true }), deps);
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.update', '/api/chat.postMessage']);
      expect(calls[1]!.body).to.include({ channel: 'C0PS', thread_ts: TS, text: '[RESOLVED] DiskFull node (critical)' });
    });

    it('updates the same message while the group keeps firing, and keeps remembering it', async () => {
      const deps = mockDeps();
      const msg = fixture('am025-grouped-firing.json');
      deps.state.set(KEY(msg), { channel: 'C0PS', ts: TS }, 1000);
      const { calls } = await viaApi(msg, () => posted('C0PS'), api(), deps);
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.update']);
      expect(deps.state.entries.get(KEY(msg))!.expiresAt).to.equal(deps.now() + MESSAGE_TTL_MS);
    });

    it('posts a new message for a resolve it has no message for, and remembers nothing', async () => {
      const msg = fixture('am025-all-resolved.json');
      const { outcome, calls, deps } = await viaApi(msg);
      expect(outcome.ok).to.equal(true);
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.postMessage']);
      expect(calls[0]!.body).to.include({ channel: '#ops', text: '[RESOLVED] DiskFull node (critical)' });
      expect(deps.state.entries.size).to.equal(0);
    });

    for (const error of ['message_not_found', 'cant_update_message', 'edit_window_closed']) {
      it(`posts a new message when chat.update answers ${error}`, async () => {
        const deps = mockDeps();
        const msg = fixture('am025-grouped-firing.json');
        deps.state.set(KEY(msg), { channel: 'C0PS', ts: TS }, MESSAGE_TTL_MS);
        const answer = (c: Call): Reply => (c.path.endsWith('chat.update') ? { body: { ok: false, error } } : posted('C0PS', '1700000002.000300'));
        const { outcome, calls } = await viaApi(msg, answer, api(), deps);
        expect(outcome.ok).to.equal(true);
        expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.update', '/api/chat.postMessage']);
        expect(deps.state.get(KEY(msg))).to.deep.equal({ channel: 'C0PS', ts: '1700000002.000300' });
      });
    }

    it('uses api_url (GovSlack, proxies), with or without a trailing slash', async () => {
      const deps = mockDeps();
      const calls = double(deps, 'https://slack-gov.com', () => posted());
      await createPublisher(api({ api_url: 'https://slack-gov.com/api/' }), deps).publish(targetMessage(), ctx());
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.postMessage']);
    });
  });

  describe('author overrides: username, icon_emoji, icon_url', () => {
    const author = { username: 'Alertmanager', icon_emoji: ':rotating_light:', icon_url: 'https://example.com/am.png' };

    it('sends them with an incoming-webhook message (legacy webhooks honour them)', async () => {
      const { calls } = await viaHook(fixture(), {}, hook(author));
      expect(calls[0]!.body).to.include(author);
    });

    it('sends them with every chat.postMessage, the first post and thread replies, and never with chat.update', async () => {
      const deps = mockDeps();
      const calls = double(deps, API_ORIGIN, () => posted('C0PS'));
      const publisher = createPublisher(api({ ...author, thread_replies: true }), deps);
      await publisher.publish(targetMessage(fixture('am025-grouped-firing.json')), ctx());
      await publisher.publish(targetMessage(fixture('am025-all-resolved.json')), ctx());
      expect(calls.map((c) => c.path)).to.deep.equal(['/api/chat.postMessage', '/api/chat.update', '/api/chat.postMessage']);
      expect(calls[0]!.body).to.include(author);
      expect(calls[2]!.body).to.include({ ...author, thread_ts: TS });
      // chat.update takes no author arguments: the message keeps the one it was posted with.
      for (const field of Object.keys(author)) expect(calls[1]!.body).not.to.have.property(field);
    });

    it('sends none of them unless set', async () => {
      const { calls } = await viaHook();
      for (const field of Object.keys(author)) expect(calls[0]!.body).not.to.have.property(field);
      const one = await viaHook(fixture(), {}, hook({ icon_emoji: ':fire:' }));
      expect(one.calls[0]!.body).to.include({ icon_emoji: ':fire:' }).and.not.to.have.property('username');
    });

    it('loads them from the config and rejects an emoji without colons or an icon_url that is not a URL', () => {
      const target = config("targets: [{name: s, type: slack, webhook_url: 'https://h.example/x', username: Alertmanager, icon_emoji: ':fire:'}]").targets[0] as SlackTarget;
      expect(target).to.include({ username: 'Alertmanager', icon_emoji: ':fire:' });
      expect(() => config("targets: [{name: s, type: slack, webhook_url: 'https://h.example/x', icon_emoji: fire}]")).to.throw(/target "s": icon_emoji: must match pattern/);
      expect(() => config("targets: [{name: s, type: slack, webhook_url: 'https://h.example/x', icon_url: am.png}]")).to.throw(/target "s": icon_url: must match pattern/);
    });
  });

  describe('Web API responses', () => {
    it('treats HTTP 200 with ok:false as a failure and remembers nothing', async () => {
      const { outcome, deps } = await viaApi(fixture(), () => ({ body: { ok: false, error: 'not_in_channel' } }));
      expect(outcome).to.deep.equal({ ok: false, retryable: false, reason: 'clientError', status: 200, message: 'chat.postMessage: not_in_channel' });
      expect(deps.state.entries.size).to.equal(0);
    });

    const cases: Array<[string, boolean, string]> = [
      ['ratelimited', true, 'rateLimited'],
      ['rate_limited', true, 'rateLimited'],
      ['internal_error', true, 'serverError'],
      ['service_unavailable', true, 'serverError'],
      ['request_timeout', true, 'serverError'],
      ['fatal_error', true, 'serverError'],
      ['invalid_auth', false, 'authError'],
      ['token_revoked', false, 'authError'],
      ['missing_scope', false, 'authError'],
      ['channel_not_found', false, 'clientError'],
      ['is_archived', false, 'clientError'],
      ['invalid_blocks', false, 'clientError'],
      ['msg_blocks_too_long', false, 'clientError'],
    ];
    for (const [error, retryable, reason] of cases) {
      it(`${retryable ? 'retries' : 'gives up on'} ok:false ${error}`, async () => {
        const { outcome } = await viaApi(fixture(), () => ({ body: { ok: false, error } }));
        expect(outcome).to.include({ ok: false, retryable, reason, status: 200 });
      });
    }

    it('retries an HTTP 429 after its Retry-After', async () => {
      const { outcome } = await viaApi(fixture(), () => ({ status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '2' } }));
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: 2000, message: 'unexpected status code 429: ratelimited' });
    });

    it('retries a 5xx from the edge', async () => {
      const { outcome } = await viaApi(fixture(), () => ({ status: 503, body: '<html>upstream</html>' }));
      expect(outcome).to.include({ ok: false, retryable: true, reason: 'serverError', status: 503 });
    });

    it('gives up on a 200 that is not JSON (api_url points at something else)', async () => {
      const { outcome } = await viaApi(fixture(), () => ({ body: '<html>login</html>' }));
      expect(outcome).to.include({ ok: false, retryable: false, message: 'chat.postMessage: invalid_response' });
    });

    it('logs Slack warnings of an accepted message without the token', async () => {
      const { logger, lines } = capturingLogger();
      const deps = mockDeps();
      deps.logger = logger;
      const warned: Reply = { body: { ok: true, channel: 'C1', ts: TS, warning: 'missing_charset', response_metadata: { warnings: ['superfluous_charset'] } } };
      const { outcome } = await viaApi(fixture(), () => warned, api(), deps);
      expect(outcome.ok).to.equal(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).to.contain('missing_charset');
      expect(lines.join('\n')).not.to.contain(TOKEN);
    });
  });

  describe('secrets and config', () => {
    it('never puts the webhook URL or the token in an outcome or a log, even when a body echoes them', async () => {
      const { logger, lines } = capturingLogger();
      const deps = mockDeps();
      deps.logger = logger;
      const hookOutcome = (await viaHook(fixture(), { status: 404, body: `channel_not_found for ${WEBHOOK_URL}` }, hook(), deps)).outcome;
      const apiOutcome = (await viaApi(fixture(), () => ({ status: 400, body: { ok: false, error: `invalid_auth ${TOKEN}` } }), api(), deps)).outcome;
      for (const outcome of [hookOutcome, apiOutcome]) {
        expect(outcome.ok).to.equal(false);
        expect(JSON.stringify(outcome)).not.to.contain(WEBHOOK_URL);
        expect(JSON.stringify(outcome)).not.to.contain(TOKEN);
        expect(JSON.stringify(outcome)).to.contain('<secret>');
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).not.to.contain(TOKEN);
      expect(lines.join('\n')).not.to.contain(HOOK_PATH);
    });

    it('loads both example configs, with the webhook URL and the token as redacted secrets', () => {
      const cfg = config(
        [
          'targets:',
          '  - name: slack-ops',
          '    type: slack',
          '    webhook_url: ${env:SLACK_WEBHOOK_URL}',
          '  - name: slack-oncall',
          '    type: slack',
          '    token: ${env:SLACK_BOT_TOKEN}',
          '    channel: C0123ABCDEF',
          '    thread_replies: true',
          '    template:',
          '      title: "{{upper status}} {{name}}"',
        ].join('\n'),
        { SLACK_WEBHOOK_URL: WEBHOOK_URL, SLACK_BOT_TOKEN: TOKEN },
      );
      const [webhook, bot] = cfg.targets as SlackTarget[];
      expect(webhook).to.include({ webhook_url: WEBHOOK_URL, api_url: 'https://slack.com/api', thread_replies: false });
      expect(bot).to.include({ token: TOKEN, channel: 'C0123ABCDEF', thread_replies: true });
      expect(cfg.secrets).to.include.members([WEBHOOK_URL, TOKEN]);
      expect(JSON.stringify(cfg.targets.map(redactTarget))).not.to.match(/sEcReT/);
    });

    const bad: Array<[string, string, RegExp]> = [
      ['neither webhook_url nor token', '{name: s, type: slack}', /target "s": missing a required field: one of `webhook_url`, `token`$/m],
      ['a token without a channel', '{name: s, type: slack, token: xoxb-1}', /target "s": must have property channel when property token is present/],
      ['a channel without a token', '{name: s, type: slack, webhook_url: "https://h.example/x", channel: C1}', /target "s": must have property token when property channel is present/],
      ['both webhook_url and token', '{name: s, type: slack, webhook_url: "https://h.example/x", token: xoxb-1, channel: C1}', /target "s": set webhook_url \(incoming webhook\) or token and channel \(Web API\), not both/],
    ];
    for (const [what, target, message] of bad) {
      it(`rejects a slack target with ${what}`, () => {
        expect(() => config(`targets: [${target}]`)).to.throw(message);
      });
    }
  });
});
