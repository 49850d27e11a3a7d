import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { parseConfig } from '../../src/config/load.js';
import { createPublisher, redactTarget } from '../../src/publishers/registry.js';
import { type PagerDutyTarget } from '../../src/publishers/pagerduty.js';
import { DETAILS_REMOVED, MAX_EVENT_BYTES, toSeverity, type PagerDutySeverity } from '../../src/publishers/pagerduty-event.js';
import { alert, config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';
import type { Logger } from '../../src/observability/logger.js';
import type { Outcome } from '../../src/publishers/publisher.js';

const ORIGIN = 'https://events.pagerduty.com';
const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> };
type Sent = Record<string, unknown> & { payload?: Record<string, unknown> & { custom_details: Record<string, unknown> } };

function pagerduty(overrides: Partial<PagerDutyTarget> = {}): PagerDutyTarget {
  return {
    name: 'pd-oncall',
    type: 'pagerduty',
    enabled: true,
    match: [],
    send_resolved: true,
    routing_key: ROUTING_KEY,
    url: `${ORIGIN}/v2/enqueue`,
    dedup: 'per_group',
    severity_label: 'severity',
    default_severity: 'error',
    source_label: 'instance',
    component_label: 'service',
    group_label: 'job',
    class_label: 'alertname',
    client: 'alertmux',
    images: [],
    ...overrides,
  };
}

