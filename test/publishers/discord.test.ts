import { expect } from 'chai';
import { type DiscordMessage, type DiscordTarget } from '../../src/publishers/discord.js';
import { DISCORD_COLORS, DISCORD_LIMITS } from '../../src/publishers/discord-embed.js';
import { createPublisher, redactTarget } from '../../src/publishers/registry.js';
import { alert, config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';
import type { Outcome } from '../../src/publishers/publisher.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const ORIGIN = 'https://discord.com';
const TOKEN = 'kQ3v_SECRET-TOKEN_9xYzA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWxYz0123456789ab';
const PATH = `/api/webhooks/1234567890123456789/${TOKEN}`;
const URL = `${ORIGIN}${PATH}`;

function discord(overrides: Partial<DiscordTarget> = {}): DiscordTarget {
  return { name: 'discord-ops', type: 'discord', enabled: true, match: [], send_resolved: true, webhook_url: URL, ...overrides };
}

/** Publish `msg` to a Discord double that answers `status`/`body`; returns the outcome and the body it saw. */
async function publish(
  msg: WebhookMessage = fixture(),
  reply: { status?: number; body?: string; headers?: Record<string, string> } = {},
  target = discord(),
): Promise<{ outcome: Outcome; sent: DiscordMessage; path: string }> {
  const deps = mockDeps();
  const seen: { body?: string; path?: string } = {};
  deps.agent
    .get(ORIGIN)
    .intercept({ path: PATH, method: 'POST', headers: { 'content-type': 'application/json' } })
    .reply((opts) => {
      Object.assign(seen, { body: String(opts.body), path: opts.path });
      return { statusCode: reply.status ?? 204, data: reply.body ?? '', responseOptions: { headers: reply.headers ?? {} } };
    });
  const outcome = await createPublisher(target, deps).publish(targetMessage(msg), ctx());
  deps.agent.assertNoPendingInterceptors();
  return { outcome, sent: JSON.parse(seen.body ?? 'null') as DiscordMessage, path: seen.path ?? '' };
}

/** Characters Discord counts toward the 6000 total of a message's embeds. */
function embedChars(sent: DiscordMessage): number {
  return sent.embeds.reduce((n, e) => n + e.title.length + e.description.length + e.fields.reduce((m, f) => m + f.name.length + f.value.length, 0), 0);
}

describe('discord publisher (channel webhook, embeds)', () => {
  describe('the message', () => {
    it('posts a firing group as one dark red embed with title, text, fields and links', async () => {
      const { outcome, sent, path } = await publish();
      expect(outcome).to.deep.equal({ ok: true, status: 204 });
      expect(path).to.equal(PATH);
      expect(sent).to.have.all.keys('allowed_mentions', 'embeds');
      expect(sent.embeds).to.deep.equal([
        {
          title: '[FIRING:2] TestAlert (critical)',
          description: '🔥 test summary\ninstance=host1 severity=critical\n\n🔥 test summary\ninstance=host2 severity=warning',
          color: 0x992d22,
          timestamp: '2026-11-22T22:18:13.277Z',
          fields: [
            { name: 'Severity', value: 'critical', inline: true },
            { name: 'Firing', value: '2', inline: true },
            { name: 'Resolved', value: '0', inline: true },
            { name: 'alertname', value: 'TestAlert', inline: true },
            { name: 'Links', value: '[Source](http://prom.example/graph)' },
          ],
        },
      ]);
    });

    it('posts a resolved group as a green embed stamped with the end time', async () => {
      const { sent } = await publish(fixture('am025-all-resolved.json'));
      const embed = sent.embeds[0]!;
      expect(embed.title).to.equal('[RESOLVED] DiskFull node (critical)');
      expect(embed.color).to.equal(DISCORD_COLORS.resolved).and.to.equal(0x2ecc71);
      expect(embed.timestamp).to.equal('2026-11-22T23:02:21.264Z');
      expect(embed.description).to.match(/^✅ Disk almost full on db-1:9100\n/);
      expect(embed.fields).to.deep.include({ name: 'Resolved', value: '2', inline: true });
      expect(embed.fields.at(-1)).to.deep.equal({
        name: 'Links',
        value:
          '[Runbook](https://runbooks.example.internal/disk-full) · [Source](http://prometheus.example.internal:9090/graph?g0.expr=node_filesystem_avail_bytes+%2F+node_filesystem_size_bytes+%3C+0.05)',
      });
    });

    it('sets username and avatar_url when configured', async () => {
      const { sent } = await publish(fixture(), {}, discord({ username: 'Alertmanager', avatar_url: 'https://example.com/am.png' }));
      expect(sent).to.include({ username: 'Alertmanager', avatar_url: 'https://example.com/am.png' });
    });

    it('renders the per-target Handlebars template for the title and the text', async () => {
      const target = discord({ template: { title: '{{name}} is {{status}}', text: '{{#each alerts}}- {{labels.instance}}\n{{/each}}' } });
      const { sent } = await publish(fixture(), {}, target);
      expect(sent.embeds[0]).to.include({ title: 'TestAlert is firing', description: '- host1\n- host2' });
    });

    it('always sends allowed_mentions {parse: []} so alert text cannot ping anyone', async () => {
      const msg = fixture();
      msg.alerts[0]!.annotations['summary'] = '@everyone @here <@&123456789012345678> <@987654321098765432> is down';
      for (const target of [discord(), discord({ template: { title: '@everyone', text: '@here {{commonLabels.alertname}}' } })]) {
        const { sent } = await publish(msg, {}, target);
        expect(sent.allowed_mentions).to.deep.equal({ parse: [] });
        expect(sent).not.to.have.property('content');
      }
    });
  });

  describe('limits', () => {
    function hugeGroup(n: number): WebhookMessage {
      const common: Record<string, string> = { alertname: 'HighLatency', severity: 'critical', service: 'api' };
      for (let i = 0; i < 40; i++) common[`label_${i}`] = 'v'.repeat(2_000);
      const alerts = Array.from({ length: n }, (_, i) =>
        alert(
          { ...common, instance: `api-${i}:8080` },
          {
            annotations: { summary: `p99 latency above 2s on api-${i}`, description: 'd'.repeat(700), runbook_url: `https://runbooks.example.com/${'r'.repeat(300)}/${i}` },
            fingerprint: `f${i}`,
          },
        ),
      );
      return { ...fixture(), alerts, commonLabels: common, groupLabels: { alertname: 'HighLatency' } };
    }

    it('keeps a huge group within every embed limit and says how many alerts were left out', async () => {
      const { sent } = await publish(hugeGroup(300));
      expect(sent.embeds.length).to.be.within(1, DISCORD_LIMITS.embeds);
      const embed = sent.embeds[0]!;
      expect(embed.title.length).to.be.at.most(DISCORD_LIMITS.title);
      expect(embed.description.length).to.be.at.most(DISCORD_LIMITS.description);
      expect(embed.fields.length).to.be.at.most(DISCORD_LIMITS.fields);
      for (const f of embed.fields) {
        expect(f.name.length).to.be.within(1, DISCORD_LIMITS.fieldName);
        expect(f.value.length).to.be.within(1, DISCORD_LIMITS.fieldValue);
      }
      expect(embedChars(sent)).to.be.at.most(DISCORD_LIMITS.total);
      const shown = embed.description.match(/🔥 p99 latency/g)?.length ?? 0;
      expect(shown).to.be.at.least(1);
      expect(embed.description).to.match(new RegExp(`\\n\\n…and ${300 - shown} more$`));
      expect(embed.title).to.equal('[FIRING:300] HighLatency api (critical)');
      expect(embed.fields.at(-1)!.name).to.equal('Links');
    });

    /** Every documented embed limit (docs.discord.com, embed limits): per field, per embed, and 6000 in total. */
    function expectWithinLimits(sent: DiscordMessage) {
      expect(sent.embeds.length).to.be.within(1, DISCORD_LIMITS.embeds);
      for (const embed of sent.embeds) {
        expect(embed.title.length).to.be.within(1, DISCORD_LIMITS.title);
        expect(embed.description.length).to.be.at.most(DISCORD_LIMITS.description);
        expect(embed.fields.length).to.be.at.most(DISCORD_LIMITS.fields);
        for (const f of embed.fields) {
          expect(f.name.length).to.be.within(1, DISCORD_LIMITS.fieldName);
          expect(f.value.length).to.be.within(1, DISCORD_LIMITS.fieldValue);
        }
      }
      expect(embedChars(sent)).to.be.at.most(DISCORD_LIMITS.total);
    }

    const diskFull = (description: string, labels: Record<string, string> = {}) =>
      alert({ alertname: 'DiskFull', severity: 'critical', ...labels }, { annotations: { summary: 'Disk full on db-1', description }, fingerprint: 'f0' });

    it('cuts a single alert longer than the description limit, keeping its summary and the start of its description', async () => {
      const msg = { ...fixture(), alerts: [diskFull(`Disk /var on db-1 is full. ${'x'.repeat(10_000)}`)] };
      const { sent } = await publish(msg);
      expectWithinLimits(sent);
      const embed = sent.embeds[0]!;
      expect(embed.description).to.have.length(DISCORD_LIMITS.description); // as much as the limit allows
      expect(embed.description).to.match(/^🔥 Disk full on db-1\nDisk \/var on db-1 is full\. x+…$/);
      expect(embed.description).not.to.contain('more');
    });

    it('cuts a single alert to what the 6000 total leaves when the fields are long', async () => {
      const group = hugeGroup(1);
      const msg = { ...group, alerts: [diskFull(`Disk /var on db-1 is full. ${'x'.repeat(10_000)}`, group.commonLabels)] };
      const { sent } = await publish(msg);
      expectWithinLimits(sent);
      const embed = sent.embeds[0]!;
      expect(embedChars(sent)).to.be.above(DISCORD_LIMITS.total - 50); // the total is used, not left empty
      expect(embed.description).to.match(/^🔥 Disk full on db-1\nDisk \/var on db-1 is full\. x+…$/);
    });

    it('cuts the first alert when it alone is too long, and counts the others', async () => {
      const alerts = [0, 1, 2].map((i) => ({ ...diskFull('x'.repeat(10_000), { instance: `db-${i}` }), fingerprint: `f${i}` }));
      const { sent } = await publish({ ...fixture(), alerts });
      expectWithinLimits(sent);
      expect(sent.embeds[0]!.description).to.match(/^🔥 Disk full on db-1\nx+…\n\n…and 2 more$/);
    });

    it('cuts a custom title and text to the title, description and total limits', async () => {
      const msg = { ...fixture(), commonAnnotations: { description: 'y'.repeat(10_000) } };
      const target = discord({ template: { title: 't'.repeat(1_000), text: '{{commonAnnotations.description}}' } });
      const { sent } = await publish(msg, {}, target);
      const embed = sent.embeds[0]!;
      expect(embed.title).to.have.length(DISCORD_LIMITS.title);
      expect(embed.title).to.match(/…$/);
      expect(embed.description).to.have.length(DISCORD_LIMITS.description);
      expect(embedChars(sent)).to.be.at.most(DISCORD_LIMITS.total);
    });
  });

  describe('responses', () => {
    for (const status of [204, 200]) {
      it(`counts ${status} as delivered`, async () => {
        const { outcome } = await publish(fixture(), { status, body: status === 200 ? '{"id":"1"}' : '' });
        expect(outcome).to.deep.equal({ ok: true, status });
      });
    }

    it('retries a 429 after the body\'s fractional retry_after', async () => {
      const body = JSON.stringify({ message: 'You are being rate limited.', retry_after: 1.5, global: false });
      const { outcome } = await publish(fixture(), { status: 429, body, headers: { 'retry-after': '2', 'content-type': 'application/json' } });
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: 1_500 });
      expect(outcome).to.have.property('message').that.contains('You are being rate limited.');
    });

    it('retries a 429 after the Retry-After header when the body has no retry_after', async () => {
      const { outcome } = await publish(fixture(), { status: 429, body: '<html>Cloudflare</html>', headers: { 'retry-after': '7' } });
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', retryAfterMs: 7_000 });
    });

    for (const status of [500, 502, 503]) {
      it(`retries a ${status}`, async () => {
        const { outcome } = await publish(fixture(), { status, body: '' });
        expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'serverError', status });
      });
    }

    it('gives up on a 400 and names the invalid field', async () => {
      const body = JSON.stringify({
        code: 50035,
        message: 'Invalid Form Body',
        errors: { embeds: { 0: { description: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 4096 or fewer in length.' }] } } } },
      });
      const { outcome } = await publish(fixture(), { status: 400, body });
      expect(outcome).to.deep.include({
        ok: false,
        retryable: false,
        reason: 'clientError',
        status: 400,
        message: 'unexpected status code 400: Invalid Form Body (code 50035): embeds.0.description: Must be 4096 or fewer in length.',
      });
    });

    for (const [status, reason, body] of [
      [401, 'authError', '{"message": "401: Unauthorized", "code": 0}'],
      [403, 'authError', '{"message": "Missing Access", "code": 50001}'],
      [404, 'clientError', '{"message": "Unknown Webhook", "code": 10015}'],
    ] as const) {
      it(`gives up on a ${status} with Discord's message`, async () => {
        const { outcome } = await publish(fixture(), { status, body });
        expect(outcome).to.deep.include({ ok: false, retryable: false, reason, status });
        expect(outcome).to.have.property('message').that.contains((JSON.parse(body) as { message: string }).message);
      });
    }

    it('retries a network error', async () => {
      const deps = mockDeps();
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).replyWithError(new Error('socket hang up'));
      const outcome = await createPublisher(discord(), deps).publish(targetMessage(), ctx());
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'network' });
    });
  });

  describe('secrets', () => {
    it('loads from config with the webhook URL as a secret that is redacted when shown', () => {
      const loaded = config('targets:\n  - {name: discord-ops, type: discord, webhook_url: "${env:DISCORD_WEBHOOK_URL}", username: alertmux}\n', {
        DISCORD_WEBHOOK_URL: URL,
      });
      expect(loaded.targets[0]).to.deep.include({ type: 'discord', webhook_url: URL, username: 'alertmux' });
      expect(loaded.secrets).to.include(URL);
      expect(JSON.stringify(redactTarget(loaded.targets[0]!))).not.to.contain(TOKEN);
    });

    it('never puts the webhook URL or its token in an outcome, even when the vendor echoes them', async () => {
      const echo = `Unknown Webhook ${URL} token ${TOKEN}`;
      const outcomes = [
        (await publish(fixture(), { status: 404, body: JSON.stringify({ message: echo, code: 10015 }) })).outcome,
        (await publish(fixture(), { status: 502, body: echo })).outcome,
      ];
      outcomes.push(await createPublisher(discord(), mockDeps()).publish(targetMessage(), ctx())); // nothing intercepted
      for (const outcome of outcomes) {
        expect(outcome.ok).to.equal(false);
        const text = JSON.stringify(outcome);
        expect(text).not.to.contain(TOKEN);
        expect(text).not.to.contain(URL);
      }
    });
  });
});
