import { expect } from 'chai';
import { createPublisher } from '../../src/publishers/registry.js';
import { FALLBACK_ANNOTATION } from '../../src/publishers/fallback-mark.js';
import { config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';

const PD_KEY = '0123456789abcdef0123456789abcdef';
const PREFIX = '[fallback for pagerduty-main] ';

/** A posted JSON body, read loosely as JSON.parse gives it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

/** Each target type with the origin and path it posts to, and where its mark (or its absence) shows. */
const cases: Array<{ yaml: string; origin: string; path: string; reply: [number, unknown]; mark: (body: Body) => unknown; none: (body: Body) => unknown }> = [
  {
    yaml: '{name: t, type: slack, webhook_url: "https://hooks.slack.com/services/T1/B1/secret"}',
    origin: 'https://hooks.slack.com',
    path: '/services/T1/B1/secret',
    reply: [200, 'ok'],
    mark: (b) => [b.text.startsWith(PREFIX), b.blocks[0].text.text.startsWith(PREFIX)],
    none: (b) => b.text.includes('fallback'),
  },
  {
    yaml: '{name: t, type: teams, webhook_url: "https://prod.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=s"}',
    origin: 'https://prod.westeurope.logic.azure.com',
    path: '/workflows/x/triggers/manual/paths/invoke?sig=s',
    reply: [202, ''],
    mark: (b) => b.attachments[0].content.body[0].text.startsWith(PREFIX),
    none: (b) => JSON.stringify(b).includes('fallback for'),
  },
  {
    yaml: '{name: t, type: discord, webhook_url: "https://discord.com/api/webhooks/1/secret"}',
    origin: 'https://discord.com',
    path: '/api/webhooks/1/secret',
    reply: [204, ''],
    mark: (b) => b.embeds[0].title.startsWith(PREFIX),
    none: (b) => b.embeds[0].title.includes('fallback'),
  },
  {
    yaml: `{name: t, type: pagerduty, routing_key: "${PD_KEY}"}`,
    origin: 'https://events.pagerduty.com',
    path: '/v2/enqueue',
    reply: [202, { status: 'success' }],
    mark: (b) => [b.payload.summary.startsWith(PREFIX), b.payload.custom_details.fallback_for === 'pagerduty-main'],
    none: (b) => [b.payload.summary.includes('fallback'), 'fallback_for' in b.payload.custom_details],
  },
  {
    yaml: '{name: t, type: alertmanager, url: "http://am.test:9093"}',
    origin: 'http://am.test:9093',
    path: '/api/v2/alerts',
    reply: [200, ''],
    mark: (b) => b.every((a: Body) => a.annotations[FALLBACK_ANNOTATION] === 'pagerduty-main'),
    none: (b) => b.some((a: Body) => FALLBACK_ANNOTATION in a.annotations),
  },
  {
    yaml: '{name: t, type: rootly, token: "rootly-secret"}',
    origin: 'https://webhooks.rootly.com',
    path: '/webhooks/incoming/alertmanager_webhooks',
    reply: [200, '{}'],
    mark: (b) => [b.commonAnnotations[FALLBACK_ANNOTATION] === 'pagerduty-main', b.alerts.every((a: Body) => a.annotations[FALLBACK_ANNOTATION] === 'pagerduty-main')],
    none: (b) => FALLBACK_ANNOTATION in b.commonAnnotations,
  },
];

describe('the payload of a fallback delivery says so', () => {
  for (const c of cases) {
    const type = /type: (\w+)/.exec(c.yaml)![1];
    it(`${type}: marked on a fallback delivery, unmarked otherwise`, async () => {
      const deps = mockDeps();
      const bodies: Body[] = [];
      deps.agent
        .get(c.origin)
        .intercept({ path: c.path, method: 'POST' })
        .reply((opts) => {
          bodies.push(JSON.parse(String(opts.body)));
          return { statusCode: c.reply[0], data: typeof c.reply[1] === 'string' ? c.reply[1] : JSON.stringify(c.reply[1]), responseOptions: { headers: { 'content-type': 'application/json' } } };
        })
        .times(2);
      const target = config(`targets: [${c.yaml}]`).targets[0]!;
      const publisher = createPublisher(target, deps);
      const msg = targetMessage(fixture());
      expect(await publisher.publish(msg, ctx({ fallbackFor: 'pagerduty-main' }))).to.include({ ok: true });
      expect(await publisher.publish(msg, ctx())).to.include({ ok: true });
      expect(bodies).to.have.length(2);
      expect([c.mark(bodies[0])].flat()).to.deep.equal([c.mark(bodies[0])].flat().map(() => true));
      expect([c.none(bodies[1])].flat().every((v) => v === false)).to.equal(true);
      // The message the target was given is not changed for its other deliveries.
      expect(JSON.stringify(msg)).not.to.contain(FALLBACK_ANNOTATION);
    });
  }

  it('slack Web API: a fallback posts a message of its own and never updates the group\'s usual one', async () => {
    const deps = mockDeps();
    const calls: string[] = [];
    deps.agent
      .get('https://slack.com')
      .intercept({ path: /\/api\/chat\.(postMessage|update)/, method: 'POST' })
      .reply((opts) => {
        calls.push(`${opts.path.split('/').pop()} ${String((JSON.parse(String(opts.body)) as { text: string }).text.startsWith(PREFIX))}`);
        return { statusCode: 200, data: JSON.stringify({ ok: true, channel: 'C1', ts: `${calls.length}.0` }), responseOptions: { headers: { 'content-type': 'application/json' } } };
      })
      .times(4);
    const target = config('targets: [{name: t, type: slack, token: "xoxb-1-secret", channel: C1}]').targets[0]!;
    const publisher = createPublisher(target, deps);
    const msg = targetMessage(fixture());
    await publisher.publish(msg, ctx());
    await publisher.publish(msg, ctx({ fallbackFor: 'pagerduty-main' }));
    await publisher.publish(msg, ctx({ fallbackFor: 'pagerduty-main' }));
    await publisher.publish(msg, ctx());
    expect(calls).to.deep.equal(['chat.postMessage false', 'chat.postMessage true', 'chat.update true', 'chat.update false']);
  });
});
