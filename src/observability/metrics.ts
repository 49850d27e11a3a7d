import { Counter, Gauge, Histogram, type CounterConfiguration, type LabelValues, type Registry } from 'prom-client';

/** One label set's count, not yet handed to its counter. */
interface PendingSeries<T extends string> {
  readonly labels: LabelValues<T>;
  count: number;
  inc(): void;
}

/**
 * Counts by label set, kept as plain numbers and added to their counter when it is
 * collected (on a scrape). prom-client hashes the label set on every `inc`, even through
 * a `labels()` child: with 3 counters per attempt, about 2% of the main thread at load.
 */
export class DeferredCounts<T extends string> {
  private readonly series = new Map<string, PendingSeries<T>>();

  /** The series of `labels` (one per label set, so counts survive a reload that rebuilds the targets). */
  of(labels: Record<T, string>): { inc(): void } {
    const key = JSON.stringify(labels);
    let series = this.series.get(key);
    if (!series) {
      const created: PendingSeries<T> = { labels: labels as LabelValues<T>, count: 0, inc: () => void created.count++ };
      series = created;
      this.series.set(key, series);
    }
    return series;
  }

  /** Add what was counted since the last time to `counter`. */
  flushInto(counter: Counter<T>): void {
    for (const series of this.series.values()) {
      if (series.count === 0) continue;
      counter.inc(series.labels, series.count);
      series.count = 0;
    }
  }
}

/** A counter whose hot series count through `deferred` (see DeferredCounts). */
function deferredCounter<T extends string>(config: CounterConfiguration<T>): Counter<T> & { deferred: DeferredCounts<T> } {
  const deferred = new DeferredCounts<T>();
  const counter = new Counter<T>({
    ...config,
    collect() {
      deferred.flushInto(this);
    },
  });
  return Object.assign(counter, { deferred });
}

/**
 * Every metric alertmux exports, on the Registry passed in (never prom-client's
 * global one). Names follow Alertmanager's notify/metrics.go where they overlap,
 * so dashboards carry over.
 */
