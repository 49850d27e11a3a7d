import { expect } from 'chai';
import { Registry } from 'prom-client';
import { mergeTargets } from '../../src/discovery/merge.js';
import { syncTargetSeries } from '../../src/dispatch/series.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { config } from '../helpers/fixtures.js';
import type { DiscoveredSecret } from '../../src/discovery/secret.js';
import type { TargetConfig } from '../../src/publishers/registry.js';

/** A discovered Secret `ns/name` defining a webhook target with an optional fallback. */
function secret(name: string, fallback?: string, createdAt = 1): DiscoveredSecret {
  const target = { name, type: 'webhook', url: `https://hooks.example.com/${name}`, enabled: true, match: [], send_resolved: true, format: 'alertmanager', headers: {}, max_alerts: 0, fallback } as TargetConfig;
  return { namespace: 'team', name, resourceVersion: '1', createdAt, target, secrets: [`secret-of-${name}`] };
}

describe('fallbacks of discovered targets', () => {
  const file = config('targets:\n  - {name: main, type: webhook, url: "https://hooks.example.com/main"}\n');

  it('keeps a discovered target whose fallback is a file target or another discovered one', () => {
    const merged = mergeTargets(file, [secret('a', 'main'), secret('b', 'a')]);
    expect(merged.config.targets.map((t) => t.name)).to.deep.equal(['main', 'a', 'b']);
    expect(merged.clashes.size).to.equal(0);
    expect(merged.config.secrets).to.include.members(['secret-of-a', 'secret-of-b']);
  });

  it('leaves out a discovered target whose fallback is unknown, one that closes a cycle, and one whose fallback was left out', () => {
    const merged = mergeTargets(file, [secret('lost', 'nowhere'), secret('x', 'y'), secret('y', 'x'), secret('after', 'lost'), secret('ok', 'main')]);
    expect(merged.config.targets.map((t) => t.name)).to.deep.equal(['main', 'ok']);
    expect(merged.clashes.get('team/lost')).to.contain('fallback "nowhere" is not a configured target');
    expect(merged.clashes.get('team/x')).to.contain('"x" → "y" → "x": fallback cycle');
    expect(merged.clashes.get('team/y')).to.contain('fallback cycle');
    expect(merged.clashes.get('team/after')).to.contain('fallback "lost" is not a configured target');
    expect(merged.config.secrets).not.to.include('secret-of-lost');
    expect(merged.config.secrets).to.include('secret-of-ok');
  });
});

describe('fallback series', () => {
  it('exist at 0 for each configured pair and reason, and go with the pair', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    const first = [
      { name: 'pd', type: 'pagerduty', fallback: 'chat' },
      { name: 'chat', type: 'slack' },
    ];
    syncTargetSeries(metrics, first);
    let text = await registry.metrics();
    expect(text).to.include('alertmux_fallback_deliveries_total{target="pd",fallback="chat",reason="dead"} 0');
    expect(text).to.include('alertmux_fallback_deliveries_total{target="pd",fallback="chat",reason="held"} 0');
    expect(text.split('\n').filter((l) => l.startsWith('alertmux_fallback_deliveries_total{'))).to.have.length(2);
    metrics.fallbacks.inc({ target: 'pd', fallback: 'chat', reason: 'dead' });
    syncTargetSeries(metrics, [{ name: 'pd', type: 'pagerduty', fallback: 'chat' }, { name: 'chat', type: 'slack' }], first);
    text = await registry.metrics();
    expect(text).to.include('alertmux_fallback_deliveries_total{target="pd",fallback="chat",reason="dead"} 1');
    syncTargetSeries(metrics, [{ name: 'pd', type: 'pagerduty', fallback: 'mail' }, { name: 'mail', type: 'webhook' }], first);
    text = await registry.metrics();
    expect(text).not.to.include('fallback="chat"');
    expect(text).to.include('alertmux_fallback_deliveries_total{target="pd",fallback="mail",reason="held"} 0');
  });
});
