import { expect } from 'chai';
import { Registry } from 'prom-client';
import { syncTargetSeries } from '../../src/dispatch/series.js';
import { createMetrics, targetMeters } from '../../src/observability/metrics.js';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp } from '../helpers/servers.js';

/** `name{labels} value` lines of the exposition, for one metric. */
const seriesOf = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));

describe('target series', () => {
  it('exist at 0 for every configured target and reason before the first event', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    syncTargetSeries(metrics, [
      { name: 'pd', type: 'pagerduty' },
      { name: 'chat', type: 'slack' },
    ]);
    const text = await registry.metrics();
    expect(text).to.include('alertmux_dead_letters_total{target="pd",reason="clientError"} 0');
    expect(text).to.include('alertmux_dead_letters_total{target="chat",reason="other"} 0');
    expect(seriesOf(text, 'alertmux_dead_letters_total')).to.have.length(2 * 8);
    expect(text).to.include('alertmux_notifications_failed_total{target="pd",type="pagerduty",reason="timeout"} 0');
    expect(text).to.include('alertmux_deliveries_skipped_total{target="chat",reason="circuit_open"} 0');
    expect(text).to.include('alertmux_notification_requests_total{target="pd",type="pagerduty"} 0');
    expect(text).to.include('alertmux_notifications_delivered_total{target="chat",type="slack"} 0');
    expect(text).to.include('alertmux_delivery_retries_total{target="pd"} 0');
    expect(text).to.include('alertmux_delivery_replays_total{target="pd"} 0');
    expect(text).to.include('alertmux_target_circuit_transitions_total{target="pd",from="closed",to="open"} 0');
  });

  it('count on from 0 (the first event is an increase of 1)', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    syncTargetSeries(metrics, [{ name: 'pd', type: 'pagerduty' }]);
    metrics.deadLetters.inc({ target: 'pd', reason: 'clientError' });
    targetMeters(metrics, 'pd', 'pagerduty').requests.inc();
    const text = await registry.metrics();
    expect(text).to.include('alertmux_dead_letters_total{target="pd",reason="clientError"} 1');
    expect(text).to.include('alertmux_notification_requests_total{target="pd",type="pagerduty"} 1');
  });

  it('keep the counts of targets still configured and drop removed targets and old types', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const first = [
      { name: 'pd', type: 'pagerduty' },
      { name: 'gone', type: 'webhook' },
      { name: 'moved', type: 'webhook' },
    ];
    syncTargetSeries(metrics, first);
    metrics.deadLetters.inc({ target: 'pd', reason: 'clientError' }, 3);
    metrics.targetHealth.set({ target: 'gone', state: 'unhealthy' }, 1);
    metrics.latency.observe({ target: 'gone', type: 'webhook' }, 0.1);
    syncTargetSeries(
      metrics,
      [
        { name: 'pd', type: 'pagerduty' },
        { name: 'moved', type: 'slack' },
      ],
      first,
    );
    const text = await registry.metrics();
    expect(text).to.include('alertmux_dead_letters_total{target="pd",reason="clientError"} 3');
    expect(text).to.not.include('target="gone"');
    expect(text).to.not.include('target="moved",type="webhook"');
    expect(text).to.include('alertmux_notification_requests_total{target="moved",type="slack"} 0');
    // A target that only changed type keeps its name-labelled series.
    expect(text).to.include('alertmux_dead_letters_total{target="moved",reason="other"} 0');
  });

  describe('in the app', () => {
    it('are there at start, added on reload for a new target, and gone with a removed one', async () => {
      const hook = await loopbackTarget(() => ({ status: 400 }));
      const yaml = (targets: string) => `storage: {path: ':memory:'}\ntargets:\n${targets}\n`;
      const app = await startApp(yaml(`  - {name: a, type: webhook, url: "${hook.url}"}\n  - {name: b, type: log}`));
      try {
        let text = (await app.get('/metrics')).text;
        expect(text).to.include('alertmux_dead_letters_total{target="a",reason="clientError"} 0');
        expect(text).to.include('alertmux_dead_letters_total{target="b",reason="clientError"} 0');

        app.setConfig(yaml(`  - {name: a, type: webhook, url: "${hook.url}"}\n  - {name: c, type: log}`));
        expect((await app.post('/-/reload', undefined)).status).to.equal(200);
        text = (await app.get('/metrics')).text;
        expect(text).to.include('alertmux_dead_letters_total{target="c",reason="serverError"} 0');
        expect(text).to.not.match(/target="b"/);

        // The first dead letter (a permanent 400) moves the series from 0 to 1.
        expect((await app.post('/webhook?targets=a', fixture())).status).to.equal(202);
        text = (await app.get('/metrics')).text;
        expect(text).to.include('alertmux_dead_letters_total{target="a",reason="clientError"} 1');
      } finally {
        await app.close();
        await hook.close();
      }
    });
  });
});
