import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createMetrics, targetMeters } from '../../src/observability/metrics.js';

describe('per-target meters', () => {
  it('show every count on the next scrape, once, and keep counting across a rebuild of the target', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const meters = targetMeters(metrics, 'pd', 'pagerduty');
    meters.requests.inc();
    meters.requests.inc();
    meters.delivered.inc();
    meters.latency.observe(0.02);
    const text = await registry.metrics();
    expect(text).to.include('alertmux_notification_requests_total{target="pd",type="pagerduty"} 2');
    expect(text).to.include('alertmux_notifications_delivered_total{target="pd",type="pagerduty"} 1');
    expect(text).to.include('alertmux_notification_latency_seconds_bucket{le="0.025",target="pd",type="pagerduty"} 1');
    // A reload builds the target's meters again: the same series goes on from where it was.
    const rebuilt = targetMeters(metrics, 'pd', 'pagerduty');
    rebuilt.requests.inc();
    targetMeters(metrics, 'slack', 'slack').notifications.inc();
    const after = await registry.metrics();
    expect(after).to.include('alertmux_notification_requests_total{target="pd",type="pagerduty"} 3');
    expect(after).to.include('alertmux_notifications_total{target="slack",type="slack"} 1');
    expect(after).to.include('alertmux_notifications_delivered_total{target="pd",type="pagerduty"} 1');
  });

  it('are read the same through the counter itself', async () => {
    const metrics = createMetrics(new Registry());
    targetMeters(metrics, 'pd', 'pagerduty').notifications.inc();
    const { values } = await metrics.notifications.get();
    expect(values).to.deep.equal([{ value: 1, labels: { target: 'pd', type: 'pagerduty' } }]);
  });
});
