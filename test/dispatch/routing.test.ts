import { expect } from 'chai';
import { createEnricher } from '../../src/alerts/enrich.js';
import { compileTemplate, templateView } from '../../src/publishers/templates.js';
import { alert, webhookMessage } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { runtimeOf, targetOf } from '../helpers/targets.js';
import { select, targetMessage } from '../../src/dispatch/routing.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

function yaml(targets: string): string {
  return `storage: {path: ":memory:"}
retry: {initial_backoff: 20ms, max_backoff: 40ms}
dispatch: {response_deadline: 2s, timeout: 1s}
targets:
${targets}`;
}

describe("routing with Alertmanager's matchers, end to end through the app (loopback targets)", () => {
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  const target = async () => {
    const t = await loopbackTarget();
    targets.push(t);
    return t;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
  });

  const checkout = alert({ alertname: 'SlowCheckout', 'service.name': 'checkout', 'http.status_code': '503', severity: 'CRITICAL' });
  const cart = alert({ alertname: 'CartErrors', 'service.name': 'cart', severity: 'warning' });
  const group = (extra: Partial<WebhookMessage> = {}) =>
    webhookMessage({ groupKey: '{}:{team="payments"}', groupLabels: {}, commonLabels: {}, alerts: [checkout, cart], ...extra });
  const names = (t: LoopbackTarget, i = 0) => (t.received[i]?.body as WebhookMessage).alerts.map((a) => a.labels['alertname']);
  const states = (body: { targets: Array<{ target: string; state: string; skipReason?: string }> }) =>
    Object.fromEntries(body.targets.map((t) => [t.target, t.skipReason ?? t.state]));

  it('selects on UTF-8 label names, RE2 flags, comma lists and routeLabels, and reads no label from the prototype', async () => {
    const payments = await target();
    const critical = await target();
    const ops = await target();
    const proto = await target();
    app = await startApp(
      yaml(`  - {name: payments, type: webhook, url: "${payments.url}", match_route: ['team="payments"'], match: ['"service.name"="checkout"']}
  - {name: critical, type: webhook, url: "${critical.url}", match: ['{"service.name"=~"check.*", severity=~"(?i)crit.*"}']}
  - {name: ops, type: webhook, url: "${ops.url}", match_route: ['team!="payments",env=""']}
  - {name: proto, type: webhook, url: "${proto.url}", match: ['constructor=""', '__proto__!~".+"']}`),
    );
    const res = await app.post('/webhook', group({ routeLabels: { team: 'payments' } }));
    expect(res.status).to.equal(200);
    expect(states(res.body)).to.deep.equal({ payments: 'succeeded', critical: 'succeeded', ops: 'filtered', proto: 'succeeded' });
    expect(names(payments)).to.deep.equal(['SlowCheckout']);
    expect(names(critical)).to.deep.equal(['SlowCheckout']);
    expect(names(proto)).to.deep.equal(['SlowCheckout', 'CartErrors']);
    expect(ops.received).to.have.length(0);
    // what was forwarded keeps the dotted names and the routeLabels as Alertmanager sent them
    const forwarded = payments.received[0]?.body as WebhookMessage;
    expect(forwarded.alerts[0]?.labels['service.name']).to.equal('checkout');
    expect(forwarded.routeLabels).to.deep.equal({ team: 'payments' });
  });

  it('treats a notification without routeLabels (Alertmanager before 0.34) as having every route label empty', async () => {
    const payments = await target();
    const ops = await target();
    app = await startApp(
      yaml(`  - {name: payments, type: webhook, url: "${payments.url}", match_route: ['team="payments"']}
  - {name: ops, type: webhook, url: "${ops.url}", match_route: ['team!="payments"']}`),
    );
    const res = await app.post('/webhook', group());
    expect(states(res.body)).to.deep.equal({ payments: 'filtered', ops: 'succeeded' });
    expect(names(ops)).to.deep.equal(['SlowCheckout', 'CartErrors']);
    const other = await app.post('/webhook', group({ groupKey: '{}:{team="search"}', routeLabels: { team: 'search' } }));
    expect(states(other.body)).to.deep.equal({ payments: 'filtered', ops: 'succeeded' });
  });

  it('refuses to start on a regex RE2 rejects, naming the target', async () => {
    const t = await target();
    let error: unknown;
    try {
      app = await startApp(yaml(`  - {name: lookahead, type: webhook, url: "${t.url}", match: ['foo=~"a(?!b)"']}`));
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.include('target "lookahead": match[0]: bad matcher').and.include('RE2 has no lookahead or lookbehind');
  });
});

