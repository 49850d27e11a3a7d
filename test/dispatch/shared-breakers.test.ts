import { expect } from 'chai';
import { Registry } from 'prom-client';
import { MockAgent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { buildRuntime, type Runtime } from '../../src/dispatch/runtime.js';
import { BREAKER_KEY_PREFIX, SharedBreakers } from '../../src/dispatch/shared-breakers.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { PublisherDeps } from '../../src/publishers/publisher.js';
import { targetKinds } from '../../src/publishers/registry.js';
import { recordingLogger } from '../helpers/logs.js';

const T0 = Date.parse('2026-12-06T12:00:00Z');

/** The ledger's key-value rows, in memory, with the expiry the ledgers apply. */
function memoryState() {
  const rows = new Map<string, { value: string; expiresAt: number }>();
  return {
    rows,
    stateSet: async (key: string, value: string, expiresAt: number) => void rows.set(key, { value, expiresAt }),
    stateDelete: async (key: string) => void rows.delete(key),
    stateList: async (prefix: string, now: number) =>
      [...rows].filter(([key, row]) => key.startsWith(prefix) && row.expiresAt >= now).map(([key, row]) => ({ key, value: row.value })),
  };
}

describe('circuit breakers shared between replicas (injected clock)', () => {
  let now: number;
  const state = memoryState();

  /** One replica: its runtime (target t, breaker after 4 failures, 30 s cooldown) telling the shared record. */
  async function replica(name: string) {
    const logs = recordingLogger();
    const shared = new SharedBreakers({ store: state, replica: name, now: () => now, logger: logs.logger });
    const http = new MockAgent();
    const config = await parseConfig(
      `storage: {path: ":memory:"}
breaker: {consecutive_failures: 4, cooldown: 30s}
targets:
  - {name: t, type: webhook, url: "http://t.test/hook"}
  - {name: u, type: webhook, url: "http://u.test/hook"}`,
      { env: {}, baseDir: '/tmp', kinds: targetKinds },
    );
    const rt: Runtime = buildRuntime(config, {
      metrics: createMetrics(new Registry()),
      logger: logs.logger,
      now: () => now,
      onRecovered: () => undefined,
      breakers: shared,
      publisherDeps: () => ({ http, userAgent: 'test', logger: logs.logger, now: () => now }) as unknown as PublisherDeps,
    });
    const t = rt.targets.get('t')!;
    return {
      rt,
      t,
      logs,
      refresh: async () => {
        const trials = await shared.refresh(rt.targets);
        await Promise.resolve();
        return trials;
      },
      attempt: (ok: boolean) => {
        if (!t.breaker.tryAcquire()) return false;
        t.breaker.record(ok);
        return true;
      },
    };
  }

  beforeEach(() => {
    now = T0;
    state.rows.clear();
  });

  it("opens the breaker of a target another replica found down until that replica's trial, and lets a trial through once that one closes it", async () => {
    const a = await replica('pod-a');
    const b = await replica('pod-b');
    for (let i = 0; i < 4; i++) a.attempt(false);
    expect(a.t.breaker.state).to.equal('open');
    await Promise.resolve();
    const record = JSON.parse(state.rows.get(`${BREAKER_KEY_PREFIX}t`)?.value ?? '{}') as Record<string, unknown>;
    expect(record).to.deep.equal({ until: T0 + 30_000, trips: 1, by: 'pod-a' });
    expect(state.rows.get(`${BREAKER_KEY_PREFIX}t`)?.expiresAt, 'the record ends with the cooldown').to.equal(T0 + 30_000);

    // The other replica reads it: it does not try the dead target, and says why.
    now += 5000;
    expect(await b.refresh()).to.deep.equal([]);
    expect(b.t.breaker.state).to.equal('open');
    expect(b.t.breaker.opensTrialAt).to.equal(T0 + 30_000);
    expect(b.attempt(true), 'an attempt from the other replica').to.equal(false);
    expect(b.rt.targets.get('u')!.breaker.state, 'another target').to.equal('closed');
    expect(b.t.status.history()[0]).to.deep.include({ kind: 'breaker', from: 'closed', to: 'open', reason: 'opened on replica pod-a' });
    expect(b.logs.lines.find((l) => l.message.startsWith('circuit breaker opened by another replica'))).to.deep.include({ level: 'warn' });
    // Its own record is not news to the replica that wrote it; what only followed is never written back.
    expect(await a.refresh()).to.deep.equal([]);
    expect(JSON.parse(state.rows.get(`${BREAKER_KEY_PREFIX}t`)?.value ?? '{}')).to.deep.include({ by: 'pod-a' });

    // An operator's trial on the first replica succeeds: the record goes, and the other replica tries at once.
    now += 5000;
    expect(a.t.breaker.forceTrial()).to.equal(true);
    a.t.breaker.record(true);
    await Promise.resolve();
    expect(state.rows.has(`${BREAKER_KEY_PREFIX}t`)).to.equal(false);
    expect(await b.refresh()).to.deep.equal(['t']);
    expect(b.t.breaker.state).to.equal('half_open');
    expect(b.attempt(true), 'the trial').to.equal(true);
    expect(b.t.breaker.state).to.equal('closed');
    expect(await b.refresh()).to.deep.equal([]);
  });

  it("lets the other replica's own trial through when the record ends with the cooldown, and records its own trip when that trial fails", async () => {
    const a = await replica('pod-a');
    const b = await replica('pod-b');
    for (let i = 0; i < 4; i++) a.attempt(false);
    await Promise.resolve();
    await b.refresh();
    now = T0 + 30_000;
    expect(b.t.breaker.state).to.equal('half_open');
    expect(b.attempt(false)).to.equal(true);
    await Promise.resolve();
    expect(b.t.breaker.state).to.equal('open');
    expect(JSON.parse(state.rows.get(`${BREAKER_KEY_PREFIX}t`)?.value ?? '{}')).to.deep.equal({ until: T0 + 30_000 + 60_000, trips: 2, by: 'pod-b' });
  });

  it('leaves a breaker alone that is open by its own attempts, and ignores a record it cannot read', async () => {
    const a = await replica('pod-a');
    const b = await replica('pod-b');
    for (let i = 0; i < 4; i++) b.attempt(false);
    const own = b.t.breaker.opensTrialAt;
    now += 1000;
    for (let i = 0; i < 4; i++) a.attempt(false);
    await Promise.resolve();
    await b.refresh();
    expect(b.t.breaker.opensTrialAt).to.equal(own);
    await state.stateSet(`${BREAKER_KEY_PREFIX}u`, 'not json', T0 + 60_000);
    await a.refresh();
    expect(a.rt.targets.get('u')!.breaker.state).to.equal('closed');
  });
});
