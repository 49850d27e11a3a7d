import { expect } from 'chai';
import sinon from 'sinon';
import * as nodeTimers from 'node:timers';
import { createAlertmanagerPublisher, MAX_BATCH, type AlertmanagerTarget } from '../../src/publishers/alertmanager.js';
import { alert, ctx, fixture, mockDeps, targetMessage, webhookMessage } from '../helpers/fixtures.js';
import type { PostableAlert } from '../../src/publishers/alertmanager-alerts.js';
import type { Outcome, Publisher } from '../../src/publishers/publisher.js';

const ORIGIN = 'http://am.example:9093';
const PATH = '/api/v2/alerts';
const BEARER = 'am-bearer-secret-0123456789';
const PASSWORD = 'am-basic-password-9876543210';
const NOW = Date.parse('2026-11-22T23:00:00Z');
const MINUTE = 60_000;

type Deps = ReturnType<typeof mockDeps>;

function target(overrides: Partial<AlertmanagerTarget> = {}): AlertmanagerTarget {
  return {
    name: 'downstream',
    type: 'alertmanager',
    enabled: true,
    match: [],
    send_resolved: true,
    url: ORIGIN,
    extra_labels: {},
    repost_interval: MINUTE,
    active_ttl: 24 * 60 * MINUTE,
    ...overrides,
  };
}

/** A downstream Alertmanager double that records every POST /api/v2/alerts. */
function downstream(deps: Deps, status = 200, reply = '', origin = ORIGIN, path = PATH) {
  const posts: Array<{ body: PostableAlert[]; headers: Record<string, string> }> = [];
  let waiting: Array<() => void> = [];
  deps.agent
    .get(origin)
    .intercept({ path, method: 'POST' })
    .reply(status, (opts) => {
      posts.push({ body: JSON.parse(String(opts.body)) as PostableAlert[], headers: opts.headers as Record<string, string> });
      for (const wake of waiting) wake();
      waiting = [];
      return reply;
    })
    .persist();
  /** Resolves when the next POST arrives. */
  const next = () => new Promise<void>((resolve) => waiting.push(resolve));
  return { posts, next };
}

