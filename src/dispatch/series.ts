import type { Counter } from 'prom-client';
import { FALLBACK_REASONS, SKIP_REASONS } from '../delivery/types.js';
import { HEALTH_STATES } from '../health/monitor.js';
import { FAILURE_REASONS } from '../publishers/publisher.js';
import type { Metrics } from '../observability/metrics.js';

/** What names a target's series: its name, and its type where the metric carries it. */
export interface SeriesTarget {
  readonly name: string;
  readonly type: string;
  /** Its fallback target, if any: the pair's fallback series. */
  readonly fallback?: string;
}

const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
/** The transitions CircuitBreaker makes (a trial that fails reopens; one that succeeds closes). */
const BREAKER_TRANSITIONS = [
  ['closed', 'open'],
  ['open', 'half_open'],
  ['half_open', 'closed'],
  ['half_open', 'open'],
] as const;

/**
 * Make every labelled counter of each target in `targets` exist at 0, and drop the
 * series of targets in `previous` that are gone (or changed type).
 *
 * A counter series that first appears with value 1 is invisible to `increase()` and
 * `rate()`: the first dead letter per target and reason after a start or a reload would
 * never alert. Alertmanager pre-initialises its notify counters per integration for
 * the same reason. Removing what is gone keeps a removed target's health gauge from
 * alerting forever.
 */
export function syncTargetSeries(metrics: Metrics, targets: readonly SeriesTarget[], previous: readonly SeriesTarget[] = []): void {
  const names = new Set(targets.map((t) => t.name));
  const typed = new Set(targets.map((t) => `${t.name}\u0000${t.type}`));
  for (const t of previous) {
    if (!typed.has(`${t.name}\u0000${t.type}`)) forTyped(metrics, t, 'remove');
    if (!names.has(t.name)) forNamed(metrics, t.name, 'remove');
    if (t.fallback !== undefined && !targets.some((n) => n.name === t.name && n.fallback === t.fallback)) forPair(metrics, t.name, t.fallback, 'remove');
  }
  for (const t of targets) {
    forTyped(metrics, t, 'zero');
    forNamed(metrics, t.name, 'zero');
    if (t.fallback !== undefined) forPair(metrics, t.name, t.fallback, 'zero');
  }
}

/** The fallback series of a target and its fallback. */
function forPair(metrics: Metrics, target: string, fallback: string, op: Op): void {
  for (const reason of FALLBACK_REASONS) apply(metrics.fallbacks, { target, fallback, reason }, op);
}

type Op = 'zero' | 'remove';

/** Series labelled {target, type}. */
function forTyped(metrics: Metrics, t: SeriesTarget, op: Op): void {
  const labels = { target: t.name, type: t.type };
  for (const counter of [metrics.notifications, metrics.requests, metrics.delivered]) apply(counter, labels, op);
  for (const reason of FAILURE_REASONS) apply(metrics.notificationsFailed, { ...labels, reason }, op);
  if (op === 'remove') metrics.latency.remove(labels);
}

/** Series labelled by the target's name only. */
function forNamed(metrics: Metrics, target: string, op: Op): void {
  apply(metrics.retries, { target }, op);
  apply(metrics.replays, { target }, op);
  for (const reason of FAILURE_REASONS) apply(metrics.deadLetters, { target, reason }, op);
  for (const reason of SKIP_REASONS) apply(metrics.skipped, { target, reason }, op);
  for (const [from, to] of BREAKER_TRANSITIONS) apply(metrics.breakerTransitions, { target, from, to }, op);
  // The state gauges are set when a target's runtime is built; only what is gone is removed here.
  if (op === 'remove') {
    metrics.targetPaused.remove({ target });
    for (const state of HEALTH_STATES) metrics.targetHealth.remove({ target, state });
    for (const state of BREAKER_STATES) metrics.breakerState.remove({ target, state });
  }
}

function apply<T extends string>(counter: Counter<T>, labels: Record<T, string>, op: Op): void {
  if (op === 'zero') counter.inc(labels, 0);
  else counter.remove(labels);
}
