import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Fallbacks, MAX_SWEEP_GAP, MIN_SWEEP_GAP, OWED_RETRY, isHolding } from '../../src/dispatch/fallback.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { config } from '../helpers/fixtures.js';
import { recordingLogger } from '../helpers/logs.js';
import type { Ledger } from '../../src/delivery/ledger.js';
import type { DeliveryRecord, NewDelivery } from '../../src/delivery/types.js';
import type { Runtime, TargetRuntime } from '../../src/dispatch/runtime.js';

const T0 = Date.parse('2026-11-22T23:00:00Z');

function record(id: string, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    id, notificationId: 'n1', target: 'primary', targetType: 'webhook', groupKey: 'g', notificationKey: 'k', seq: 1, state: 'pending',
    priority: 0, alerts: [0, 1], attempts: 0, createdAt: T0, updatedAt: T0, ...overrides,
  };
}

/** Fallbacks over a fake ledger and two targets (primary → backup, 5m), the breaker state set by the test, on a fake clock. */
function setup(backup = '{name: backup, type: webhook, url: "https://b.example.com", send_resolved: false}') {
  let now = T0;
  let breaker = 'open';
  const cfg = config(`targets:
  - {name: primary, type: webhook, url: "https://a.example.com", fallback: backup}
  - ${backup}
`);
  const targets = new Map(
    cfg.targets.map((t) => [t.name, { config: t, breaker: { get state() { return breaker; } }, health: { status: 'healthy' } } as unknown as TargetRuntime]),
  );
  const runtime = { config: cfg, targets, redact: (s: string) => s } as unknown as Runtime;
  const held: DeliveryRecord[] = [];
  const added: NewDelivery[] = [];
  let failWrites = 0;
  const message = { commonLabels: { alertname: 'Disk' }, alerts: [{ status: 'firing', labels: {} }, { status: 'resolved', labels: {} }] };
  let readable = true;
  const store = {
    getNotification: () => ({ original: readable ? JSON.stringify(message) : '{not json' }),
    heldSince: async (target: string, before: number, limit: number) =>
      held.filter((r) => r.target === target && r.fallbackId === undefined && r.heldSince! <= before).slice(0, limit),
    earliestHeld: async (target: string) => {
      const times = held.filter((r) => r.target === target && r.fallbackId === undefined).map((r) => r.heldSince!);
      return times.length ? Math.min(...times) : undefined;
    },
    addFallback: async (d: NewDelivery) => {
      if (failWrites-- > 0) throw new Error('SQLITE_FULL: database or disk is full');
      if (added.some((a) => a.fallbackOf === d.fallbackOf)) return undefined;
      added.push(d);
      const original = held.find((r) => r.id === d.fallbackOf);
      if (original) original.fallbackId = d.id;
      return { ...d, seq: 99, updatedAt: d.createdAt };
    },
  } as unknown as Ledger;
  const { logger, lines } = recordingLogger();
  const metrics = createMetrics(new Registry());
  const fallbacks = new Fallbacks({ store, metrics, logger, runtime: () => runtime, now: () => now });
  return {
    fallbacks, held, added, lines, metrics, targets,
    tick: (ms: number) => (now += ms),
    setBreaker: (s: string) => (breaker = s),
    failNextWrites: (n: number) => (failWrites = n),
    unreadable: () => (readable = false),
  };
}

