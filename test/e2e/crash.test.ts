import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { eventually, loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { startService, type Service } from './process.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** Notification number `i`: its own group, so none supersedes another. */
function notification(i: number, extra: Record<string, string> = {}): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="Crash${i}"}`;
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: `Crash${i}`, ...extra }, fingerprint: '' }));
  return msg;
}

describe('crash safety (child processes of the built service)', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-crash-'));
  const client = new Agent({ connections: 16 });
  const services: Service[] = [];
  const servers: LoopbackTarget[] = [];
  after(async () => {
    for (const s of services) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.close()));
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (base: string, msg: WebhookMessage): Promise<number> => {
    try {
      const res = await request(`${base}/webhook`, {
        dispatcher: client,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(msg),
      });
      await res.body.dump();
      return res.statusCode;
    } catch {
      return 0; // connection reset: the process died under us
    }
  };

  it('delivers every notification it answered 2xx to, across kill -9 and a restart, and never one it answered 503 to', async () => {
    const targetPort = await refusedPort();
    const slowPort = await refusedPort();
    const [port1, port2] = [await refusedPort(), await refusedPort()];
    const config = join(dir, 'alertmux.yml');
    writeFileSync(
      config,
      `storage: {path: ${join(dir, 'ledger.db')}}
dispatch: {response_deadline: 300ms, timeout: 500ms}
retry: {initial_backoff: 50ms, max_backoff: 200ms, max_attempts: 1000}
breaker: {cooldown: 100ms, max_cooldown: 200ms}
targets:
  - {name: sink, type: webhook, url: "http://127.0.0.1:${targetPort}/sink", match: ['slow!="true"']}
  - {name: slow, type: webhook, url: "http://127.0.0.1:${slowPort}/slow", match: ['slow="true"'], timeout: 5s}
`,
    );

    // Phase 1: the target refuses connections; post 200 distinct notifications, kill -9 half-way.
    const first = await startService(config, port1);
    services.push(first);
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < 200) {
        const i = next++;
        if (i === 100) first.child.kill('SIGKILL');
        statuses.set(i, await post(first.base, notification(i)));
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await first.exited;
    const acknowledged = [...statuses].filter(([, s]) => s >= 200 && s < 300).map(([i]) => i);
    expect(acknowledged.length, 'notifications acknowledged before the kill').to.be.greaterThan(50);
    expect([...statuses.values()].some((s) => s === 0), 'requests cut off by the kill').to.equal(true);

    // Phase 2: the target comes up, alertmux restarts on the same ledger and resumes.
    const sink = await loopbackTarget(undefined, targetPort);
    servers.push(sink);
    const second = await startService(config, port2);
    services.push(second);
    const received = () => new Set(sink.received.map((r) => (r.body as WebhookMessage).groupKey));
    await eventually(() => acknowledged.every((i) => received().has(`{}:{alertname="Crash${i}"}`)), 'every acknowledged notification at the target', 60_000);

    // Phase 3: a graceful stop answers 503 to what arrives while it drains; that one was not taken.
    const slow = await loopbackTarget(() => ({ status: 200, delayMs: 1500 }), slowPort);
    servers.push(slow);
    expect(await post(second.base, notification(1000, { slow: 'true' }))).to.equal(202); // keeps an attempt in flight
    second.child.kill('SIGTERM');
    // Until the signal is handled a post may still be accepted; each try is a distinct notification.
    let late = 2000;
    const refused = await eventually(async () => {
      const status = await post(second.base, notification(++late));
      return status === 503 ? status : status === 0 ? 'gone' : undefined;
    }, 'a 503 while draining', 10_000);
    expect(refused).to.equal(503);
    expect(await second.exited).to.equal(0);
    expect(slow.received).to.have.length(1); // the in-flight attempt finished within the grace period

    const third = await startService(config, await refusedPort());
    services.push(third);
    const ledger = (await (await fetch(`${third.base}/api/v1/deliveries?limit=1000`)).json()) as { deliveries: Array<{ groupKey: string }> };
    const refusedKey = `{}:{alertname="Crash${late}"}`;
    expect(ledger.deliveries.some((d) => d.groupKey === refusedKey)).to.equal(false);
    expect(received().has(refusedKey)).to.equal(false);
    third.child.kill('SIGTERM');
    await third.exited;
  });
});
