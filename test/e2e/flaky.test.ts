import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { startService, type Service } from './process.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const NOTIFICATIONS = 600;
const PER_SECOND = 60;
/** How long after the load the flaky target may take to have 95% of the notifications. */
const DRAIN_MS = 45_000;
/** The retry defaults the service runs with (nothing in its config changes them). */
const RETRY = { initial_backoff: 1_000, multiplier: 2, max_backoff: 300_000 };

/** Notification number `i` of a run: its own group, so none supersedes another. */
function notification(run: string, i: number): WebhookMessage {
  const msg = fixture('am025-firing-1-firing-noauth.json');
  msg.groupKey = `{}:{alertname="${run}${i}"}`;
  msg.alerts = msg.alerts.map((a) => ({ ...a, labels: { ...a.labels, alertname: `${run}${i}`, severity: 'critical' }, fingerprint: '' }));
  return msg;
}

interface DeliveryView {
  target: string;
  attempts: number;
  skipReason?: string;
  updatedAt: string;
  nextAttemptAt?: string;
}

/**
 * A live but flaky target among healthy ones, with the built service on its default dispatch, retry, health
 * and breaker settings: the flaky target must get its notifications through retries, fast (issue 19).
 */
describe('a flaky target among healthy ones (child process of the built service, default settings)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-flaky-'));
  const client = new Agent({ connections: 64 });
  let service: Service | undefined;
  const servers: LoopbackTarget[] = [];
  afterEach(async () => {
    service?.child.kill('SIGKILL');
    if (service) await service.exited;
    service = undefined;
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (name: string, fails: () => boolean) => {
    // Notifications each target answered 2xx to (the flaky one answers the others 500).
    const got = { ok1: new Set<string>(), ok2: new Set<string>(), flaky: new Set<string>() };
    const sink = (into: Set<string>, fail: () => boolean) => (req: { body: unknown }) => {
      if (fail()) return { status: 500, body: 'internal error' };
      into.add((req.body as WebhookMessage).groupKey);
      return { status: 200 };
    };
    const ok1 = await loopbackTarget(sink(got.ok1, () => false));
    const ok2 = await loopbackTarget(sink(got.ok2, () => false));
    const flaky = await loopbackTarget(sink(got.flaky, fails));
    servers.push(ok1, ok2, flaky);
    const config = join(dir, `${name}.yml`);
    writeFileSync(
      config,
      `storage: {path: ${join(dir, `${name}.db`)}}
targets:
  - {name: ok1, type: webhook, url: "${ok1.url}"}
  - {name: ok2, type: webhook, url: "${ok2.url}"}
  - {name: flaky, type: webhook, url: "${flaky.url}"}
`,
    );
    service = await startService(config, await refusedPort());
    const base = service.base;

    // The load: NOTIFICATIONS at PER_SECOND, each posted on its own schedule, not after the previous answer.
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: NOTIFICATIONS }, async (_, i) => {
        const wait = started + (i * 1000) / PER_SECOND - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const res = await request(`${base}/webhook`, {
          dispatcher: client,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notification(name, i)),
        });
        await res.body.dump();
        return res.statusCode;
      }),
    );
    expect(statuses.filter((s) => s !== 200 && s !== 202), 'webhook answers other than 200 and 202').to.deep.equal([]);

    // After the load: poll until 95% reached the flaky target (and all the healthy ones), or DRAIN_MS passed.
    const want = Math.ceil(NOTIFICATIONS * 0.95);
    const until = Date.now() + DRAIN_MS;
    while (Date.now() < until && (got.flaky.size < want || got.ok1.size < NOTIFICATIONS || got.ok2.size < NOTIFICATIONS)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(got.ok1.size, 'notifications delivered to ok1').to.equal(NOTIFICATIONS);
    expect(got.ok2.size, 'notifications delivered to ok2').to.equal(NOTIFICATIONS);
    expect(got.flaky.size, `notifications delivered to the flaky target within ${DRAIN_MS / 1000}s after the load`).to.be.at.least(want);

    // What still waits for the flaky target waits for its own backoff, not for a breaker or a health skip.
    const res = await fetch(`${base}/api/v1/deliveries?state=pending&target=flaky&limit=1000`);
    const { deliveries } = (await res.json()) as { deliveries: DeliveryView[] };
    const now = Date.now();
    for (const d of deliveries) {
      expect(d.skipReason, 'a pending delivery of the flaky target parked by health or breaker').to.equal(undefined);
      const due = Date.parse(d.nextAttemptAt ?? '');
      const ceiling = Math.min(RETRY.max_backoff, RETRY.initial_backoff * RETRY.multiplier ** Math.max(0, d.attempts - 1));
      expect(due - Date.parse(d.updatedAt), `backoff after attempt ${d.attempts}`).to.be.at.most(ceiling);
      // Due ones are picked up at once (allow for an attempt in flight and a busy machine).
      expect(now - due, 'overdue by').to.be.below(5_000);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).to.not.match(/alertmux_target_circuit_transitions_total\{target="flaky",from="closed",to="open"\} [1-9]/);
    expect(metrics).to.not.match(/alertmux_deliveries_skipped_total\{target="flaky",reason="circuit_open"\} [1-9]/);
  };

  it('delivers 95% of 600 notifications at 60/s to a target that fails half of its requests at random, within 45 s after the load', async () => {
    await run('Random', () => Math.random() < 0.5);
  });

  it('delivers 95% of 600 notifications at 60/s to a target that fails every other request, within 45 s after the load', async () => {
    let n = 0;
    await run('Alternating', () => n++ % 2 === 0);
  });
});