describe('Fallbacks (fake ledger, fake clock)', () => {
  it('counts a hold from the start of the target\'s hold, keeps an earlier one, and restarts after the target answered', () => {
    const s = setup();
    const primary = s.targets.get('primary')!.config;
    const a = record('a');
    s.fallbacks.held(a, primary);
    expect(a.heldSince).to.equal(T0);
    expect(s.fallbacks.dueAt).to.equal(0); // never swept yet
    s.tick(60_000);
    const b = record('b');
    s.fallbacks.held(b, primary);
    expect(b.heldSince).to.equal(T0);
    const older = record('c', { heldSince: T0 - 10_000 });
    s.fallbacks.held(older, primary);
    expect(older.heldSince).to.equal(T0 - 10_000);
    s.fallbacks.reached('primary');
    const d = record('d');
    s.fallbacks.held(d, primary);
    expect(d.heldSince).to.equal(T0 + 60_000);
    // No fallback configured, or already sent: nothing is marked.
    const e = record('e', { target: 'backup' });
    s.fallbacks.held(e, s.targets.get('backup')!.config);
    expect(e.heldSince).to.equal(undefined);
    const f = record('f', { fallbackId: 'x' });
    s.fallbacks.held(f, primary);
    expect(f.heldSince).to.equal(undefined);
  });

  it('sweeps at fallback_after, once per delivery, only while the target still holds, and schedules the next sweep', async () => {
    const s = setup();
    const a = record('a');
    s.fallbacks.held(a, s.targets.get('primary')!.config);
    s.held.push(a);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    // Due in 5m, but a sweep runs at least every MAX_SWEEP_GAP (a reload may shorten fallback_after).
    expect(s.fallbacks.dueAt).to.equal(T0 + MAX_SWEEP_GAP);
    s.tick(4 * 60_000 + 50_000);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.fallbacks.dueAt).to.equal(T0 + 5 * 60_000);
    s.tick(10_000 - 1);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    s.tick(1);
    s.setBreaker('closed');
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.fallbacks.dueAt).to.equal(T0 + 5 * 60_000 + MAX_SWEEP_GAP);
    s.setBreaker('half_open');
    const sent = await s.fallbacks.sweep();
    expect(sent.map((r) => [r.target, r.fallbackOf, r.fallbackFor, r.fallbackReason, r.state])).to.deep.equal([['backup', 'a', 'primary', 'held', 'pending']]);
    // The backup does not want resolved alerts: only the firing one of the two goes.
    expect(sent[0]!.alerts).to.deep.equal([0]);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.added).to.have.length(1);
    expect((await s.metrics.fallbacks.get()).values).to.deep.equal([{ value: 1, labels: { target: 'primary', fallback: 'backup', reason: 'held' } }]);
    const line = s.lines.find((l) => l.message === 'fallback sent')!;
    expect(line.level).to.equal('warn');
    expect(line.meta).to.include({ target: 'primary', fallback: 'backup', alertname: 'Disk', notificationId: 'n1', deliveryId: 'a' });
    expect(String(line.meta['why'])).to.match(/^held .* since 2026-11-22T23:00:00.000Z$/);
  });

  it('keeps a fallback the ledger could not write and writes it at a later sweep (not lost, not doubled)', async () => {
    const s = setup();
    const dead = record('a', { state: 'dead', lastReason: 'clientError' });
    await s.fallbacks.sweep();
    s.failNextWrites(2);
    expect(await s.fallbacks.afterDead(dead)).to.equal(undefined);
    expect(s.lines.find((l) => l.level === 'error')?.message).to.equal('fallback delivery could not be recorded; trying again');
    expect(s.fallbacks.dueAt).to.equal(T0 + OWED_RETRY);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.fallbacks.dueAt).to.equal(T0 + OWED_RETRY);
    s.tick(OWED_RETRY);
    const sent = await s.fallbacks.sweep();
    expect(sent.map((r) => [r.fallbackOf, r.fallbackReason])).to.deep.equal([['a', 'dead']]);
    expect(dead.fallbackId).to.equal(sent[0]!.id);
    expect(await s.fallbacks.afterDead(dead)).to.equal(undefined);
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.added).to.have.length(1);
  });

  it('sweeps again after MIN_SWEEP_GAP, not at once, when a due held delivery could not be given its fallback', async () => {
    const s = setup();
    const a = record('a', { notificationId: 'gone' });
    s.fallbacks.held(a, s.targets.get('primary')!.config);
    s.held.push(a);
    s.tick(5 * 60_000);
    s.failNextWrites(0);
    s.unreadable();
    expect(await s.fallbacks.sweep()).to.deep.equal([]);
    expect(s.fallbacks.dueAt).to.equal(T0 + 5 * 60_000 + MIN_SWEEP_GAP);
    expect(s.lines.find((l) => l.level === 'error')?.message).to.equal('fallback not sent: its notification cannot be read from the ledger');
  });

  it('records, without sending, a fallback to a disabled target or one that wants none of the alerts', async () => {
    const s = setup('{name: backup, type: webhook, url: "https://b.example.com", enabled: false}');
    const sent = await s.fallbacks.afterDead(record('a', { state: 'dead' }));
    expect(sent).to.include({ state: 'skipped', skipReason: 'disabled', fallbackFor: 'primary' });
    expect(s.lines.map((l) => l.message)).to.deep.equal(['fallback not sent: the fallback target is disabled']);
    const t = setup();
    const resolvedOnly = await t.fallbacks.afterDead(record('b', { state: 'dead', alerts: [1] }));
    expect(resolvedOnly).to.include({ state: 'skipped', skipReason: 'filtered' });
    expect((await t.metrics.fallbacks.get()).values).to.deep.equal([]);
  });

  it('knows which targets hold their deliveries, by breaker, health and strategy', () => {
    const t = (breaker: string, health: string) => ({ breaker: { state: breaker }, health: { status: health } }) as unknown as TargetRuntime;
    expect(isHolding(t('open', 'healthy'), 'skip_unhealthy')).to.equal(true);
    expect(isHolding(t('half_open', 'healthy'), 'skip_unhealthy')).to.equal(true);
    expect(isHolding(t('closed', 'unhealthy'), 'skip_unhealthy')).to.equal(true);
    expect(isHolding(t('closed', 'degraded'), 'skip_unhealthy')).to.equal(false);
    expect(isHolding(t('closed', 'degraded'), 'skip_unhealthy_and_degraded')).to.equal(true);
    expect(isHolding(t('closed', 'healthy'), 'skip_unhealthy_and_degraded')).to.equal(false);
    expect(isHolding(t('open', 'unhealthy'), 'publish_to_all')).to.equal(false);
  });
});
