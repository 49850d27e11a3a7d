import { expect } from 'chai';
import { createRootlyPublisher, ROOTLY_ID_TTL_MS, type RootlyTarget } from '../../src/publishers/rootly.js';
import { config, ctx, fixture, mockDeps, targetMessage } from '../helpers/fixtures.js';
import type { Outcome } from '../../src/publishers/publisher.js';

const TOKEN = 'rootly-secret-token-0123456789abcdef';
const WEBHOOKS = 'https://webhooks.rootly.com';
const SOURCE_PATH = '/webhooks/incoming/alertmanager_webhooks';
const API = 'https://api.rootly.com';
const ROOTLY_ID = 'b715a992-c94f-428f-9490-d3bf4413df22';
const FINGERPRINT = '8da91e293e4015b0';
const NOW = Date.parse('2026-11-22T23:00:00Z');

type Deps = ReturnType<typeof mockDeps>;
interface Call {
  body: unknown;
  headers: Record<string, string>;
}

function target(overrides: Partial<RootlyTarget> = {}): RootlyTarget {
  return { name: 'rootly', type: 'rootly', enabled: true, match: [], send_resolved: true, token: TOKEN, mode: 'alertmanager', ...overrides };
}

/** Answer one POST to `origin` + `path` and record what was sent. */
function expectPost(deps: Deps, origin: string, path: string, status: number, reply: unknown = '', headers: Record<string, string> = {}): Call[] {
  const calls: Call[] = [];
  deps.agent
    .get(origin)
    .intercept({ path, method: 'POST' })
    .reply(
      status,
      (opts) => {
        calls.push({ body: JSON.parse(String(opts.body)), headers: opts.headers as Record<string, string> });
        return typeof reply === 'string' ? reply : JSON.stringify(reply);
      },
      { headers },
    );
  return calls;
}

const created = (id = ROOTLY_ID) => ({ data: { id, type: 'alerts', attributes: { status: 'triggered', short_id: 'ays54g' } } });
const firing = () => targetMessage(fixture('am025-firing-1-firing-noauth.json'));
const resolved = () => targetMessage(fixture('am025-resolved-1-resolved-noauth.json'));

function expectNoSecret(outcome: Outcome) {
  expect(JSON.stringify(outcome)).not.to.contain(TOKEN);
}