/** A logger that keeps every line it is given, to check that no secret reaches a log. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { logger: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
}

/** Publish `msg` to a PagerDuty double that answers each request with the next reply (the last one repeats). */
async function publish(msg: WebhookMessage = fixture(), replies: Reply[] = [{}], target = pagerduty(), logger?: Logger) {
  const deps = mockDeps();
  if (logger) deps.logger = logger;
  const sent: Sent[] = [];
  const raw: string[] = [];
  deps.agent
    .get(ORIGIN)
    .intercept({ path: '/v2/enqueue', method: 'POST', headers: { 'content-type': 'application/json' } })
    .reply((opts) => {
      raw.push(String(opts.body));
      sent.push(JSON.parse(String(opts.body)) as Sent);
      const r = replies[Math.min(sent.length - 1, replies.length - 1)] ?? {};
      const body = r.body ?? { status: 'success', message: 'Event processed', dedup_key: 'k' };
      return { statusCode: r.status ?? 202, data: typeof body === 'string' ? body : JSON.stringify(body), responseOptions: { headers: r.headers ?? {} } };
    })
    .persist();
  const outcome: Outcome = await createPublisher(target, deps).publish(targetMessage(msg), ctx());
  return { outcome, sent, raw };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('pagerduty publisher (Events API v2)', () => {
  describe('the events', () => {
    it('triggers one event per group keyed by sha256 of the group key, as Alertmanager', async () => {
      const { outcome, sent } = await publish();
      expect(outcome).to.deep.equal({ ok: true, status: 202 });
      expect(sent).to.have.length(1);
      expect(sent[0]).to.deep.equal({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: sha256('{}:{alertname="TestAlert"}'),
        payload: {
          summary: '[FIRING:2] TestAlert (critical): test summary',
          source: 'host1, host2',
          severity: 'critical',
          timestamp: '2026-11-22T22:18:13.254Z',
          class: 'TestAlert',
          custom_details: {
            num_firing: 2,
            num_resolved: 0,
            firing: [
              {
                labels: { alertname: 'TestAlert', instance: 'host1', severity: 'critical' },
                annotations: { summary: 'test summary' },
                startsAt: '2026-11-22T22:18:13.254673666Z',
                generatorURL: 'http://prom.example/graph',
                fingerprint: '8da91e293e4015b0',
              },
              {
                labels: { alertname: 'TestAlert', instance: 'host2', severity: 'warning' },
                annotations: { summary: 'test summary' },
                startsAt: '2026-11-22T22:18:13.27745005Z',
                fingerprint: '945835884ab18d06',
              },
            ],
            resolved: [],
          },
        },
        client: 'alertmux',
        client_url: 'http://127.0.0.1:19093',
        links: [{ href: 'http://prom.example/graph', text: 'Source' }],
      });
    });

    it('resolves with the same dedup_key and nothing but the key when the whole group is resolved', async () => {
      const firing = await publish(fixture('am025-grouped-firing.json'));
      const resolved = await publish(fixture('am025-all-resolved.json'));
      expect(resolved.outcome).to.deep.equal({ ok: true, status: 202 });
      expect(resolved.sent).to.deep.equal([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: sha256('{}:{alertname="DiskFull"}') }]);
      expect(resolved.sent[0]!['dedup_key']).to.equal(firing.sent[0]!['dedup_key']);
    });

    it('keeps triggering while one alert of the group still fires, listing both kinds', async () => {
      const { sent } = await publish(fixture('am025-mixed-firing-resolved.json'));
      expect(sent[0]).to.include({ event_action: 'trigger' });
      const details = sent[0]!.payload!.custom_details;
      expect(details['num_firing']).to.equal((details['firing'] as unknown[]).length).and.to.be.above(0);
      expect(details['num_resolved']).to.equal((details['resolved'] as unknown[]).length).and.to.be.above(0);
      expect((details['resolved'] as Array<Record<string, unknown>>)[0]).to.have.property('endsAt');
    });

    it('takes source, component, group and class from the configured labels', async () => {
      const msg = { ...fixture('am025-grouped-firing.json') };
      msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, service: 'storage', team: 'db' } }));
      const target = pagerduty({ source_label: 'mountpoint', component_label: 'service', group_label: 'team', class_label: 'job' });
      const { sent } = await publish(msg, [{}], target);
      expect(sent[0]!.payload).to.include({ source: '/var', component: 'storage', group: 'db', class: 'node' });
    });

    it('lists the first three values of a label the alerts do not share, and falls back to the client as source', async () => {
      const msg = fixture('am025-grouped-firing.json');
      const many = { ...msg, alerts: ['a', 'b', 'c', 'd', 'e'].map((i) => alert({ alertname: 'X', instance: i })) };
      expect((await publish(many)).sent[0]!.payload!['source']).to.equal('a, b, c and 2 more');
      const none = { ...msg, alerts: [alert({ alertname: 'X' })] };
      const payload = (await publish(none)).sent[0]!.payload!;
      expect(payload).to.include({ source: 'alertmux' });
      expect(payload).not.to.have.any.keys('component', 'group');
    });

    it('links the runbook, the silence page and the source of the alerts', async () => {
      const msg = fixture('am025-grouped-firing.json');
      msg.alerts[0]!.annotations['silence_url'] = 'http://alertmanager.example.internal:9093/#/silences/new';
      const { sent } = await publish(msg);
      expect(sent[0]!['links']).to.deep.equal([
        { href: 'https://runbooks.example.internal/disk-full', text: 'Runbook' },
        { href: 'http://alertmanager.example.internal:9093/#/silences/new', text: 'Silence' },
        { href: msg.alerts[0]!.generatorURL, text: 'Source' },
      ]);
    });

    it('uses client_url from the config over the externalURL', async () => {
      const { sent } = await publish(fixture(), [{}], pagerduty({ client: 'prod-alerts', client_url: 'https://alertmanager.example.com' }));
      expect(sent[0]).to.include({ client: 'prod-alerts', client_url: 'https://alertmanager.example.com' });
    });

    it('cuts the summary to 1024 characters', async () => {
      const msg = fixture('am025-firing-1-firing-noauth.json');
      msg.commonAnnotations = { summary: 'x'.repeat(5000) };
      const summary = (await publish(msg)).sent[0]!.payload!['summary'] as string;
      expect(Array.from(summary)).to.have.length(1024);
      expect(summary.endsWith('…')).to.equal(true);
    });

    it('replaces custom_details with a note, as Alertmanager, when the event would exceed 512 kB', async () => {
      const { logger, lines } = capturingLogger();
      const msg = fixture('am025-firing-1-firing-noauth.json');
      msg.alerts[0]!.annotations['description'] = 'y'.repeat(MAX_EVENT_BYTES);
      const { outcome, sent, raw } = await publish(msg, [{}], pagerduty(), logger);
      expect(outcome.ok).to.equal(true);
      expect(sent[0]!.payload!.custom_details).to.deep.equal({ error: DETAILS_REMOVED });
      expect(Buffer.byteLength(raw[0]!)).to.be.at.most(MAX_EVENT_BYTES);
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).to.contain('custom_details removed');
      expect(lines.join('\n')).not.to.contain(ROUTING_KEY);
    });
  });

  describe('summary template and images', () => {
    it('renders payload.summary from the template, cut to 1024 characters', async () => {
      const { sent } = await publish(fixture(), [{}], pagerduty({ summary: '{{upper status}} {{numFiring}}× {{commonLabels.alertname}}: {{commonAnnotations.summary}}' }));
      expect(sent[0]!.payload!['summary']).to.equal('FIRING 2× TestAlert: test summary');
      const long = (await publish(fixture(), [{}], pagerduty({ summary: `${'x'.repeat(2000)}{{status}}` }))).sent[0]!.payload!['summary'] as string;
      expect(Array.from(long)).to.have.length(1024);
      expect(long.endsWith('…')).to.equal(true);
    });

    it('falls back to the default summary when the template renders blank (PagerDuty refuses an empty one)', async () => {
      const { sent } = await publish(fixture(), [{}], pagerduty({ summary: '{{commonAnnotations.nothing}}  ' }));
      expect(sent[0]!.payload!['summary']).to.equal('[FIRING:2] TestAlert (critical): test summary');
    });

    it('renders each alert of per_alert dedup on its own', async () => {
      const { sent } = await publish(fixture(), [{}], pagerduty({ dedup: 'per_alert', summary: '{{alerts.0.labels.instance}} is down' }));
      expect(sent.map((e) => e.payload!['summary'])).to.deep.equal(['host1 is down', 'host2 is down']);
    });

    it('sends the images: templates rendered, empty src left out, href and alt only when set', async () => {
      const msg = fixture();
      msg.commonAnnotations = { ...msg.commonAnnotations, graph: 'https://grafana.example/render/d/api.png' };
      const images = [
        { src: '{{commonAnnotations.graph}}', href: 'https://grafana.example/d/api', alt: '{{commonLabels.alertname}} graph' },
        { src: 'https://status.example/badge.svg' },
        { src: '{{commonAnnotations.missing}}', alt: 'left out: its src renders empty' },
      ];
      const { sent } = await publish(msg, [{}], pagerduty({ images }));
      expect(sent[0]!['images']).to.deep.equal([
        { src: 'https://grafana.example/render/d/api.png', href: 'https://grafana.example/d/api', alt: 'TestAlert graph' },
        { src: 'https://status.example/badge.svg' },
      ]);
    });

    it('leaves out an image whose src renders to a non-HTTPS URL, with a warning, and sends the event', async () => {
      const { logger, lines } = capturingLogger();
      const msg = fixture();
      msg.commonAnnotations = { ...msg.commonAnnotations, graph: 'http://grafana.internal/render.png' };
      const { outcome, sent } = await publish(msg, [{}], pagerduty({ images: [{ src: '{{commonAnnotations.graph}}' }] }), logger);
      expect(outcome.ok).to.equal(true);
      expect(sent[0]).not.to.have.property('images');
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).to.contain('PagerDuty image left out');
    });

    it('pages with the default summary, and without the image, when a template throws while rendering', async () => {
      // A missing helper inside a branch gets past the check at load (rendered with no data) and throws on a firing group.
      const { logger, lines } = capturingLogger();
      const target = pagerduty({ summary: '{{#if status}}{{nope status}}{{/if}}', images: [{ src: '{{#if status}}{{nope 1}}{{/if}}' }, { src: 'https://a.example/i.png' }] });
      const { outcome, sent } = await publish(fixture(), [{}], target, logger);
      expect(outcome.ok).to.equal(true);
      expect(sent[0]!.payload!['summary']).to.equal('[FIRING:2] TestAlert (critical): test summary');
      expect(sent[0]!['images']).to.deep.equal([{ src: 'https://a.example/i.png' }]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).to.contain('PagerDuty summary template failed').and.to.contain('PagerDuty images[0].src template failed').and.to.contain('Missing helper');
    });

    it('sends neither on resolve (only the key)', async () => {
      const { sent } = await publish(fixture('am025-all-resolved.json'), [{}], pagerduty({ summary: 'x', images: [{ src: 'https://a.example/i.png' }] }));
      expect(Object.keys(sent[0]!).sort()).to.deep.equal(['dedup_key', 'event_action', 'routing_key']);
    });

    it('checks the templates and a fixed src at config load, naming the field', () => {
      const load = (extra: string) => () => config(`targets: [{name: pd, type: pagerduty, routing_key: ${ROUTING_KEY}, ${extra}}]`);
      expect(load("summary: '{{#if}}'")).to.throw(/target "pd": summary: Parse error on line 1/);
      expect(load("images: [{src: 'https://a.example/{{#each}}.png'}]")).to.throw(/target "pd": images\[0\]\.src: Parse error on line 1/);
      expect(load("images: [{src: 'https://a.example/i.png', alt: '{{'}]")).to.throw(/target "pd": images\[0\]\.alt: Parse error on line 1/);
      expect(load("images: [{src: 'http://a.example/i.png'}]")).to.throw(/target "pd": images\[0\]\.src: must be an https:\/\/ URL/);
      expect(load('images: [{href: x}]')).to.throw(/target "pd": images\[0\]: missing required field `src`/);
      const target = config(`targets: [{name: pd, type: pagerduty, routing_key: ${ROUTING_KEY}, images: [{src: '{{commonAnnotations.graph}}'}]}]`).targets[0] as PagerDutyTarget;
      expect(target.images).to.deep.equal([{ src: '{{commonAnnotations.graph}}' }]);
    });
  });

  describe("severity (unknown and missing values take default_severity, Alertmanager's `error`)", () => {
    const cases: Array<[string | undefined, PagerDutySeverity]> = [
      ['critical', 'critical'],
      ['ERROR', 'error'],
      ['warning', 'warning'],
      ['warn', 'warning'],
      ['info', 'info'],
      ['informational', 'info'],
      ['none', 'info'],
      ['P1', 'error'],
      ['page', 'error'],
      [undefined, 'error'],
    ];
    for (const [label, expected] of cases) {
      it(`maps severity=${String(label)} to ${expected}`, () => {
        expect(toSeverity(label, 'error')).to.equal(expected);
      });
    }

    it('pages a group as its most severe firing alert', async () => {
      const msg = fixture('am025-grouped-firing.json'); // critical, warning, warning
      expect((await publish(msg)).sent[0]!.payload!['severity']).to.equal('critical');
    });

    it('uses the configured label and default severity', async () => {
      const msg = { ...fixture(), alerts: [alert({ alertname: 'X', priority: 'warning' }), alert({ alertname: 'Y' })] };
      const target = pagerduty({ severity_label: 'priority', default_severity: 'info' });
      expect((await publish(msg, [{}], target)).sent[0]!.payload!['severity']).to.equal('warning');
      const unknown = { ...fixture(), alerts: [alert({ alertname: 'X', priority: 'P3' })] };
      expect((await publish(unknown, [{}], target)).sent[0]!.payload!['severity']).to.equal('info');
    });
  });

  describe('dedup: per_alert', () => {
    it('sends one event per alert keyed by its fingerprint: triggers for firing, resolves for resolved', async () => {
      const msg = fixture('am025-mixed-firing-resolved.json');
      const { outcome, sent } = await publish(msg, [{}], pagerduty({ dedup: 'per_alert' }));
      expect(outcome).to.deep.equal({ ok: true, status: 202 });
      expect(sent.map((e) => [e['event_action'], e['dedup_key']])).to.deep.equal(
        msg.alerts.map((a) => [a.status === 'firing' ? 'trigger' : 'resolve', a.fingerprint]),
      );
      const first = sent.find((e) => e['event_action'] === 'trigger')!;
      expect(first.payload!.custom_details).to.include({ num_firing: 1, num_resolved: 0 });
    });

    it('stops at the first failed event and reports it', async () => {
      const msg = fixture('am025-grouped-firing.json');
      const { outcome, sent } = await publish(msg, [{}, { status: 500, body: { status: 'error', message: 'boom' } }], pagerduty({ dedup: 'per_alert' }));
      expect(sent).to.have.length(2);
      expect(outcome).to.include({ ok: false, retryable: true, reason: 'serverError', status: 500 });
    });
  });

  describe('responses', () => {
    it('gives up on a 400 and shows the errors PagerDuty lists', async () => {
      const body = { status: 'invalid event', message: 'Event object is invalid', errors: ["'payload.severity' is invalid", "'payload.source' is missing"] };
      const { outcome } = await publish(fixture(), [{ status: 400, body }]);
      expect(outcome).to.deep.equal({
        ok: false,
        retryable: false,
        reason: 'clientError',
        status: 400,
        message: "unexpected status code 400: Event object is invalid: 'payload.severity' is invalid; 'payload.source' is missing",
      });
    });

    it('retries a 429 with backoff, and honours Retry-After if PagerDuty ever sends one', async () => {
      const plain = await publish(fixture(), [{ status: 429, body: '429 - Request Limit Exceeded' }]);
      expect(plain.outcome).to.deep.equal({ ok: false, retryable: true, reason: 'rateLimited', status: 429, message: 'unexpected status code 429: 429 - Request Limit Exceeded' });
      const timed = await publish(fixture(), [{ status: 429, body: '', headers: { 'retry-after': '30' } }]);
      expect(timed.outcome).to.include({ retryable: true, reason: 'rateLimited', retryAfterMs: 30_000 });
    });

    for (const status of [500, 502, 503, 504]) {
      it(`retries a ${status}`, async () => {
        const { outcome } = await publish(fixture(), [{ status, body: { status: 'error', message: 'Internal error' } }]);
        expect(outcome).to.include({ ok: false, retryable: true, reason: 'serverError', status });
      });
    }

    for (const [status, reason] of [[401, 'authError'], [403, 'authError'], [404, 'clientError'], [413, 'clientError']] as const) {
      it(`gives up on an unexpected ${status}`, async () => {
        const { outcome } = await publish(fixture(), [{ status, body: '' }]);
        expect(outcome).to.include({ ok: false, retryable: false, reason, status });
      });
    }

    it('retries a network error', async () => {
      const deps = mockDeps();
      deps.agent.get(ORIGIN).intercept({ path: '/v2/enqueue', method: 'POST' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      const outcome = await createPublisher(pagerduty(), deps).publish(targetMessage(), ctx());
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: 'network error: ECONNRESET' });
    });
  });

  describe('secrets and config', () => {
    it('never puts the routing key in an outcome or a log, even when the body echoes it', async () => {
      const { logger, lines } = capturingLogger();
      const body = { status: 'invalid event', message: 'Event object is invalid', errors: [`unknown routing_key ${ROUTING_KEY}`] };
      const { outcome } = await publish(fixture(), [{ status: 400, body }], pagerduty(), logger);
      expect(outcome).to.include({ ok: false, retryable: false });
      expect(JSON.stringify(outcome)).not.to.contain(ROUTING_KEY);
      expect(JSON.stringify(outcome)).to.contain('unknown routing_key <secret>');
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines.join('\n')).not.to.contain(ROUTING_KEY);
    });

    it('loads the example config with its defaults, the routing key as a redacted secret', () => {
      const cfg = config(
        [
          'targets:',
          '  - name: pagerduty-oncall',
          '    type: pagerduty',
          '    routing_key: ${env:PAGERDUTY_ROUTING_KEY}',
          '    match: [\'severity=~"critical|error"\']',
          '    timeout: 5s',
        ].join('\n'),
        { PAGERDUTY_ROUTING_KEY: ROUTING_KEY },
      );
      const target = cfg.targets[0] as PagerDutyTarget;
      expect(target).to.include({
        routing_key: ROUTING_KEY,
        url: 'https://events.pagerduty.com/v2/enqueue',
        dedup: 'per_group',
        severity_label: 'severity',
        default_severity: 'error',
        source_label: 'instance',
        client: 'alertmux',
        timeout: 5000,
      });
      expect(cfg.secrets).to.include(ROUTING_KEY);
      expect(JSON.stringify(redactTarget(target))).not.to.contain(ROUTING_KEY);
    });

    it('rejects a pagerduty target without a routing key, or with an unknown dedup mode', () => {
      expect(() => config('targets: [{name: pd, type: pagerduty}]')).to.throw(/line 1:11: target "pd": missing required field `routing_key`/);
      expect(() => config(`targets: [{name: pd, type: pagerduty, routing_key: ${ROUTING_KEY}, dedup: per_incident}]`)).to.throw(
        /target "pd": dedup: must be one of per_group, per_alert/,
      );
    });

    // PagerDuty's documented limit: "Length of 'routing_key' is incorrect (should be 32 characters)" (400).
    for (const [what, key] of [
      ['31 characters', ROUTING_KEY.slice(1)],
      ['33 characters', `${ROUTING_KEY}0`],
      ['a key pasted with a trailing newline', `${ROUTING_KEY}\n`],
    ] as const) {
      it(`rejects a routing key of ${what} at load, without printing it`, () => {
        let message = '';
        try {
          config('targets: [{name: pd, type: pagerduty, routing_key: "${env:PD_KEY}"}]', { PD_KEY: key });
        } catch (err) {
          message = (err as Error).message;
        }
        expect(message).to.match(/target "pd": routing_key: must be 32 characters \(an Events API v2 integration key\), not (31|33)/);
        expect(message).not.to.contain(key.trim());
        expect(message).not.to.contain(key.slice(4, 20));
      });
    }

    it('accepts a 32-character key read from a ${file:...} secret, whose trailing newline is not part of the key', () => {
      const cfg = parseConfig('targets: [{name: pd, type: pagerduty, routing_key: "${file:secrets/pd}"}]', {
        env: {},
        baseDir: '/etc/alertmux',
        readFile: (path) => (path === '/etc/alertmux/secrets/pd' ? `${ROUTING_KEY}\n` : ''),
      });
      expect((cfg.targets[0] as PagerDutyTarget).routing_key).to.equal(ROUTING_KEY);
    });
  });
});
