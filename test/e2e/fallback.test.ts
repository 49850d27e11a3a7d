import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { startService, type Service } from './process.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** Notification of group `Fb<i>` for team `team`. */
function notification(i: number, team: string): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="Fb${i}"}`;
  msg.commonLabels = { alertname: `Fb${i}`, team };
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { alertname: `Fb${i}`, team }, fingerprint: '' }));
  return msg;
}

describe('fallback targets (child processes of the built service)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-fallback-e2e-'));
  const services: Service[] = [];
  const servers: LoopbackTarget[] = [];
  after(async () => {
    for (const s of services) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (base: string, msg: WebhookMessage) =>
    (await fetch(`${base}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg) })).status;
  const deliveredFallbacks = async (base: string) => {
    const res = await fetch(`${base}/api/v1/deliveries?target=backup&state=delivered`);
    return ((await res.json()) as { deliveries: Array<{ fallbackFor?: string; groupKey: string }> }).deliveries.filter((d) => d.fallbackFor);
  };

  it('pages the fallback once for a 400 and once for a delivery held by an open breaker, and a kill -9 and restart repeat neither', async () => {
    const refusing = await loopbackTarget(() => ({ status: 400, body: 'bad request' }));
    const backup = await loopbackTarget();
    servers.push(refusing, backup);
    const down = await refusedPort();
    const config = join(dir, 'alertmux.yml');
    writeFileSync(
      config,
      `storage: {path: ${join(dir, 'ledger.db')}}
retry: {initial_backoff: 1h, max_backoff: 1h}
breaker: {consecutive_failures: 1, cooldown: 1h, max_cooldown: 1h}
targets:
  - {name: refusing, type: webhook, url: "${refusing.url}", match: ['team="a"'], fallback: backup}
  - {name: down, type: webhook, url: "http://127.0.0.1:${down}", match: ['team="b"'], fallback: backup, fallback_after: 500ms}
  - {name: backup, type: webhook, url: "${backup.url}", match: ['team="nobody"']}
`,
    );
    const byGroup = () => {
      const counts = new Map<string, number>();
      for (const r of backup.received) {
        const key = `${(r.body as WebhookMessage).groupKey} ${String(r.headers['alertmux-fallback-for'])}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    };

    const first = await startService(config, await refusedPort());
    services.push(first);
    expect(await post(first.base, notification(1, 'a'))).to.equal(202);
    expect(await post(first.base, notification(2, 'b'))).to.equal(202); // fails: the breaker opens
    expect(await post(first.base, notification(3, 'b'))).to.equal(202); // held by the open breaker
    await eventually(async () => (await deliveredFallbacks(first.base)).length === 2, 'both fallbacks delivered and recorded', 30_000);
    expect(byGroup().get('{}:{alertname="Fb1"} refusing')).to.equal(1);
    expect(byGroup().get('{}:{alertname="Fb3"} down')).to.equal(1);
    expect(first.output()).to.match(/fallback sent/);
    first.child.kill('SIGKILL');
    await first.exited;

    // Restarted on the same ledger: nothing is sent again; a new hold (the breaker is new) gets its own fallback.
    const second = await startService(config, await refusedPort());
    services.push(second);
    expect(await post(second.base, notification(4, 'b'))).to.equal(202); // fails: the new breaker opens
    expect(await post(second.base, notification(5, 'b'))).to.equal(202); // held
    await eventually(() => byGroup().get('{}:{alertname="Fb5"} down') === 1, 'the fallback of the new hold', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several sweeps
    for (const [key, count] of byGroup()) expect(count, key).to.equal(1);
    expect(byGroup().get('{}:{alertname="Fb1"} refusing')).to.equal(1);
    expect(byGroup().get('{}:{alertname="Fb3"} down')).to.equal(1);
    const fallbacks = await deliveredFallbacks(second.base);
    expect(fallbacks.filter((d) => ['{}:{alertname="Fb1"}', '{}:{alertname="Fb3"}'].includes(d.groupKey))).to.have.length(2);
    second.child.kill('SIGTERM');
    expect(await second.exited).to.equal(0);
  });
});
