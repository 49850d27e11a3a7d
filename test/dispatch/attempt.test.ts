import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Attempter, retryCap, type AttemptTarget } from '../../src/dispatch/attempt.js';
import { createMetrics, targetMeters, type Metrics } from '../../src/observability/metrics.js';
import { targetMessage } from '../helpers/fixtures.js';
import { deliveryRecord, metricValue, type PublishFunc } from '../helpers/targets.js';
import type { PublishContext, Outcome } from '../../src/publishers/publisher.js';

const ok: Outcome = { ok: true, status: 200 };
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('one attempt: slots, deadline and the publisher call (fake publisher)', () => {
  let registry: Registry;
  let metrics: Metrics;
  let calls: PublishContext[];
  let releases: Array<() => void>;
  beforeEach(() => {
    registry = new Registry();
    metrics = createMetrics(registry);
    calls = [];
    releases = [];
  });
  const target = (name: string, publish: PublishFunc, timeout = 60_000): AttemptTarget => ({
    config: { name },
    publisher: { publish },
    timeout,
    meters: targetMeters(metrics, name, 'fake'),
  });
  /** A publisher that answers `ok` only when the test releases its call. */
  const held: PublishFunc = (_message, ctx) => {
    calls.push(ctx);
    return new Promise((resolve) => releases.push(() => resolve(ok)));
  };
  const message = targetMessage();

  it('passes the delivery id, the attempt number and the fallback mark to the publisher, and counts the request', async () => {
    const attempter = new Attempter(() => 10);
    const publish: PublishFunc = async (_message, ctx) => (calls.push(ctx), ok);
    const record = deliveryRecord({ fallbackFor: 'pd' });
    expect(await attempter.run(target('t', publish), message, record, 3, false)).to.deep.equal(ok);
    expect(calls[0]).to.deep.include({ deliveryId: record.id, attempt: 3, fallbackFor: 'pd' });
    expect(calls[0]?.signal.aborted).to.equal(false);
    expect(await metricValue(registry, 'alertmux_notification_requests_total', { target: 't' })).to.equal(1);
    expect(attempter.inFlight).to.equal(0);
  });

  it('holds at most max_concurrency calls at once; the next waits for a slot and goes in order', async () => {
    const attempter = new Attempter(() => 2);
    const t = target('t', held);
    const records = [deliveryRecord(), deliveryRecord(), deliveryRecord(), deliveryRecord()];
    const runs = records.map((r) => attempter.run(t, message, r, 1, false));
    await turn();
    expect(calls).to.have.length(2);
    expect(attempter.inFlight).to.equal(2);
    // waiting for a slot counts as the target's attempt in flight (the gate's one-at-a-time for an unhealthy target)
    expect(attempter.inFlightOf('t')).to.equal(4);
    releases[1]!();
    await turn();
    expect(calls).to.have.length(3);
    releases[0]!();
    await turn();
    expect(calls.map((c) => c.deliveryId)).to.deep.equal(records.map((r) => r.id));
    releases.slice(2).forEach((release) => release());
    expect(await Promise.all(runs)).to.deep.equal([ok, ok, ok, ok]);
    expect(attempter.inFlight).to.equal(0);
    expect(attempter.inFlightOf('t')).to.equal(0);
  });

  it("lets one target's retries hold half of the slots, leaving the rest to others", async () => {
    const attempter = new Attempter(() => 4);
    expect(retryCap(4)).to.equal(2);
    const backlog = target('backlog', held);
    const other = target('other', held);
    const retries = [1, 2, 3].map(() => attempter.run(backlog, message, deliveryRecord(), 2, true));
    await turn();
    expect(calls).to.have.length(2);
    const firsts = [1, 2].map(() => attempter.run(other, message, deliveryRecord(), 1, false));
    await turn();
    expect(calls).to.have.length(4);
    releases.splice(0).forEach((release) => release());
    await Promise.all(firsts);
    await turn();
    releases.splice(0).forEach((release) => release());
    await Promise.all(retries);
    expect(calls).to.have.length(5);
  });

  it('applies a new max_concurrency to the waiting calls', async () => {
    const attempter = new Attempter(() => 1);
    const runs = [1, 2, 3].map(() => attempter.run(target('t', held), message, deliveryRecord(), 1, false));
    await turn();
    expect(calls).to.have.length(1);
    attempter.resize(3);
    await turn();
    expect(calls).to.have.length(3);
    releases.forEach((release) => release());
    await Promise.all(runs);
  });

  it("aborts the call at its target's timeout; the publisher's answer is the outcome", async () => {
    const attempter = new Attempter(() => 10);
    const slow: PublishFunc = (_message, ctx) =>
      new Promise((resolve) =>
        ctx.signal.addEventListener('abort', () =>
          resolve({ ok: false, retryable: true, reason: 'timeout', message: `aborted: ${(ctx.signal.reason as Error).name}` }),
        ),
      );
    const outcome = await attempter.run(target('t', slow, 5), message, deliveryRecord(), 1, false);
    expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'timeout', message: 'aborted: TimeoutError' });
    expect(attempter.inFlight).to.equal(0);
  });

  it('aborts every call in flight, and any started later, when stopped', async () => {
    const attempter = new Attempter(() => 10);
    const t = target('t', held);
    const running = attempter.run(t, message, deliveryRecord(), 1, false);
    await turn();
    attempter.stop(new DOMException('shutting down', 'AbortError'));
    expect(calls[0]?.signal.aborted).to.equal(true);
    releases[0]!();
    await running;
    const later = attempter.run(t, message, deliveryRecord(), 1, false);
    await turn();
    expect((calls[1]?.signal.reason as DOMException).name).to.equal('AbortError');
    releases[1]!();
    await later;
  });

  it('turns a publisher that throws into a non-retryable failure, and gives its slots back', async () => {
    const attempter = new Attempter(() => 1);
    const broken: PublishFunc = () => Promise.reject(new TypeError('cannot read properties of undefined'));
    const outcome = await attempter.run(target('t', broken), message, deliveryRecord(), 2, true);
    expect(outcome).to.deep.equal({ ok: false, retryable: false, reason: 'other', message: 'publisher error: TypeError: cannot read properties of undefined' });
    expect(attempter.inFlight).to.equal(0);
    expect(attempter.inFlightOf('t')).to.equal(0);
    // the slot is free again
    expect(await attempter.run(target('t', async () => ok), message, deliveryRecord(), 1, false)).to.deep.equal(ok);
    const latency = (await registry.getMetricsAsJSON()).find((m) => m.name === 'alertmux_notification_latency_seconds');
    const count = (latency?.values as Array<{ metricName?: string; value: number }> | undefined)?.find((v) => v.metricName?.endsWith('_count'));
    expect(count?.value).to.equal(2);
  });
});