describe('rootly publisher, mode alertmanager', () => {
  let deps: Deps;
  beforeEach(() => (deps = mockDeps(() => NOW)));
  afterEach(() => deps.agent.close());

  it('posts the Alertmanager payload as received to the alert-source URL with the bearer secret', async () => {
    const calls = expectPost(deps, WEBHOOKS, SOURCE_PATH, 200, '{"status":"ok"}');
    const msg = firing();
    const outcome = await createRootlyPublisher(target(), deps).publish(msg, ctx());
    expect(outcome).to.deep.equal({ ok: true, status: 200 });
    expect(calls).to.have.length(1);
    expect(calls[0]?.body).to.deep.equal(fixture('am025-firing-1-firing-noauth.json'));
    expect(calls[0]?.headers).to.include({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' });
  });

  it('posts a resolved payload as received too, so that Rootly resolves the alert itself', async () => {
    const calls = expectPost(deps, WEBHOOKS, SOURCE_PATH, 202);
    const outcome = await createRootlyPublisher(target(), deps).publish(resolved(), ctx());
    expect(outcome).to.deep.equal({ ok: true, status: 202 });
    expect(calls[0]?.body).to.deep.equal(fixture('am025-resolved-1-resolved-noauth.json'));
  });

  it('sends the original payload, not the enriched view', async () => {
    const calls = expectPost(deps, WEBHOOKS, SOURCE_PATH, 200);
    const original = fixture('am025-firing-1-firing-noauth.json');
    const enriched = { ...original, commonLabels: { ...original.commonLabels, cluster: 'prod' } };
    await createRootlyPublisher(target(), deps).publish({ message: enriched, original }, ctx());
    expect(calls[0]?.body).to.deep.equal(original);
  });

  it('pages a notification target by appending /notify/<type>/<id> to the URL', async () => {
    const calls = expectPost(deps, WEBHOOKS, `${SOURCE_PATH}/notify/EscalationPolicy/ep%201`, 200);
    const t = target({ notification_target: { type: 'EscalationPolicy', id: 'ep 1' } });
    expect(await createRootlyPublisher(t, deps).publish(firing(), ctx())).to.deep.equal({ ok: true, status: 200 });
    expect(calls).to.have.length(1);
  });

  // Rootly's Alertmanager alert source documents /notify/<User|Group|EscalationPolicy|Service>/<id>, nothing else.
  it('accepts at load only the notification target types the alert source documents', () => {
    const load = (type: string, mode = 'alertmanager') => () =>
      config(`targets: [{name: r, type: rootly, token: "\${env:T}", mode: ${mode}, notification_target: {type: ${type}, id: "1"}}]`, { T: TOKEN });
    for (const type of ['User', 'Group', 'EscalationPolicy', 'Service']) expect(load(type)).not.to.throw();
    expect(load('Functionality')).to.throw(
      /: notification_target\.type: "Functionality" is not a notification target of Rootly's Alertmanager alert source \(User, Group, EscalationPolicy, Service\); use mode: api/,
    );
    expect(load('Functionality', 'api')).not.to.throw(); // the REST API's notification_target_type takes it
    expect(load('Team')).to.throw(/: notification_target\.type: must be one of/);
  });

  it('posts to the url override', async () => {
    const calls = expectPost(deps, 'http://rootly-proxy.internal:8080', '/am', 200);
    await createRootlyPublisher(target({ url: 'http://rootly-proxy.internal:8080/am/' }), deps).publish(firing(), ctx());
    expect(calls).to.have.length(1);
  });

  const classes: Array<[status: number, retryable: boolean, reason: string]> = [
    [400, false, 'clientError'],
    [401, false, 'authError'],
    [403, false, 'authError'],
    [404, false, 'clientError'],
    [429, true, 'rateLimited'],
    [500, true, 'serverError'],
    [503, true, 'serverError'],
  ];
  for (const [status, retryable, reason] of classes) {
    it(`reports ${status} as ${retryable ? 'retryable' : 'permanent'} (${reason}) without the secret`, async () => {
      expectPost(deps, WEBHOOKS, SOURCE_PATH, status, { errors: [{ title: `failed with ${status}`, status: String(status) }] });
      const outcome = await createRootlyPublisher(target(), deps).publish(firing(), ctx());
      expect(outcome).to.deep.include({ ok: false, retryable, reason, status, message: `unexpected status code ${status}: failed with ${status}` });
      expectNoSecret(outcome);
    });
  }

  it('honours Retry-After on 429', async () => {
    expectPost(deps, WEBHOOKS, SOURCE_PATH, 429, 'slow down', { 'retry-after': '30' });
    const outcome = await createRootlyPublisher(target(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', retryAfterMs: 30_000 });
  });

  it('reports a network error as retryable without the secret', async () => {
    deps.agent.get(WEBHOOKS).intercept({ path: SOURCE_PATH, method: 'POST' }).replyWithError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    const outcome = await createRootlyPublisher(target(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: 'network error: ECONNRESET' });
    expectNoSecret(outcome);
  });
});

describe('rootly publisher, mode api', () => {
  let deps: Deps;
  const api = (overrides: Partial<RootlyTarget> = {}) => target({ mode: 'api', ...overrides });
  beforeEach(() => (deps = mockDeps(() => NOW)));
  afterEach(() => deps.agent.close());

  it('creates one Rootly alert with the exact JSON:API body and stores its id by fingerprint', async () => {
    const calls = expectPost(deps, API, '/v1/alerts', 201, created());
    const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.equal({ ok: true, status: 201 });
    expect(calls[0]?.headers).to.include({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/vnd.api+json',
      accept: 'application/vnd.api+json',
    });
    expect(calls[0]?.body).to.deep.equal({
      data: {
        type: 'alerts',
        attributes: {
          source: 'alertmanager',
          summary: 'TestAlert: test summary',
          external_id: FINGERPRINT,
          deduplication_key: FINGERPRINT,
          external_url: 'http://prom.example/graph',
          started_at: '2026-11-22T22:18:13.254673666Z',
          labels: [
            { key: 'alertname', value: 'TestAlert' },
            { key: 'instance', value: 'host1' },
            { key: 'severity', value: 'critical' },
          ],
          data: {
            alertmanager: {
              fingerprint: FINGERPRINT,
              annotations: { summary: 'test summary' },
              groupKey: '{}:{alertname="TestAlert"}',
              receiver: 'fanout',
              externalURL: 'http://127.0.0.1:19093',
              generatorURL: 'http://prom.example/graph',
            },
          },
        },
      },
    });
    expect(deps.state.get(`alert:${FINGERPRINT}`)).to.deep.equal({ id: ROOTLY_ID, startsAt: '2026-11-22T22:18:13.254673666Z' });
    expect(deps.state.entries.get(`alert:${FINGERPRINT}`)?.expiresAt).to.equal(NOW + ROOTLY_ID_TTL_MS);
  });

  it('adds the description and the notification target when there are some', async () => {
    const calls = expectPost(deps, API, '/v1/alerts', 201, created());
    const msg = fixture('am025-firing-1-firing-noauth.json');
    msg.alerts[0]!.annotations['description'] = 'host1 is down';
    const t = api({ notification_target: { type: 'Service', id: 'svc-1' } });
    await createRootlyPublisher(t, deps).publish(targetMessage(msg), ctx());
    expect((calls[0]?.body as { data: { attributes: object } }).data.attributes).to.deep.include({
      description: 'host1 is down',
      notification_target_type: 'Service',
      notification_target_id: 'svc-1',
    });
  });

  it('resolves the stored Rootly alert with the documented resolve call and forgets its id', async () => {
    deps.state.set(`alert:${FINGERPRINT}`, { id: ROOTLY_ID, startsAt: '2026-11-22T22:18:13.254673666Z' }, 60_000);
    const calls = expectPost(deps, API, `/v1/alerts/${ROOTLY_ID}/resolve`, 200, { data: { id: ROOTLY_ID, type: 'alerts', attributes: { status: 'resolved' } } });
    const outcome = await createRootlyPublisher(api(), deps).publish(resolved(), ctx());
    expect(outcome).to.deep.equal({ ok: true, status: 200 });
    expect(calls[0]?.headers).to.include({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/vnd.api+json' });
    expect(calls[0]?.body).to.deep.equal({
      data: { type: 'alerts', attributes: { resolution_message: 'Resolved by Alertmanager at 2026-11-22T22:18:46Z' } },
    });
    expect(deps.state.get(`alert:${FINGERPRINT}`)).to.equal(undefined);
  });

  it('resolves across a restart: a new publisher with the same state finds the id', async () => {
    expectPost(deps, API, '/v1/alerts', 201, created());
    expect(await createRootlyPublisher(api(), deps).publish(firing(), ctx())).to.deep.equal({ ok: true, status: 201 });

    const restarted = { ...mockDeps(() => NOW), state: deps.state };
    const calls = expectPost(restarted, API, `/v1/alerts/${ROOTLY_ID}/resolve`, 200, {});
    expect(await createRootlyPublisher(api(), restarted).publish(resolved(), ctx())).to.deep.equal({ ok: true, status: 200 });
    expect(calls).to.have.length(1);
    await restarted.agent.close();
  });

  it('succeeds without any request when no id is stored for a resolved alert', async () => {
    // The MockAgent refuses every request: a request would come back as a network failure.
    const outcome = await createRootlyPublisher(api(), deps).publish(resolved(), ctx());
    expect(outcome).to.deep.equal({ ok: true });
  });

  it('does not create a second Rootly alert when the same firing is notified again', async () => {
    expectPost(deps, API, '/v1/alerts', 201, created());
    const publisher = createRootlyPublisher(api(), deps);
    await publisher.publish(firing(), ctx());
    expect(await publisher.publish(firing(), ctx())).to.deep.equal({ ok: true });
    deps.agent.assertNoPendingInterceptors();
  });

  it('creates a new Rootly alert when the same fingerprint fires again later', async () => {
    deps.state.set(`alert:${FINGERPRINT}`, { id: 'old-id', startsAt: '2026-11-01T00:00:00Z' }, 60_000);
    expectPost(deps, API, '/v1/alerts', 201, created('new-id'));
    await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(deps.state.get(`alert:${FINGERPRINT}`)).to.deep.equal({ id: 'new-id', startsAt: '2026-11-22T22:18:13.254673666Z' });
  });

  it('handles each alert of a mixed group: creates the firing ones, resolves the resolved one', async () => {
    deps.state.set('alert:3cb6c585fa102a40', { id: 'r-3', startsAt: 'x' }, 60_000);
    const first = expectPost(deps, API, '/v1/alerts', 201, created('r-1'));
    const second = expectPost(deps, API, '/v1/alerts', 201, created('r-2'));
    const resolves = expectPost(deps, API, '/v1/alerts/r-3/resolve', 200, {});
    const outcome = await createRootlyPublisher(api(), deps).publish(targetMessage(fixture('am025-mixed-firing-resolved.json')), ctx());
    expect(outcome.ok).to.equal(true);
    const externalIds = [...first, ...second].map((c) => (c.body as { data: { attributes: { external_id: string } } }).data.attributes.external_id);
    expect(externalIds.sort()).to.deep.equal(['0580fd5357801489', '4e9bb96e7864fa55']);
    expect(resolves).to.have.length(1);
    expect(deps.state.get('alert:3cb6c585fa102a40')).to.equal(undefined);
  });

  it('retries only what is left: alerts created before a failure are not created twice', async () => {
    const msg = targetMessage(fixture('am025-mixed-firing-resolved.json'));
    msg.message.alerts = msg.message.alerts.filter((a) => a.status === 'firing');
    const first = expectPost(deps, API, '/v1/alerts', 201, created('r-1'));
    expectPost(deps, API, '/v1/alerts', 503, { errors: [{ title: 'Service Unavailable' }] });
    const publisher = createRootlyPublisher(api(), deps);
    const failed = await publisher.publish(msg, ctx());
    expect(failed).to.deep.include({ ok: false, retryable: true, reason: 'serverError', status: 503 });

    const retry = expectPost(deps, API, '/v1/alerts', 201, created('r-2'));
    expect(await publisher.publish(msg, ctx())).to.deep.equal({ ok: true, status: 201 });
    const done = (first[0]?.body as { data: { attributes: { external_id: string } } }).data.attributes.external_id;
    const redone = (retry[0]?.body as { data: { attributes: { external_id: string } } }).data.attributes.external_id;
    expect(redone).not.to.equal(done);
    deps.agent.assertNoPendingInterceptors();
  });

  const classes: Array<[status: number, retryable: boolean, reason: string]> = [
    [400, false, 'clientError'],
    [401, false, 'authError'],
    [403, false, 'authError'],
    [404, false, 'clientError'],
    [422, false, 'clientError'],
    [500, true, 'serverError'],
    [502, true, 'serverError'],
  ];
  for (const [status, retryable, reason] of classes) {
    it(`reports a create answered ${status} as ${retryable ? 'retryable' : 'permanent'} with Rootly's error title and no secret`, async () => {
      expectPost(deps, API, '/v1/alerts', status, { errors: [{ title: "Summary can't be blank", status: String(status) }] });
      const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
      expect(outcome).to.deep.equal({
        ok: false,
        retryable,
        reason,
        status,
        message: `alert ${FINGERPRINT}: unexpected status code ${status}: Summary can't be blank`,
      });
      expectNoSecret(outcome);
      expect(deps.state.get(`alert:${FINGERPRINT}`)).to.equal(undefined);
    });
  }

  it('waits until RateLimit-Reset (epoch seconds) on 429', async () => {
    const reset = String(NOW / 1000 + 42);
    expectPost(deps, API, '/v1/alerts', 429, { errors: [{ title: 'Rate limit exceeded', status: '429' }] }, {
      'ratelimit-limit': '3000',
      'ratelimit-remaining': '0',
      'ratelimit-reset': reset,
    });
    const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'rateLimited', status: 429, retryAfterMs: 42_000 });
  });

  it('prefers Retry-After over RateLimit-Reset on 429', async () => {
    expectPost(deps, API, '/v1/alerts', 429, '', { 'retry-after': '5', 'ratelimit-reset': String(NOW / 1000 + 42) });
    const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.include({ retryable: true, retryAfterMs: 5000 });
  });

  it('keeps the id when the resolve fails, so a retry or a replay can still resolve', async () => {
    deps.state.set(`alert:${FINGERPRINT}`, { id: ROOTLY_ID, startsAt: 'x' }, 60_000);
    expectPost(deps, API, `/v1/alerts/${ROOTLY_ID}/resolve`, 404, { errors: [{ title: 'Not found or unauthorized', status: '404' }] });
    const outcome = await createRootlyPublisher(api(), deps).publish(resolved(), ctx());
    expect(outcome).to.deep.include({ ok: false, retryable: false, reason: 'clientError', status: 404 });
    expect(outcome).to.have.property('message').that.contains('Not found or unauthorized');
    expect(deps.state.get(`alert:${FINGERPRINT}`)).to.deep.equal({ id: ROOTLY_ID, startsAt: 'x' });
  });

  it('reports a create answered without an alert id as a permanent failure', async () => {
    expectPost(deps, API, '/v1/alerts', 201, '{}');
    const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.include({ ok: false, retryable: false, reason: 'other', status: 201 });
  });

  it('reports a network error as retryable without the secret', async () => {
    deps.agent.get(API).intercept({ path: '/v1/alerts', method: 'POST' }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const outcome = await createRootlyPublisher(api(), deps).publish(firing(), ctx());
    expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: `alert ${FINGERPRINT}: network error: ECONNREFUSED` });
    expectNoSecret(outcome);
  });

  it('uses the url override as the API base', async () => {
    const calls = expectPost(deps, 'http://127.0.0.1:4010', '/rootly/v1/alerts', 201, created());
    await createRootlyPublisher(api({ url: 'http://127.0.0.1:4010/rootly' }), deps).publish(firing(), ctx());
    expect(calls).to.have.length(1);
  });
});