export function createMetrics(registry: Registry) {
  const registers = [registry];
  const targetLabels = ['target', 'type'] as const;
  return {
    webhookRequests: new Counter({
      name: 'alertmux_webhook_requests_total',
      help: 'Webhook requests received, by HTTP status code answered.',
      labelNames: ['code'] as const,
      registers,
    }),
    webhookDuration: new Histogram({
      name: 'alertmux_webhook_request_duration_seconds',
      help: 'Time from receiving a webhook to answering it.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    notifications: deferredCounter({
      name: 'alertmux_notifications_total',
      help: 'Deliveries created: one per notification and selected target (skipped ones excluded).',
      labelNames: targetLabels,
      registers,
    }),
    notificationsFailed: new Counter({
      name: 'alertmux_notifications_failed_total',
      help: 'Delivery attempts that failed, by reason.',
      labelNames: [...targetLabels, 'reason'] as const,
      registers,
    }),
    delivered: deferredCounter({
      name: 'alertmux_notifications_delivered_total',
      help: 'Deliveries that reached their target.',
      labelNames: targetLabels,
      registers,
    }),
    requests: deferredCounter({
      name: 'alertmux_notification_requests_total',
      help: 'Delivery attempts made (first attempts and retries).',
      labelNames: targetLabels,
      registers,
    }),
    latency: new Histogram({
      name: 'alertmux_notification_latency_seconds',
      help: 'Duration of one delivery attempt.',
      labelNames: targetLabels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers,
    }),
    retries: new Counter({
      name: 'alertmux_delivery_retries_total',
      help: 'Retry attempts (attempts after the first) of deliveries.',
      labelNames: ['target'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'alertmux_deliveries_skipped_total',
      help: 'Targets skipped without an attempt, by reason (disabled, filtered, duplicate, unhealthy, degraded, circuit_open, superseded, paused).',
      labelNames: ['target', 'reason'] as const,
      registers,
    }),
    allSkipped: new Counter({
      name: 'alertmux_notifications_all_targets_skipped_total',
      help: 'Notifications for which every selected target was skipped for health reasons (kept queued).',
      registers,
    }),
    deadLetters: new Counter({
      name: 'alertmux_dead_letters_total',
      help: 'Deliveries dead-lettered, by the reason of their last failure.',
      labelNames: ['target', 'reason'] as const,
      registers,
    }),
    fallbacks: new Counter({
      name: 'alertmux_fallback_deliveries_total',
      help: 'Fallback deliveries sent: a delivery to `target` dead-lettered (reason dead) or held for fallback_after (reason held) also went to `fallback`.',
      labelNames: ['target', 'fallback', 'reason'] as const,
      registers,
    }),
    replays: new Counter({
      name: 'alertmux_delivery_replays_total',
      help: 'Deliveries replayed by an operator.',
      labelNames: ['target'] as const,
      registers,
    }),
    replicaInfo: new Gauge({
      name: 'alertmux_replica_info',
      help: "Always 1: this process's name (config `replica`, ALERTMUX_REPLICA or the host name), as in its log lines and attempt history.",
      labelNames: ['replica'] as const,
      registers,
    }),
    storageErrors: new Counter({
      name: 'alertmux_storage_errors_total',
      help: 'Ledger writes that failed: accepts (the webhook then answers 503) and outcome updates (kept in memory until written).',
      registers,
    }),
    ledgerWritable: new Gauge({
      name: 'alertmux_ledger_writable',
      help: 'Whether the ledger commits: 0 from a failed write until one succeeds (/-/ready answers 503 meanwhile).',
      registers,
    }),
    unwrittenOutcomes: new Gauge({
      name: 'alertmux_ledger_unwritten_outcomes',
      help: 'Attempt outcomes the ledger could not write, kept in memory as settled until it can.',
      registers,
    }),
    // Several replicas on one database (issue 23). The ledger backends feed these; counters start at 0.
    databaseUp: new Gauge({
      name: 'alertmux_ledger_database_up',
      help: 'Whether the ledger answers: 1 while its database (or SQLite file) takes statements, 0 while it does not (/-/ready answers 503 meanwhile).',
      registers,
    }),
    leaseTakeovers: new Counter({
      name: 'alertmux_ledger_lease_takeovers_total',
      help: "Deliveries this replica took over from a replica whose lease expired (it died or stalled longer than storage.lease).",
      registers,
    }),
    leasesLost: new Counter({
      name: 'alertmux_ledger_leases_lost_total',
      help: 'Attempt outcomes this replica did not write because its lease was lost meanwhile (another replica owns the delivery now).',
      registers,
    }),
    exclusiveJobs: new Gauge({
      name: 'alertmux_ledger_exclusive_jobs',
      help: 'Jobs that run on one replica at a time (prune, deadman, queue-gauges): 1 on the replica that runs the job, 0 on the others.',
      labelNames: ['task'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'alertmux_delivery_queue_depth',
      help: 'Deliveries waiting (pending) and dead-lettered (dead) in the ledger, by priority (0 critical, 1 error, 2 warning, 3 other).',
      labelNames: ['state', 'priority'] as const,
      registers,
    }),
    oldestPending: new Gauge({
      name: 'alertmux_delivery_oldest_pending_age_seconds',
      help: 'Age of the oldest pending delivery (0 when none).',
      registers,
    }),
    targetHealth: new Gauge({
      name: 'alertmux_target_health',
      help: 'Health of each target: 1 for its current state, 0 for the others.',
      labelNames: ['target', 'state'] as const,
      registers,
    }),
    breakerState: new Gauge({
      name: 'alertmux_target_circuit_state',
      help: 'Circuit breaker of each target: 1 for its current state, 0 for the others.',
      labelNames: ['target', 'state'] as const,
      registers,
    }),
    targetPaused: new Gauge({
      name: 'alertmux_target_paused',
      help: 'Whether an operator paused the target (1): its deliveries queue and are not attempted until resumed.',
      labelNames: ['target'] as const,
      registers,
    }),
    breakerTransitions: new Counter({
      name: 'alertmux_target_circuit_transitions_total',
      help: 'Circuit breaker state changes.',
      labelNames: ['target', 'from', 'to'] as const,
      registers,
    }),
    deadmanLastHeartbeat: new Gauge({
      name: 'alertmux_deadman_last_heartbeat_timestamp_seconds',
      help: "Time of the last heartbeat (a firing alert matching deadman.match) the dead man's switch saw; 0 before the first, or when it is off.",
      registers,
    }),
    deadmanFiring: new Gauge({
      name: 'alertmux_deadman_firing',
      help: "1 while the dead man's switch's page (heartbeat missing) is open, else 0.",
      registers,
    }),
    configReloadSuccess: new Gauge({
      name: 'alertmux_config_last_reload_successful',
      help: 'Whether the last configuration reload attempt was successful.',
      registers,
    }),
    configReloadTime: new Gauge({
      name: 'alertmux_config_last_reload_success_timestamp_seconds',
      help: 'Timestamp of the last successful configuration reload.',
      registers,
    }),
    targetsDirBroken: new Gauge({
      name: 'alertmux_targets_dir_broken_files',
      help: 'targets_dir files that failed the last load: their target keeps its last good version, or is left out (problems in the log and GET /api/v1/config/status).',
      registers,
    }),
    targetsDirFileOk: new Gauge({
      name: 'alertmux_targets_dir_file_last_load_success',
      help: 'Whether a targets_dir file loaded at the last load (1), or is broken (0).',
      labelNames: ['file'] as const,
      registers,
    }),
    targets: new Gauge({
      name: 'alertmux_targets',
      help: 'Configured targets by type and whether enabled.',
      labelNames: ['type', 'enabled'] as const,
      registers,
    }),
    discoveryTargets: new Gauge({
      name: 'alertmux_discovery_targets',
      help: 'Targets discovered from Kubernetes Secrets and in use.',
      registers,
    }),
    discoveryInvalid: new Gauge({
      name: 'alertmux_discovery_invalid_targets',
      help: 'Discovered Secrets skipped: invalid, or their target name is taken (reasons in GET /api/v1/discovery).',
      registers,
    }),
    discoveryErrors: new Counter({
      name: 'alertmux_discovery_errors_total',
      help: 'Failed list or watch requests to the Kubernetes API, by reason (gone: a watch expired and was re-listed).',
      labelNames: ['reason'] as const,
      registers,
    }),
    discoverySyncTime: new Gauge({
      name: 'alertmux_discovery_last_sync_timestamp_seconds',
      help: 'Time of the last successful full list of Secrets, by namespace.',
      labelNames: ['namespace'] as const,
      registers,
    }),
  };
}

/** The typed metric handles. */
export type Metrics = ReturnType<typeof createMetrics>;

/** One target's per-attempt series, resolved once: prom-client hashes the label set on every labelled call (counters: DeferredCounts). */
export interface TargetMeters {
  notifications: { inc(): void };
  requests: { inc(): void };
  delivered: { inc(): void };
  latency: { observe(seconds: number): void };
}

/** The per-attempt series of one target (kept with its runtime). */
export function targetMeters(metrics: Metrics, target: string, type: string): TargetMeters {
  const labels = { target, type };
  return {
    notifications: metrics.notifications.deferred.of(labels),
    requests: metrics.requests.deferred.of(labels),
    delivered: metrics.delivered.deferred.of(labels),
    latency: metrics.latency.labels(labels),
  };
}
