import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { createWebhookPublisher, type WebhookTarget } from '../../src/publishers/webhook.js';
import { signatureHeaders, signingKey } from '../../src/publishers/signing.js';
import { createEnricher } from '../../src/alerts/enrich.js';
import { ctx, fixture, mockDeps } from '../helpers/fixtures.js';
import type { TargetMessage } from '../../src/alerts/types.js';
import type { Outcome } from '../../src/publishers/publisher.js';

const ORIGIN = 'https://hooks.example.com';
const PATH = '/alerts/T0KEN-IN-PATH';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function target(overrides: Partial<WebhookTarget> = {}): WebhookTarget {
  return {
    name: 'audit',
    type: 'webhook',
    enabled: true,
    match: [],
    send_resolved: true,
    url: `${ORIGIN}${PATH}`,
    format: 'alertmanager',
    headers: {},
    max_alerts: 0,
    ...overrides,
  };
}

/** The group as Alertmanager sent it and as alertmux enriched it (so the two views differ). */
function groupMessage(name = 'am025-grouped-firing.json'): TargetMessage {
  const original = fixture(name);
  const message = createEnricher({ labels: { cluster: 'prod-eu-1' }, severity_map: {}, links: {}, silence_link: false })(original);
  return { original, message };
}

interface Seen {
  headers: Record<string, string>;
  body: string;
}

