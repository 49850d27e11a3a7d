import { createEnricher, type Enricher } from '../alerts/enrich.js';
import { CircuitBreaker } from '../health/breaker.js';
import { HEALTH_STATES, HealthMonitor } from '../health/monitor.js';
import { configRedactor, createPublisher } from '../publishers/registry.js';
import type { TargetConfig } from '../config/target.js';
import { compileMatchers, type Matcher } from '../matchers/matchers.js';
import type { Config, TargetSource } from '../config/types.js';
import { TargetStatus } from './target-status.js';
import type { Logger } from '../observability/logger.js';
import { targetMeters, type Metrics, type TargetMeters } from '../observability/metrics.js';
import type { Publisher, PublisherDeps } from '../publishers/publisher.js';

/** One target with everything that lives as long as its config is unchanged. */
export interface TargetRuntime {
  readonly config: TargetConfig;
  readonly publisher: Publisher;
  readonly matchers: readonly Matcher[];
  /** Matchers on the notification's `routeLabels` (`match_route`). */
  readonly routeMatchers: readonly Matcher[];
  readonly health: HealthMonitor;
  readonly breaker: CircuitBreaker;
  /** Per-attempt timeout in ms. */
  readonly timeout: number;
  /** Its per-attempt metric series. */
  readonly meters: TargetMeters;
  /** Identity of the config it was built from; a reload reuses the runtime only when this is equal. */
  readonly signature: string;
  /** Paused or not, and its recent transitions: by name, so it outlives this runtime. */
  readonly status: TargetStatus;
  /** Where its definition came from. */
  readonly source: TargetSource;
}

/** What one config produces; rebuilt and swapped whole on reload. */
export interface Runtime {
  readonly config: Config;
  readonly enrich: Enricher;
  readonly targets: ReadonlyMap<string, TargetRuntime>;
  /** Redacts every secret of this config (and their derived forms) from a text. */
  readonly redact: (text: string) => string;
}

/** Hooks a runtime's targets report through. */
export interface RuntimeHooks {
  metrics: Metrics;
  /** Health and breaker changes of a target are logged here. */
  logger: Logger;
  now: () => number;
  /** Called when a target is no longer unhealthy or its breaker closes: its waiting deliveries can go. */
  onRecovered(target: string): void;
  /** Publisher deps of one target (its own correlation state). */
  publisherDeps(target: string): PublisherDeps;
  /** The operator state of a target (paused, history); a fresh one per runtime when not given. */
  status?(target: string): TargetStatus;
  /**
   * A shared ledger: what this replica's breakers find, told to the other replicas. `opened` when its own attempts
   * opened a target's breaker (until its trial), `closed` when a trial closed it.
   */
  breakers?: { opened(target: string, until: number, trips: number): void; closed(target: string): void };
}

/**
 * Build the runtime of `config`. Targets whose config did not change keep their
 * runtime (health, breaker, publisher) from `previous`; changed ones start fresh.
 * Everything fallible happens here, before any swap.
 */
export function buildRuntime(config: Config, hooks: RuntimeHooks, previous?: Runtime): Runtime {
  const targets = new Map<string, TargetRuntime>();
  try {
    for (const target of config.targets) {
      const source = config.sources?.[target.name] ?? { kind: 'config' };
      const signature = JSON.stringify([target, config.health, config.breaker, config.dispatch.timeout, source]);
      const old = previous?.targets.get(target.name);
      targets.set(target.name, old && old.signature === signature ? old : createTargetRuntime(target, config, signature, source, hooks));
    }
  } catch (err) {
    // Nothing of a failed build may linger (e.g. a publisher's re-post timer): close what was created new.
    const created = [...targets.values()].filter((t) => previous?.targets.get(t.config.name) !== t);
    for (const t of created) void t.publisher.close?.();
    throw err;
  }
  return {
    config,
    enrich: createEnricher(config.enrich),
    targets,
    redact: configRedactor(config),
  };
}

function createTargetRuntime(target: TargetConfig, config: Config, signature: string, source: TargetSource, hooks: RuntimeHooks): TargetRuntime {
  const { metrics, now } = hooks;
  const name = target.name;
  const status = hooks.status?.(name) ?? new TargetStatus(now);
  for (const state of HEALTH_STATES) metrics.targetHealth.set({ target: name, state }, state === 'unknown' ? 1 : 0);
  for (const state of ['closed', 'open', 'half_open']) metrics.breakerState.set({ target: name, state }, state === 'closed' ? 1 : 0);
  const health = new HealthMonitor(config.health, now, (from, to) => {
    metrics.targetHealth.set({ target: name, state: from }, 0);
    metrics.targetHealth.set({ target: name, state: to }, 1);
    // Healthy ⇄ degraded can flip with every sample near a threshold: a debug line; down and back are warn and info.
    const level = to === 'unhealthy' ? 'warn' : from === 'unhealthy' || to === 'unknown' ? 'info' : 'debug';
    hooks.logger[level]('target health changed', { target: name, from, to });
    status.record('health', from, to, to === 'healthy' || to === 'unknown' ? undefined : health.snapshot().lastError);
    // Back from down: what waits for it can go. Not degraded → healthy: nothing waits on that but retries in backoff.
    if (from === 'unhealthy') hooks.onRecovered(name);
  });
  const breaker = new CircuitBreaker(config.breaker, now, (from, to, cause) => {
    metrics.breakerState.set({ target: name, state: from }, 0);
    metrics.breakerState.set({ target: name, state: to }, 1);
    metrics.breakerTransitions.inc({ target: name, from, to });
    status.record('breaker', from, to, cause ?? breakerReason(from, to, breaker.snapshot().consecutiveFailures));
    if (to === 'open') {
      const trialAt = new Date(breaker.opensTrialAt ?? now()).toISOString();
      if (cause) hooks.logger.warn('circuit breaker opened by another replica: the target looks down; its deliveries wait for a trial', { target: name, from, trialAt, cause });
      else {
        hooks.logger.warn('circuit breaker opened: the target looks down; its deliveries wait for a trial', { target: name, from, trialAt });
        hooks.breakers?.opened(name, breaker.opensTrialAt ?? now(), breaker.snapshot().trips);
      }
    } else if (to === 'half_open') hooks.logger.info('circuit breaker half-open: one trial delivery goes to the target', { target: name, from });
    else if (to === 'closed') hooks.logger.info('circuit breaker closed: the trial succeeded; waking its deliveries', { target: name, from });
    if (to === 'closed') {
      hooks.breakers?.closed(name);
      hooks.onRecovered(name);
    }
  });
  return {
    config: target,
    publisher: createPublisher(target, hooks.publisherDeps(name)),
    matchers: compileMatchers(target.match),
    routeMatchers: compileMatchers(target.match_route ?? []),
    health,
    breaker,
    timeout: target.timeout ?? config.dispatch.timeout,
    meters: targetMeters(metrics, name, target.type),
    signature,
    status,
    source,
  };
}

/** Why a breaker changed state, for the target's history (its outcome is recorded after the breaker's, so no error text). */
function breakerReason(from: string, to: string, consecutiveFailures: number): string {
  if (to === 'open') return from === 'half_open' ? 'the trial delivery failed' : `${consecutiveFailures} failed ${consecutiveFailures === 1 ? 'delivery' : 'deliveries'} in a row`;
  if (to === 'half_open') return 'cooldown over: one trial delivery may go';
  return 'the trial delivery succeeded';
}
