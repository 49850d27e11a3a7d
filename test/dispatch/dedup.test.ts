import { expect } from 'chai';
import { alert, webhookMessage } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { Alert, WebhookMessage } from '../../src/alerts/types.js';

const T0 = Date.parse('2026-12-06T04:00:00Z');
const MINUTE = 60_000;

/** A group of alerts as Alertmanager posts it; `skewMs` moves every timestamp, as the other HA peer's would be. */
function group(alerts: Array<[string, 'firing' | 'resolved']>, skewMs = 0, extra: Partial<WebhookMessage> = {}): WebhookMessage {
  const at = (ms: number) => new Date(ms + skewMs).toISOString();
  const list: Alert[] = alerts.map(([instance, status]) =>
    alert(
      { alertname: 'Lag', instance, severity: instance === 'db-1' ? 'critical' : 'warning' },
      { status, startsAt: at(T0 - 10 * MINUTE), endsAt: status === 'resolved' ? at(T0 - MINUTE) : '0001-01-01T00:00:00Z', fingerprint: '' },
    ),
  );
  return webhookMessage({ groupKey: '{}:{alertname="Lag"}', status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved', alerts: list, ...extra });
}

describe('dispatch: dedup per target, by the alerts each one selects (injected clock)', () => {
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  let now = T0;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  async function start(targetsYaml: (urls: string[]) => string, count: number) {
    now = T0;
    for (let i = 0; i < count; i++) targets.push(await loopbackTarget());
    app = await startApp(
      `storage: {path: ":memory:"}
dedup: {window: 10m}
targets:
${targetsYaml(targets.map((t) => t.url))}
`,
      { now: () => now },
    );
  }
  const post = async (msg: WebhookMessage) => {
    const res = await app!.post('/webhook', msg);
    expect(res.status, res.text).to.be.oneOf([200, 202]);
    return res.body.targets.map((t: { target: string; state: string; skipReason?: string }) => `${t.target}:${t.skipReason ?? t.state}`);
  };

  it('decides each target on the alerts its matchers select; a target that selects none takes no part', async () => {
    await start(([all, crit]) => `  - {name: all, type: webhook, url: "${all}", send_resolved: true}\n  - {name: crit, type: webhook, url: "${crit}", match: ['severity="critical"']}`, 2);
    expect(await post(group([['db-1', 'firing']]))).to.deep.equal(['all:succeeded', 'crit:succeeded']);
    now += 1000;
    // A warning joins the group: news for `all`; `crit` selects the same critical alert as before.
    expect(await post(group([['db-1', 'firing'], ['db-2', 'firing']], 3))).to.deep.equal(['all:succeeded', 'crit:duplicate']);
    now += 1000;
    // The warning resolves: `all` has send_resolved, `crit` does not see it at all.
    expect(await post(group([['db-1', 'firing'], ['db-2', 'resolved']], 5))).to.deep.equal(['all:succeeded', 'crit:duplicate']);
    now += 1000;
    // The other HA peer's copy of the same, timestamps apart.
    expect(await post(group([['db-1', 'firing'], ['db-2', 'resolved']], 9))).to.deep.equal(['all:duplicate', 'crit:duplicate']);
    expect(targets.map((t) => t.received.length)).to.deep.equal([3, 1]);
  });

  it('remembers the resolve of a target without send_resolved, so the alert firing again (flapping) reaches it', async () => {
    await start(([quiet]) => `  - {name: quiet, type: webhook, url: "${quiet}", send_resolved: false}`, 1);
    expect(await post(group([['db-1', 'firing']]))).to.deep.equal(['quiet:succeeded']);
    now += MINUTE;
    expect(await post(group([['db-1', 'resolved']]))).to.deep.equal(['quiet:filtered']);
    now += MINUTE;
    expect(await post(group([['db-1', 'firing']], 4))).to.deep.equal(['quiet:succeeded']);
    expect(targets[0]!.received).to.have.length(2);
  });

  it('forgets a state once dedup.window has passed, and never takes a repeat (notification_reason) for a duplicate', async () => {
    await start(([t]) => `  - {name: t, type: webhook, url: "${t}"}`, 1);
    expect(await post(group([['db-1', 'firing']]))).to.deep.equal(['t:succeeded']);
    now += 10 * MINUTE;
    expect(await post(group([['db-1', 'firing']]))).to.deep.equal(['t:duplicate']);
    now += 1;
    expect(await post(group([['db-1', 'firing']]))).to.deep.equal(['t:succeeded']);
    now += MINUTE;
    expect(await post(group([['db-1', 'firing']], 0, { notification_reason: 'repeat interval elapsed' }))).to.deep.equal(['t:succeeded']);
    expect(targets[0]!.received).to.have.length(3);
  });
});