/** Let pending I/O callbacks run (real timers: only setInterval is faked). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

const firing = () => targetMessage(fixture('am025-firing-1-firing-noauth.json'));
const resolved = () => targetMessage(fixture('am025-resolved-1-resolved-noauth.json'));
const FIRING_BODY: PostableAlert[] = [
  {
    labels: { alertname: 'TestAlert', instance: 'host1', severity: 'critical' },
    annotations: { summary: 'test summary' },
    startsAt: '2026-11-22T22:18:13.254673666Z',
    generatorURL: 'http://prom.example/graph',
  },
];
const RESOLVED_BODY: PostableAlert[] = [{ ...FIRING_BODY[0]!, endsAt: '2026-11-22T22:18:46Z' }];

describe('alertmanager publisher', () => {
  let deps: Deps;
  let now: number;
  let clock: sinon.SinonFakeTimers;
  const publishers: Publisher[] = [];
  const create = (t: AlertmanagerTarget = target(), d: Deps = deps) => {
    const p = createAlertmanagerPublisher(t, d);
    publishers.push(p);
    return p;
  };

  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    now = NOW;
    deps = mockDeps(() => now);
  });
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close?.()));
    clock.restore();
    sinon.restore();
    await deps.agent.close();
  });

  describe('the contract of POST /api/v2/alerts', () => {
    it('posts a firing alert as a postable alert without endsAt', async () => {
      const am = downstream(deps);
      const outcome = await create().publish(firing(), ctx());
      expect(outcome).to.deep.equal({ ok: true, status: 200 });
      expect(am.posts).to.have.length(1);
      expect(am.posts[0]?.body).to.deep.equal(FIRING_BODY);
      expect(am.posts[0]?.headers).to.include({ 'content-type': 'application/json' });
    });

    it('posts a resolved alert with its endsAt', async () => {
      const am = downstream(deps);
      expect(await create().publish(resolved(), ctx())).to.deep.equal({ ok: true, status: 200 });
      expect(am.posts[0]?.body).to.deep.equal(RESOLVED_BODY);
    });

    it('never forwards the zero endsAt of firing alerts in a mixed group', async () => {
      const am = downstream(deps);
      await create().publish(targetMessage(fixture('am025-mixed-firing-resolved.json')), ctx());
      const body = am.posts[0]?.body ?? [];
      expect(body.map((a) => a.endsAt)).to.deep.equal([undefined, undefined, '2026-11-22T23:02:21.264Z']);
      expect(JSON.stringify(body)).not.to.contain('0001-01-01');
    });

    it('forwards the enriched view of the alerts', async () => {
      const am = downstream(deps);
      const original = fixture('am025-firing-1-firing-noauth.json');
      const enriched = fixture('am025-firing-1-firing-noauth.json');
      enriched.alerts[0]!.labels['cluster'] = 'prod-eu-1';
      await create().publish({ message: enriched, original }, ctx());
      expect(am.posts[0]?.body[0]?.labels).to.deep.equal({ alertname: 'TestAlert', instance: 'host1', severity: 'critical', cluster: 'prod-eu-1' });
    });

    it('adds extra_labels to every alert, over the alert’s own', async () => {
      const am = downstream(deps);
      await create(target({ extra_labels: { relayed_by: 'alertmux', severity: 'page' } })).publish(firing(), ctx());
      expect(am.posts[0]?.body[0]?.labels).to.deep.equal({ alertname: 'TestAlert', instance: 'host1', severity: 'page', relayed_by: 'alertmux' });
    });

    it('leaves generatorURL out when the alert has none', async () => {
      const am = downstream(deps);
      await create().publish(targetMessage(webhookMessage({ alerts: [alert({ alertname: 'X' }, { generatorURL: '', fingerprint: 'f1' })] })), ctx());
      expect(am.posts[0]?.body[0]).not.to.have.property('generatorURL');
    });

    it('appends /api/v2/alerts to a base URL with a route prefix', async () => {
      const am = downstream(deps, 200, '', ORIGIN, '/am/api/v2/alerts');
      expect(await create(target({ url: `${ORIGIN}/am/` })).publish(firing(), ctx())).to.deep.equal({ ok: true, status: 200 });
      expect(am.posts).to.have.length(1);
    });

    it('sends the bearer token', async () => {
      const am = downstream(deps);
      await create(target({ bearer_token: BEARER })).publish(firing(), ctx());
      expect(am.posts[0]?.headers).to.include({ authorization: `Bearer ${BEARER}` });
    });

    it('sends basic auth', async () => {
      const am = downstream(deps);
      await create(target({ basic_auth: { username: 'relay', password: PASSWORD } })).publish(firing(), ctx());
      expect(am.posts[0]?.headers).to.include({ authorization: `Basic ${Buffer.from(`relay:${PASSWORD}`).toString('base64')}` });
    });

    it(`posts at most ${MAX_BATCH} alerts per request`, async () => {
      const am = downstream(deps);
      const alerts = Array.from({ length: MAX_BATCH + 10 }, (_, i) => alert({ alertname: 'Many', i: String(i) }, { fingerprint: `f${i}` }));
      expect(await create().publish(targetMessage(webhookMessage({ alerts })), ctx())).to.deep.equal({ ok: true, status: 200 });
      expect(am.posts.map((p) => p.body.length)).to.deep.equal([MAX_BATCH, 10]);
    });

    const classes: Array<[status: number, body: string, retryable: boolean, reason: string, message: string]> = [
      [400, JSON.stringify('invalid label set: invalid name ""'), false, 'clientError', 'unexpected status code 400: invalid label set: invalid name ""'],
      [401, 'Unauthorized', false, 'authError', 'unexpected status code 401: Unauthorized'],
      [422, JSON.stringify({ code: 602, message: 'labels in body is required' }), false, 'clientError', 'unexpected status code 422: labels in body is required'],
      [500, JSON.stringify('failed to store'), true, 'serverError', 'unexpected status code 500: failed to store'],
      [503, '', true, 'serverError', 'unexpected status code 503'],
    ];
    for (const [status, body, retryable, reason, message] of classes) {
      it(`reports ${status} as ${retryable ? 'retryable' : 'permanent'} (${reason}) without any secret`, async () => {
        downstream(deps, status, body);
        const t = target({ bearer_token: BEARER, basic_auth: { username: 'relay', password: PASSWORD } });
        const outcome = await create(t).publish(firing(), ctx());
        expect(outcome).to.deep.equal({ ok: false, retryable, reason, status, message });
        expectNoSecret(outcome);
      });
    }

    it('reports a network error as retryable without any secret', async () => {
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
      const outcome = await create(target({ bearer_token: BEARER })).publish(firing(), ctx());
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: 'network error: ECONNREFUSED' });
      expectNoSecret(outcome);
    });
  });

  describe('re-posting firing alerts until they resolve', () => {
    it('re-posts a firing alert every repost_interval, without endsAt', async () => {
      const am = downstream(deps);
      await create().publish(firing(), ctx());
      for (let i = 2; i <= 3; i++) {
        const posted = am.next();
        await clock.tickAsync(MINUTE);
        await posted;
        expect(am.posts).to.have.length(i);
        expect(am.posts[i - 1]?.body).to.deep.equal(FIRING_BODY);
      }
    });

    it('honours a custom repost_interval', async () => {
      const am = downstream(deps);
      await create(target({ repost_interval: 30_000 })).publish(firing(), ctx());
      await clock.tickAsync(29_999);
      await settle();
      expect(am.posts).to.have.length(1);
      const posted = am.next();
      await clock.tickAsync(1);
      await posted;
      expect(am.posts).to.have.length(2);
    });

    it('stops re-posting an alert once it is resolved', async () => {
      const am = downstream(deps);
      const publisher = create();
      await publisher.publish(firing(), ctx());
      await publisher.publish(resolved(), ctx());
      expect(am.posts.map((p) => p.body)).to.deep.equal([FIRING_BODY, RESOLVED_BODY]);
      await clock.tickAsync(3 * MINUTE);
      await settle();
      expect(am.posts).to.have.length(2);
      expect(deps.state.get('active')).to.equal(undefined);
    });

    it('keeps re-posting the alerts of a group that are still firing', async () => {
      const am = downstream(deps);
      const publisher = create();
      const group = fixture('am025-mixed-firing-resolved.json');
      await publisher.publish(targetMessage({ ...group, alerts: group.alerts.map((a) => ({ ...a, status: 'firing', endsAt: '0001-01-01T00:00:00Z' })) }), ctx());
      await publisher.publish(targetMessage(group), ctx());
      const posted = am.next();
      await clock.tickAsync(MINUTE);
      await posted;
      expect(am.posts[2]?.body.map((a) => a.labels['instance'])).to.deep.equal(['db-1:9100', 'db-2:9100']);
    });

    it('does not keep an alert alive when its post failed', async () => {
      downstream(deps, 400, JSON.stringify('bad'));
      await create().publish(firing(), ctx());
      expect(deps.state.get('active')).to.equal(undefined);
    });

    it('re-posts the active alerts after a restart: a new publisher with the same state', async () => {
      downstream(deps);
      const before = create();
      await before.publish(firing(), ctx());
      await before.close?.();

      const restarted = { ...mockDeps(() => now), state: deps.state };
      const am = downstream(restarted);
      create(target(), restarted);
      const posted = am.next();
      await clock.tickAsync(MINUTE);
      await posted;
      expect(am.posts.map((p) => p.body)).to.deep.equal([FIRING_BODY]);
      await restarted.agent.close();
    });

    it('stops re-posting an alert not heard of for active_ttl', async () => {
      const am = downstream(deps);
      await create(target({ active_ttl: 5 * MINUTE })).publish(firing(), ctx());
      expect(deps.state.entries.get('active')).to.deep.include({ expiresAt: NOW + 5 * MINUTE });
      now += 5 * MINUTE;
      await clock.tickAsync(MINUTE);
      await settle();
      expect(am.posts).to.have.length(1);
    });

    it('refreshes the ttl when Alertmanager notifies the firing alert again', async () => {
      downstream(deps);
      const publisher = create(target({ active_ttl: 5 * MINUTE }));
      await publisher.publish(firing(), ctx());
      now += 4 * MINUTE;
      await publisher.publish(firing(), ctx());
      expect(deps.state.entries.get('active')?.expiresAt).to.equal(NOW + 9 * MINUTE);
    });

    it('logs a failed re-post without any secret and tries again on the next tick', async () => {
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(200, '');
      const t = target({ bearer_token: BEARER });
      await create(t).publish(firing(), ctx());
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(503, 'down');
      const warned = new Promise<unknown[]>((resolve) => {
        // winston's warn is overloaded; the stub only records its arguments.
        sinon.stub(deps.logger, 'warn').callsFake(((...args: unknown[]) => resolve(args)) as never);
      });
      await clock.tickAsync(MINUTE);
      const args = await warned;
      expect(args[0]).to.equal('re-post of firing alerts failed');
      expect(args[1]).to.deep.include({ alerts: 1, reason: 'serverError' });
      expect(JSON.stringify(args)).not.to.contain(BEARER);

      const am = downstream(deps);
      const posted = am.next();
      await clock.tickAsync(MINUTE);
      await posted;
      expect(am.posts[0]?.body).to.deep.equal(FIRING_BODY);
    });
  });

  describe('a reload that changes extra_labels', () => {
    const NOW_ISO = new Date(NOW).toISOString();
    const labeled = (extra: Record<string, string>, endsAt?: string): PostableAlert => ({
      ...FIRING_BODY[0]!,
      labels: { ...FIRING_BODY[0]!.labels, ...extra },
      ...(endsAt ? { endsAt } : {}),
    });
    /** The publisher of the old config posted the firing alert, then a reload replaced it (same target state). */
    const reloaded = async (before: Record<string, string>, after: Record<string, string>) => {
      const am = downstream(deps);
      const old = create(target({ extra_labels: before }));
      await old.publish(firing(), ctx());
      await old.close?.();
      return { am, publisher: create(target({ extra_labels: after })) };
    };

    it('resolves what was posted under the old labels on the first re-post, then re-posts only the new', async () => {
      const { am } = await reloaded({ relayed_by: 'a' }, { relayed_by: 'b' });
      const relabeled = am.next();
      await clock.tickAsync(MINUTE);
      await relabeled;
      await settle();
      // One request ends the old label set (endsAt now) and fires the new one; then the re-post of the active alerts.
      expect(am.posts[1]?.body).to.deep.equal([labeled({ relayed_by: 'a' }, NOW_ISO), labeled({ relayed_by: 'b' })]);
      expect(am.posts[2]?.body).to.deep.equal([labeled({ relayed_by: 'b' })]);
      const next = am.next();
      await clock.tickAsync(MINUTE);
      await next;
      expect(am.posts.slice(3).map((p) => p.body)).to.deep.equal([[labeled({ relayed_by: 'b' })]]);
    });

    it('resolves the old label set on the next notification too, before the group itself, so a resolve ends both', async () => {
      const { am, publisher } = await reloaded({ relayed_by: 'a' }, { relayed_by: 'b' });
      expect(await publisher.publish(resolved(), ctx())).to.deep.equal({ ok: true, status: 200 });
      expect(am.posts.slice(1).map((p) => p.body)).to.deep.equal([
        [labeled({ relayed_by: 'a' }, NOW_ISO), labeled({ relayed_by: 'b' })],
        [{ ...RESOLVED_BODY[0]!, labels: { ...RESOLVED_BODY[0]!.labels, relayed_by: 'b' } }],
      ]);
      expect(deps.state.get('active')).to.equal(undefined);
    });

    it('resolves the old label set when an extra label is removed, and the alert keeps a label the old one had overridden', async () => {
      const { am, publisher } = await reloaded({ relayed_by: 'a', severity: 'page' }, {});
      await publisher.publish(firing(), ctx());
      expect(am.posts[1]?.body).to.deep.equal([labeled({ relayed_by: 'a', severity: 'page' }, NOW_ISO), FIRING_BODY[0]]);
      expect(am.posts[2]?.body).to.deep.equal(FIRING_BODY);
    });

    it('posts nothing more when extra_labels did not change', async () => {
      const { am, publisher } = await reloaded({ relayed_by: 'a' }, { relayed_by: 'a' });
      await publisher.publish(firing(), ctx());
      expect(am.posts.map((p) => p.body)).to.deep.equal([[labeled({ relayed_by: 'a' })], [labeled({ relayed_by: 'a' })]]);
    });

    it('keeps the old label set to resolve when that fails, and tries again on the next tick', async () => {
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(200, '');
      const old = create(target({ extra_labels: { relayed_by: 'a' } }));
      await old.publish(firing(), ctx());
      await old.close?.();
      create(target({ extra_labels: { relayed_by: 'b' } }));
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(503, 'down');
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(503, 'down'); // the re-post after it
      await clock.tickAsync(MINUTE);
      await settle();
      const am = downstream(deps);
      const posted = am.next();
      await clock.tickAsync(MINUTE);
      await posted;
      expect(am.posts[0]?.body).to.deep.equal([labeled({ relayed_by: 'a' }, NOW_ISO), labeled({ relayed_by: 'b' })]);
    });

    it('fails a notification with a retryable error while the old label set cannot be resolved', async () => {
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(200, '');
      const old = create(target({ extra_labels: { relayed_by: 'a' } }));
      await old.publish(firing(), ctx());
      await old.close?.();
      deps.agent.get(ORIGIN).intercept({ path: PATH, method: 'POST' }).reply(503, 'down');
      const outcome = await create(target({ extra_labels: { relayed_by: 'b' } })).publish(resolved(), ctx());
      expect(outcome).to.include({ ok: false, retryable: true, status: 503 });
      expect((deps.state.get('active') as Record<string, { alert: PostableAlert }>)['8da91e293e4015b0']?.alert.labels).to.include({ relayed_by: 'a' });
    });

    it('handles alerts stored before their own labels were kept: an added or changed extra label is resolved', async () => {
      const am = downstream(deps);
      deps.state.set('active', { '8da91e293e4015b0': { alert: labeled({ relayed_by: 'a' }), expiresAt: NOW + MINUTE * 60 } }, MINUTE * 60);
      await create(target({ extra_labels: { relayed_by: 'b' } })).publish(resolved(), ctx());
      expect(am.posts[0]?.body).to.deep.equal([labeled({ relayed_by: 'a' }, NOW_ISO), labeled({ relayed_by: 'b' })]);
    });

    it('a publisher replaced by a reload does not put its old labels back', async () => {
      const am = downstream(deps);
      const old = create(target({ extra_labels: { relayed_by: 'a' } }));
      const current = create(target({ extra_labels: { relayed_by: 'b' } }));
      await current.publish(firing(), ctx());
      await old.close?.();
      await old.publish(targetMessage(webhookMessage({ alerts: [] })), ctx()); // an in-flight dispatch of the old config
      expect(am.posts.map((p) => p.body)).to.deep.equal([[labeled({ relayed_by: 'b' })]]); // nothing re-labelled back to `a`
    });
  });

  describe('its timer', () => {
    it('is one interval per publisher, gone after close', async () => {
      expect(clock.countTimers()).to.equal(0);
      const publisher = create();
      expect(clock.countTimers()).to.equal(1);
      await publisher.close?.();
      expect(clock.countTimers()).to.equal(0);
    });

    it('posts nothing after close', async () => {
      const am = downstream(deps);
      const publisher = create();
      await publisher.publish(firing(), ctx());
      await publisher.close?.();
      await clock.tickAsync(5 * MINUTE);
      await settle();
      expect(am.posts).to.have.length(1);
    });

    it('does not keep the process alive (unref)', async () => {
      clock.restore();
      sinon.restore();
      expect(globalThis.setInterval, 'real timers for this test').to.equal(nodeTimers.setInterval);
      // process.getActiveResourcesInfo() lists the timers that keep the process alive; unref'd ones are not among them.
      const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = refTimers();
      const publisher = createAlertmanagerPublisher(target(), deps);
      const during = refTimers();
      await publisher.close?.();
      clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      expect(during).to.equal(before);
    });
  });
});

function expectNoSecret(outcome: Outcome) {
  const text = JSON.stringify(outcome);
  for (const secret of [BEARER, PASSWORD, Buffer.from(`relay:${PASSWORD}`).toString('base64')]) expect(text).not.to.contain(secret);
}
