import { expect } from 'chai';
import { Registry } from 'prom-client';
import { MockAgent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { buildRuntime } from '../../src/dispatch/runtime.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Logger } from '../../src/observability/logger.js';
import type { PublisherDeps } from '../../src/publishers/publisher.js';

describe('target runtime hooks (injected clock)', () => {
  it('wakes a target\'s deliveries when it stops being down, not when a flaky one turns healthy, and logs each change', async () => {
    let now = Date.parse('2026-12-06T00:00:00Z');
    const lines: Array<[string, string, Record<string, unknown>]> = [];
    const logger = {} as Record<string, unknown>;
    for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (msg: string, meta: Record<string, unknown> = {}) => lines.push([level, msg, meta]);
    logger['child'] = () => logger;
    logger['isLevelEnabled'] = () => true;
    const recovered: string[] = [];
    const http = new MockAgent();
    const config = await parseConfig(
      `storage: {path: ":memory:"}
health: {min_samples: 5}
breaker: {consecutive_failures: 4, cooldown: 30s}
targets:
  - {name: t, type: webhook, url: "http://t.test/hook"}`,
      { env: {}, baseDir: '/tmp' },
    );
    const rt = buildRuntime(config, {
      metrics: createMetrics(new Registry()),
      logger: logger as unknown as Logger,
      now: () => now,
      onRecovered: (target) => recovered.push(target),
      publisherDeps: () => ({ http, userAgent: 'test', logger, now: () => now }) as unknown as PublisherDeps,
    });
    const t = rt.targets.get('t')!;
    const outcome = (ok: boolean) => {
      t.breaker.tryAcquire();
      t.breaker.record(ok);
      t.health.record(ok, 5, ok ? undefined : 'unexpected status code 500');
      now += 10;
    };

    // Flaky: half fail. Degraded, never unhealthy or open; turning healthy again wakes nothing (only backoffs wait).
    for (let i = 0; i < 40; i++) outcome(i % 2 === 0);
    expect(t.health.status).to.equal('degraded');
    expect(t.breaker.state).to.equal('closed');
    now += 5 * 60_000 + 1;
    for (let i = 0; i < 10; i++) outcome(true);
    expect(t.health.status).to.equal('healthy');
    expect(recovered).to.deep.equal([]);

    // Down: unhealthy after many failures with no success in the window, then the breaker opens.
    now += 5 * 60_000 + 1;
    for (let i = 0; i < 4; i++) outcome(false);
    expect(t.health.status).to.equal('unhealthy');
    expect(t.breaker.state).to.equal('open');
    const trialAt = new Date(t.breaker.opensTrialAt!).toISOString();
    now += 30_000;
    outcome(true); // the trial
    expect(t.breaker.state).to.equal('closed');
    expect(recovered).to.deep.equal(['t', 't']); // the breaker closed, and the health left unhealthy

    const said = lines.map(([level, msg, meta]) => `${level} ${msg} ${String(meta['from'] ?? '')}>${String(meta['to'] ?? '')}`);
    expect(said).to.include.members([
      'debug target health changed unknown>healthy',
      'debug target health changed healthy>degraded',
      'debug target health changed degraded>healthy',
      'warn target health changed healthy>unhealthy',
      'info target health changed unhealthy>degraded',
      'warn circuit breaker opened: the target looks down; its deliveries wait for a trial closed>',
      'info circuit breaker half-open: one trial delivery goes to the target open>',
      'info circuit breaker closed: the trial succeeded; waking its deliveries half_open>',
    ]);
    // Exactly one line per change: each breaker transition, and each health transition, once.
    const breakerLines = lines.filter(([, msg]) => msg.startsWith('circuit breaker'));
    expect(breakerLines.map(([level, , meta]) => `${level} ${String(meta['target'])} ${String(meta['from'])}`)).to.deep.equal([
      'warn t closed',
      'info t open',
      'info t half_open',
    ]);
    const healthLines = lines.filter(([, msg]) => msg === 'target health changed').map(([, , meta]) => `${String(meta['from'])}>${String(meta['to'])}`);
    expect(healthLines).to.deep.equal(['unknown>healthy', 'healthy>degraded', 'degraded>healthy', 'healthy>unhealthy', 'unhealthy>degraded']);
    expect(lines.find(([, msg]) => msg.startsWith('circuit breaker opened'))?.[2]).to.include({ target: 't', trialAt });
    await http.close();
  });
});