describe('webhook publisher', () => {
  let deps: ReturnType<typeof mockDeps>;
  let now: number;
  let seen: Seen[];

  /** Answer the next request(s) with `status`, recording what arrived. */
  function answer(status: number, body = '', times = 1): void {
    deps.agent
      .get(ORIGIN)
      .intercept({ path: PATH, method: 'POST' })
      .reply((opts) => {
        seen.push({ headers: opts.headers as Record<string, string>, body: String(opts.body) });
        return { statusCode: status, data: body };
      })
      .times(times);
  }

  beforeEach(() => {
    now = Date.parse('2026-11-22T23:00:00Z');
    deps = mockDeps(() => now);
    seen = [];
  });
  afterEach(async () => {
    deps.agent.assertNoPendingInterceptors();
    await deps.agent.close();
  });

  describe('payload', () => {
    it('passes the payload through exactly as Alertmanager sent it with format alertmanager', async () => {
      answer(200);
      const msg = groupMessage();
      expect(await createWebhookPublisher(target(), deps).publish(msg, ctx())).to.deep.equal({ ok: true, status: 200 });
      expect(JSON.parse(seen[0]!.body)).to.deep.equal(msg.original);
      expect(seen[0]!.body).to.not.include('prod-eu-1');
      expect(seen[0]!.headers['content-type']).to.equal('application/json');
    });

    it('sends the enriched group with format alertmux', async () => {
      answer(202);
      const msg = groupMessage();
      await createWebhookPublisher(target({ format: 'alertmux' }), deps).publish(msg, ctx());
      const body = JSON.parse(seen[0]!.body) as TargetMessage['message'];
      expect(body).to.deep.equal(msg.message);
      expect(body.alerts.every((a) => a.labels['cluster'] === 'prod-eu-1')).to.equal(true);
    });

    it('sends at most max_alerts alerts and counts the rest in truncatedAlerts, as Alertmanager does', async () => {
      answer(200, '', 2);
      const msg = groupMessage();
      const count = msg.original.alerts.length;
      expect(count).to.be.greaterThan(2);
      const publisher = createWebhookPublisher(target({ max_alerts: 2 }), deps);
      await publisher.publish(msg, ctx());
      const body = JSON.parse(seen[0]!.body) as TargetMessage['original'];
      expect(body.alerts).to.deep.equal(msg.original.alerts.slice(0, 2));
      expect(body.truncatedAlerts).to.equal(count - 2);
      // Already-truncated input adds up.
      await publisher.publish({ ...msg, original: { ...msg.original, truncatedAlerts: 5 } }, ctx());
      expect((JSON.parse(seen[1]!.body) as TargetMessage['original']).truncatedAlerts).to.equal(count - 2 + 5);
      expect(msg.original.alerts).to.have.length(count);
    });

    it('sends everything when max_alerts is 0 or not exceeded', async () => {
      answer(200, '', 2);
      const msg = groupMessage();
      await createWebhookPublisher(target({ max_alerts: 0 }), deps).publish(msg, ctx());
      await createWebhookPublisher(target({ max_alerts: msg.original.alerts.length }), deps).publish(msg, ctx());
      for (const s of seen) expect(JSON.parse(s.body)).to.deep.equal(msg.original);
    });
  });

  describe('headers and auth', () => {
    it('adds the custom headers', async () => {
      answer(200);
      await createWebhookPublisher(target({ headers: { 'X-Api-Key': 'k-123', 'X-Tenant': 'acme' } }), deps).publish(groupMessage(), ctx());
      expect(seen[0]!.headers).to.deep.include({ 'X-Api-Key': 'k-123', 'X-Tenant': 'acme', 'user-agent': 'alertmux-test' });
    });

    it('sends a bearer token', async () => {
      answer(200);
      await createWebhookPublisher(target({ bearer_token: 'tok-abc' }), deps).publish(groupMessage(), ctx());
      expect(seen[0]!.headers['authorization']).to.equal('Bearer tok-abc');
    });

    it('sends basic auth', async () => {
      answer(200);
      await createWebhookPublisher(target({ basic_auth: { username: 'am', password: 'p:w' } }), deps).publish(groupMessage(), ctx());
      expect(seen[0]!.headers['authorization']).to.equal(`Basic ${Buffer.from('am:p:w').toString('base64')}`);
    });

    it('sends no authorization and no signature unless configured', async () => {
      answer(200);
      await createWebhookPublisher(target(), deps).publish(groupMessage(), ctx());
      for (const h of ['authorization', 'webhook-id', 'webhook-timestamp', 'webhook-signature']) expect(seen[0]!.headers).to.not.have.property(h);
    });
  });

  describe('Standard Webhooks signing', () => {
    it('reproduces the test vector of the specification', () => {
      const headers = signatureHeaders(signingKey(SECRET), 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
      expect(headers).to.deep.equal({
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      });
    });

    it('accepts a secret without the whsec_ prefix', () => {
      expect(signingKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).to.deep.equal(signingKey(SECRET));
    });

    it('signs the exact bytes sent, with an id stable across attempts and the timestamp of each attempt', async () => {
      answer(500, 'busy');
      answer(200);
      const publisher = createWebhookPublisher(target({ signing_secret: SECRET }), deps);
      const msg = groupMessage();
      await publisher.publish(msg, ctx({ deliveryId: 'd_42', attempt: 1 }));
      now += 90_500;
      await publisher.publish(msg, ctx({ deliveryId: 'd_42', attempt: 2 }));

      const [first, second] = seen;
      expect(first!.headers['webhook-id']).to.equal('msg_d_42');
      expect(second!.headers['webhook-id']).to.equal('msg_d_42');
      expect(first!.headers['webhook-timestamp']).to.equal(String(Date.parse('2026-11-22T23:00:00Z') / 1000));
      expect(second!.headers['webhook-timestamp']).to.equal(String(Date.parse('2026-11-22T23:01:30Z') / 1000));
      for (const s of seen) {
        const expected = createHmac('sha256', Buffer.from(SECRET.slice('whsec_'.length), 'base64'))
          .update(`${s.headers['webhook-id']}.${s.headers['webhook-timestamp']}.${s.body}`)
          .digest('base64');
        expect(s.headers['webhook-signature']).to.equal(`v1,${expected}`);
      }
      expect(first!.headers['webhook-signature']).to.not.equal(second!.headers['webhook-signature']);
    });

    it('gives another delivery another id', async () => {
      answer(200, '', 2);
      const publisher = createWebhookPublisher(target({ signing_secret: SECRET }), deps);
      await publisher.publish(groupMessage(), ctx({ deliveryId: 'd_1' }));
      await publisher.publish(groupMessage(), ctx({ deliveryId: 'd_2' }));
      expect(seen.map((s) => s.headers['webhook-id'])).to.deep.equal(['msg_d_1', 'msg_d_2']);
    });
  });

  describe('failures', () => {
    const secrets = ['T0KEN-IN-PATH', 'hooks.example.com', 'tok-abc', 'k-123', 'MfKQ9r8', 'p-w-d'];
    const full = () =>
      createWebhookPublisher(
        target({ bearer_token: 'tok-abc', headers: { 'X-Api-Key': 'k-123' }, signing_secret: SECRET, basic_auth: { username: 'u', password: 'p-w-d' } }),
        deps,
      );
    const expectNoSecret = (outcome: Outcome) => {
      expect(outcome.ok).to.equal(false);
      const text = JSON.stringify(outcome);
      for (const s of secrets) expect(text).to.not.include(s);
    };

    it('reports a 5xx as retryable without the URL or secrets', async () => {
      answer(503, 'Service Unavailable');
      const outcome = await full().publish(groupMessage(), ctx());
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'serverError', status: 503, message: 'unexpected status code 503: Service Unavailable' });
      expectNoSecret(outcome);
    });

    it('reports a 401 as a permanent auth error', async () => {
      answer(401, 'unauthorized');
      const outcome = await full().publish(groupMessage(), ctx());
      expect(outcome).to.deep.include({ ok: false, retryable: false, reason: 'authError', status: 401 });
      expectNoSecret(outcome);
    });

    it('reports a connection error as retryable without the URL or secrets', async () => {
      deps.agent
        .get(ORIGIN)
        .intercept({ path: PATH, method: 'POST' })
        .replyWithError(Object.assign(new Error(`connect ECONNREFUSED ${ORIGIN}${PATH}`), { code: 'ECONNREFUSED' }));
      const outcome = await full().publish(groupMessage(), ctx());
      expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'network' });
      expectNoSecret(outcome);
    });

    it('reports an attempt whose timeout already fired as a retryable timeout, and sends nothing', async () => {
      // No interceptor: a request would fail as a network error (net connect is disabled), not as a timeout.
      const signal = AbortSignal.abort(new DOMException('attempt timed out', 'TimeoutError'));
      const outcome = await full().publish(groupMessage(), ctx({ signal }));
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'timeout', message: 'request timed out' });
    });
  });
});