describe('dotted label names in Handlebars templates', () => {
  const msg = webhookMessage({
    commonLabels: { 'service.name': 'checkout' },
    alerts: [alert({ alertname: 'SlowCheckout', 'service.name': 'checkout', 'k8s.namespace.name': 'shop' })],
  });

  it('reaches them with lookup or a [segment], in chat templates', () => {
    const render = compileTemplate('{{lookup commonLabels "service.name"}} {{commonLabels.[service.name]}}{{#each alerts}} {{lookup labels "k8s.namespace.name"}}{{/each}}');
    expect(render(templateView(msg))).to.equal('checkout checkout shop');
  });

  it('reaches them in enrich link templates', () => {
    const enrich = createEnricher({
      labels: {},
      severity_map: {},
      silence_link: false,
      links: { dashboard_url: 'https://grafana.example.com/d/svc?var-service={{lookup labels "service.name"}}&ns={{labels.[k8s.namespace.name]}}' },
    });
    expect(enrich(msg).alerts[0]?.annotations['dashboard_url']).to.equal('https://grafana.example.com/d/svc?var-service=checkout&ns=shop');
  });

  it('does not expose prototype properties through lookup', () => {
    expect(compileTemplate('[{{lookup labels "constructor"}}]')({ ...templateView(msg), labels: {} } as never)).to.equal('[]');
  });
});

describe('routing: which alerts each target takes (select, pure)', () => {
  const clock = () => 0;
  const targets = `targets:
  - {name: all, type: webhook, url: "http://all.test/"}
  - {name: off, type: webhook, url: "http://off.test/", enabled: false}
  - {name: payments, type: webhook, url: "http://p.test/", match_route: ['team="payments"']}
  - {name: critical, type: webhook, url: "http://c.test/", match: ['severity="critical"']}
  - {name: firing-only, type: webhook, url: "http://f.test/", send_resolved: false}
`;
  const disk = alert({ alertname: 'Disk', severity: 'critical' });
  const cpu = alert({ alertname: 'Cpu', severity: 'warning' });
  const resolvedDisk = alert({ alertname: 'Disk', severity: 'critical' }, { status: 'resolved' });
  const msg = (alerts = [disk, cpu], routeLabels?: Record<string, string>) =>
    webhookMessage({ alerts, ...(routeLabels ? { routeLabels } : {}) });
  const pick = async (name: string, message: WebhookMessage, everything = false) => {
    const { rt } = await runtimeOf(targets, clock);
    const { alerts, matched, skip } = select(targetOf(rt, name), message, everything);
    return { alerts, matched, skip };
  };

  it('gives a target with no matchers every alert', async () => {
    expect(await pick('all', msg())).to.deep.equal({ alerts: [0, 1], matched: [0, 1], skip: undefined });
  });

  it('skips a disabled target as disabled, even when the matchers are ignored', async () => {
    expect(await pick('off', msg())).to.deep.equal({ alerts: [], matched: [], skip: 'disabled' });
    expect((await pick('off', msg(), true)).skip).to.equal('disabled');
  });

  it("filters on match_route against the notification's routeLabels, not the alerts' labels", async () => {
    expect((await pick('payments', msg([disk], { team: 'payments' }))).alerts).to.deep.equal([0]);
    expect(await pick('payments', msg([alert({ alertname: 'Disk', team: 'payments' })], { team: 'ops' }))).to.deep.equal({ alerts: [], matched: [], skip: 'filtered' });
  });

  it("selects alerts by match on each alert's labels, and filters when none match", async () => {
    expect(await pick('critical', msg())).to.deep.equal({ alerts: [0], matched: [0], skip: undefined });
    expect(await pick('critical', msg([cpu]))).to.deep.equal({ alerts: [], matched: [], skip: 'filtered' });
  });

  it('leaves resolved alerts out without send_resolved but still counts them as matched (for dedup)', async () => {
    expect(await pick('firing-only', msg([resolvedDisk, cpu]))).to.deep.equal({ alerts: [1], matched: [0, 1], skip: undefined });
    expect(await pick('firing-only', msg([resolvedDisk]))).to.deep.equal({ alerts: [], matched: [0], skip: 'filtered' });
    expect((await pick('all', msg([resolvedDisk]))).alerts).to.deep.equal([0]);
  });

  it('ignores match and match_route when asked (the dead man\'s page), but not send_resolved', async () => {
    expect((await pick('critical', msg([cpu]), true)).alerts).to.deep.equal([0]);
    expect((await pick('payments', msg([cpu], { team: 'ops' }), true)).alerts).to.deep.equal([0]);
    expect((await pick('firing-only', msg([resolvedDisk]), true)).skip).to.equal('filtered');
  });

  it('cuts what a target receives to its alerts, the same objects when it takes them all', () => {
    const original = msg();
    const enriched = { ...original, alerts: original.alerts.map((a) => ({ ...a, annotations: { ...a.annotations, runbook: 'x' } })) };
    const whole = targetMessage(original, enriched, [0, 1]);
    expect(whole.message).to.equal(enriched);
    expect(whole.original).to.equal(original);
    const part = targetMessage(original, enriched, [1]);
    expect(part.message.alerts).to.deep.equal([enriched.alerts[1]]);
    expect(part.original.alerts.map((a) => a.labels['alertname'])).to.deep.equal(['Cpu']);
  });
});
