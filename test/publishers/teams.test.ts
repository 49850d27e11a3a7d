import { expect } from 'chai';
import { type TeamsTarget } from '../../src/publishers/teams.js';
import { ADAPTIVE_CARD_VERSION, TEAMS_MAX_ACTIONS, TEAMS_MAX_MESSAGE_BYTES, teamsMessage, type TeamsMessage } from '../../src/publishers/teams-card.js';
import { compileMessage } from '../../src/publishers/templates.js';
import { versionProblems } from './adaptive-card-versions.js';
import { createPublisher, redactTarget } from '../../src/publishers/registry.js';
import { alert, config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';
import type { MockAgent } from 'undici';
import type { Outcome } from '../../src/publishers/publisher.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const ORIGIN = 'https://prod-12.westeurope.logic.azure.com';
const PATH = '/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke';
const SIG = 'Zx9q-SECRET-sig-4kPq7wLm2VbN8rT0yUe3iOa';
const QUERY = `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${SIG}`;
const URL = `${ORIGIN}${PATH}${QUERY}`;

function teams(overrides: Partial<TeamsTarget> = {}): TeamsTarget {
  return { name: 'teams-ops', type: 'teams', enabled: true, match: [], send_resolved: true, webhook_url: URL, ...overrides };
}

/** Publish `msg` to a Teams double that answers `status`/`body`; returns the outcome and the request it saw. */
async function publish(
  msg: WebhookMessage = fixture(),
  reply: { status?: number; body?: string; headers?: Record<string, string> } = {},
  target = teams(),
): Promise<{ outcome: Outcome; sent: TeamsMessage; path: string; headers: Record<string, string>; agent: MockAgent }> {
  const deps = mockDeps();
  const seen: { body?: string; path?: string; headers?: Record<string, string> } = {};
  deps.agent
    .get(ORIGIN)
    .intercept({ path: (p) => p.startsWith(PATH), method: 'POST' })
    .reply((opts) => {
      Object.assign(seen, { body: String(opts.body), path: opts.path, headers: opts.headers as Record<string, string> });
      return { statusCode: reply.status ?? 202, data: reply.body ?? '', responseOptions: { headers: reply.headers ?? {} } };
    });
  const outcome = await createPublisher(target, deps).publish(targetMessage(msg), ctx());
  deps.agent.assertNoPendingInterceptors();
  return { outcome, sent: JSON.parse(seen.body ?? 'null') as TeamsMessage, path: seen.path ?? '', headers: seen.headers ?? {}, agent: deps.agent };
}

/** A group of `n` firing alerts, each with a long description. */
function hugeGroup(n: number, descriptionLength = 600): WebhookMessage {
  const alerts = Array.from({ length: n }, (_, i) =>
    alert(
      { alertname: 'HighLatency', severity: 'critical', service: 'api', instance: `api-${i}:8080` },
      { annotations: { summary: `p99 latency above 2s on api-${i}`, description: 'x'.repeat(descriptionLength) }, fingerprint: `f${i}` },
    ),
  );
  return { ...fixture(), alerts, commonLabels: { alertname: 'HighLatency', severity: 'critical', service: 'api' }, groupLabels: { alertname: 'HighLatency' } };
}

describe('teams publisher (Workflows webhook, Adaptive Card)', () => {
  describe('the message', () => {
    it('posts a firing group as an Adaptive Card 1.2 inside a "message" envelope to the workflow URL', async () => {
      const { outcome, sent, path, headers } = await publish();
      expect(outcome).to.deep.equal({ ok: true, status: 202 });
      expect(path).to.equal(`${PATH}${QUERY}`);
      expect(headers['content-type']).to.equal('application/json');
      expect(sent.type).to.equal('message');
      expect(sent.attachments).to.have.length(1);
      const attachment = sent.attachments[0]!;
      expect(attachment.contentType).to.equal('application/vnd.microsoft.card.adaptive');
      expect(attachment.contentUrl).to.equal(null);
      expect(attachment.content).to.include({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.2' });
      expect(attachment.content.msteams).to.deep.equal({ width: 'full' });
    });

    it('colours the heading Attention for firing and shows the text, facts and links', async () => {
      const { sent } = await publish();
      const { body, actions } = sent.attachments[0]!.content;
      expect(body[0]).to.deep.equal({
        type: 'TextBlock',
        text: '[FIRING:2] TestAlert (critical)',
        weight: 'Bolder',
        size: 'Medium',
        wrap: true,
        color: 'Attention',
      });
      expect(body[1]).to.deep.equal({
        type: 'TextBlock',
        text: '🔥 test summary\ninstance=host1 severity=critical\n\n🔥 test summary\ninstance=host2 severity=warning',
        wrap: true,
      });
      expect(body[2]).to.deep.equal({
        type: 'FactSet',
        facts: [
          { title: 'Severity', value: 'critical' },
          { title: 'Firing', value: '2' },
          { title: 'Resolved', value: '0' },
          { title: 'alertname', value: 'TestAlert' },
        ],
      });
      expect(actions).to.deep.equal([{ type: 'Action.OpenUrl', title: 'Source', url: 'http://prom.example/graph' }]);
    });

    it('posts a new card coloured Good for a resolved group, with the runbook link', async () => {
      const { outcome, sent } = await publish(fixture('am025-all-resolved.json'));
      expect(outcome.ok).to.equal(true);
      const { body, actions } = sent.attachments[0]!.content;
      expect(body[0]).to.include({ text: '[RESOLVED] DiskFull node (critical)', color: 'Good' });
      expect(body[1]!['text']).to.match(/^✅ Disk almost full on db-1:9100\nFilesystem \/var has less than 5% space left\./);
      expect(body[2]!['facts']).to.deep.include.members([
        { title: 'Firing', value: '0' },
        { title: 'Resolved', value: '2' },
        { title: 'job', value: 'node' },
      ]);
      expect(actions?.map((a) => a.title)).to.deep.equal(['Runbook', 'Source']);
      expect(actions?.[0]).to.deep.equal({ type: 'Action.OpenUrl', title: 'Runbook', url: 'https://runbooks.example.internal/disk-full' });
    });

    it('renders the per-target Handlebars template for the title and the text', async () => {
      const target = teams({ template: { title: '{{upper status}}: {{name}} x{{numFiring}}', text: '{{#each alerts}}{{labels.instance}};{{/each}}' } });
      const { sent } = await publish(fixture(), {}, target);
      const { body } = sent.attachments[0]!.content;
      expect(body[0]!['text']).to.equal('FIRING: TestAlert x2');
      expect(body[1]!['text']).to.equal('host1;host2;');
    });

    it('keeps a huge group under the 28 KB message limit by dropping alerts from the text', async () => {
      const { sent } = await publish(hugeGroup(400));
      const size = Buffer.byteLength(JSON.stringify(sent), 'utf8');
      expect(size).to.be.at.most(TEAMS_MAX_MESSAGE_BYTES);
      expect(size).to.be.above(TEAMS_MAX_MESSAGE_BYTES - 2_000); // it keeps as many alerts as fit, not a few
      const { body } = sent.attachments[0]!.content;
      expect(body[0]!['text']).to.equal('[FIRING:400] HighLatency api (critical)');
      const text = String(body[1]!['text']);
      const shown = text.match(/🔥 p99 latency/g)?.length ?? 0;
      expect(shown).to.be.within(10, 399);
      expect(text).to.match(new RegExp(`\\n\\n…and ${400 - shown} more$`));
      expect(text).to.contain('🔥 p99 latency above 2s on api-0\n'); // whole alerts, the first ones kept
    });

    it('cuts a single alert larger than 28 KB inside the limit, keeping its summary and the start of its description', async () => {
      const description = `Disk /var on db-1 is full. ${'x'.repeat(40_000)}`;
      const msg = { ...hugeGroup(1), alerts: [alert({ alertname: 'DiskFull', severity: 'critical' }, { annotations: { summary: 'Disk full on db-1', description } })] };
      const { sent } = await publish(msg);
      const size = Buffer.byteLength(JSON.stringify(sent), 'utf8');
      expect(size).to.be.at.most(TEAMS_MAX_MESSAGE_BYTES);
      expect(size).to.be.above(TEAMS_MAX_MESSAGE_BYTES - 100); // as much of the alert as fits
      const text = String(sent.attachments[0]!.content.body[1]!['text']);
      expect(text).to.match(/^🔥 Disk full on db-1\nDisk \/var on db-1 is full\. x+…$/);
      expect(text).not.to.contain('more');
    });

    it('cuts the first alert when it alone is too large, and counts the rest', async () => {
      const msg = hugeGroup(3, 40_000);
      const { sent } = await publish(msg);
      expect(Buffer.byteLength(JSON.stringify(sent), 'utf8')).to.be.at.most(TEAMS_MAX_MESSAGE_BYTES);
      expect(String(sent.attachments[0]!.content.body[1]!['text'])).to.match(/^🔥 p99 latency above 2s on api-0\nx+…\n\n…and 2 more$/);
    });

    it('cuts a single oversize alert of multi-byte text by bytes, never splitting a surrogate pair', async () => {
      const msg = { ...hugeGroup(1), alerts: [alert({ alertname: 'X' }, { annotations: { summary: 'emoji storm', description: '🔥'.repeat(20_000) } })] };
      const { sent } = await publish(msg);
      expect(Buffer.byteLength(JSON.stringify(sent), 'utf8')).to.be.at.most(TEAMS_MAX_MESSAGE_BYTES);
      const text = String(sent.attachments[0]!.content.body[1]!['text']);
      expect(text).to.match(/^🔥 emoji storm\n(🔥)+…$/u);
    });

    it('declares Adaptive Card 1.2 and uses nothing newer (every element, property and value checked against the schema versions)', async () => {
      const groups = [fixture(), fixture('am025-all-resolved.json'), hugeGroup(400), hugeGroup(1, 40_000)];
      for (const group of groups) {
        const { sent } = await publish(group);
        const card = sent.attachments[0]!.content;
        expect(card.version).to.equal(ADAPTIVE_CARD_VERSION).and.to.equal('1.2');
        expect(versionProblems(card as unknown as Record<string, unknown>)).to.deep.equal([]);
      }
    });

    it('the version check catches what 1.2 lacks (style: heading is 1.5)', () => {
      const card = { type: 'AdaptiveCard', version: '1.2', body: [{ type: 'TextBlock', text: 'x', style: 'heading' }, { type: 'Table', columns: [], rows: [] }] };
      expect(versionProblems(card)).to.deep.equal([
        'card.body[0].style: needs 1.5',
        'card.body[0].style: heading needs 1.5',
        'card.body[1]: Table needs 1.5',
        'card.body[1].columns: needs 1.5',
        'card.body[1].rows: needs 1.5',
      ]);
      expect(versionProblems({ ...card, version: '1.5' })).to.deep.equal([]);
    });

    it(`shows at most ${TEAMS_MAX_ACTIONS} link buttons, the number Teams renders`, () => {
      // Five alerts with their own runbook and source: ten distinct links.
      const alerts = Array.from({ length: 5 }, (_, i) =>
        alert({ alertname: 'X', i: String(i) }, { annotations: { runbook_url: `https://runbooks.example/${i}` }, generatorURL: `https://prom.example/${i}`, fingerprint: `f${i}` }),
      );
      const card = teamsMessage({ ...fixture(), alerts }, compileMessage(undefined, () => undefined)).attachments[0]!.content;
      expect(card.actions).to.have.length(TEAMS_MAX_ACTIONS);
      expect(card.actions?.[0]).to.include({ title: 'Runbook' });
    });

    it('cuts a custom text that ignores the alerts when it alone is too large', async () => {
      const msg = { ...fixture(), commonAnnotations: { description: 'é"'.repeat(20_000) } };
      const { sent } = await publish(msg, {}, teams({ template: { text: '{{commonAnnotations.description}}' } }));
      const size = Buffer.byteLength(JSON.stringify(sent), 'utf8');
      expect(size).to.be.at.most(TEAMS_MAX_MESSAGE_BYTES);
      expect(size).to.be.above(TEAMS_MAX_MESSAGE_BYTES - 100);
      expect(String(sent.attachments[0]!.content.body[1]!['text'])).to.match(/…$/);
    });
  });

  describe('responses', () => {
    for (const [status, body] of [[202, ''], [200, '1'], [200, ''], [204, '']] as const) {
      it(`counts ${status} with body ${JSON.stringify(body)} as delivered`, async () => {
        const { outcome } = await publish(fixture(), { status, body });
        expect(outcome).to.deep.equal({ ok: true, status });
      });
    }

    it('retries a 429 and honours Retry-After', async () => {
      const { outcome } = await publish(fixture(), { status: 429, body: '', headers: { 'retry-after': '30' } });
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: 30_000 });
    });

    for (const status of [500, 502, 503]) {
      it(`retries a ${status}`, async () => {
        const { outcome } = await publish(fixture(), { status, body: 'upstream failed' });
        expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'serverError', status });
      });
    }

    it('gives up on a 400 and shows the workflow error', async () => {
      const body = JSON.stringify({ error: { code: 'InvalidRequestContent', message: 'The input body for trigger manual of type Request did not match its schema definition.' } });
      const { outcome } = await publish(fixture(), { status: 400, body });
      expect(outcome).to.deep.include({ ok: false, retryable: false, reason: 'clientError', status: 400 });
      expect(outcome).to.have.property('message').that.contains('InvalidRequestContent: The input body for trigger manual');
    });

    for (const [status, reason] of [[401, 'authError'], [403, 'authError'], [404, 'clientError']] as const) {
      it(`gives up on a ${status} (${reason})`, async () => {
        const { outcome } = await publish(fixture(), { status, body: '{"error":{"code":"WorkflowTriggerNotFound","message":"gone"}}' });
        expect(outcome).to.deep.include({ ok: false, retryable: false, reason, status });
      });
    }

    describe('legacy connectors (HTTP 200 with an error text)', () => {
      const legacy = (code: number) =>
        `Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error ${code} with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0..`;

      it('retries a 200 that says HTTP error 429', async () => {
        const { outcome } = await publish(fixture(), { status: 200, body: legacy(429) });
        expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', status: 200 });
        expect(outcome).to.have.property('message').that.contains('HTTP error 429');
      });

      it('retries a 200 that says HTTP error 502', async () => {
        const { outcome } = await publish(fixture(), { status: 200, body: legacy(502) });
        expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'serverError' });
      });

      it('gives up on a 200 that says HTTP error 413 (card too large)', async () => {
        const { outcome } = await publish(fixture(), { status: 200, body: legacy(413) });
        expect(outcome).to.deep.include({ ok: false, retryable: false, reason: 'clientError' });
      });

      it('counts a 200 with another text that names no HTTP error as delivered', async () => {
        const { outcome } = await publish(fixture(), { status: 200, body: 'accepted' });
        expect(outcome).to.deep.equal({ ok: true, status: 200 });
      });
    });

    it('retries a network error', async () => {
      const deps = mockDeps();
      deps.agent.get(ORIGIN).intercept({ path: (p) => p.startsWith(PATH), method: 'POST' }).replyWithError(new Error('socket hang up'));
      const outcome = await createPublisher(teams(), deps).publish(targetMessage(), ctx());
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'network' });
    });
  });

  describe('secrets', () => {
    it('loads from config with the workflow URL as a secret that is redacted when shown', () => {
      const loaded = config('targets:\n  - {name: teams-ops, type: teams, webhook_url: "${env:TEAMS_WEBHOOK_URL}"}\n', { TEAMS_WEBHOOK_URL: URL });
      expect(loaded.targets[0]).to.deep.include({ type: 'teams', webhook_url: URL, send_resolved: true });
      expect(loaded.secrets).to.include(URL);
      expect(JSON.stringify(redactTarget(loaded.targets[0]!))).not.to.contain(SIG);
    });

    it('never puts the workflow URL or its signature in an outcome, even when the vendor echoes them', async () => {
      const echo = `workflow ${URL} rejected signature sig=${SIG} for ${PATH}`;
      const outcomes = [
        (await publish(fixture(), { status: 400, body: echo })).outcome,
        (await publish(fixture(), { status: 200, body: `HTTP error 429 at ${URL}` })).outcome,
        (await publish(fixture(), { status: 503, body: JSON.stringify({ error: { code: 'x', message: echo } }) })).outcome,
      ];
      const deps = mockDeps(); // nothing intercepted: the request fails before reaching anyone
      outcomes.push(await createPublisher(teams(), deps).publish(targetMessage(), ctx()));
      for (const outcome of outcomes) {
        expect(outcome.ok).to.equal(false);
        const text = JSON.stringify(outcome);
        expect(text).not.to.contain(SIG);
        expect(text).not.to.contain(ORIGIN + PATH);
        expect(text).not.to.contain(PATH);
      }
    });
  });
});
