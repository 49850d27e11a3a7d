import { expect } from 'chai';
import { createEnricher } from '../../src/alerts/enrich.js';
import { compileTemplate, templateView } from '../../src/publishers/templates.js';
import { alert, webhookMessage } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
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
