import { Registry } from 'prom-client';
import { MockAgent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { buildRuntime, type Runtime, type TargetRuntime } from '../../src/dispatch/runtime.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { nopLogger } from '../../src/observability/logger.js';
import { storedDelivery } from '../../src/delivery/records.js';
import type { TargetMessage } from '../../src/alerts/types.js';
import type { DeliveryRecord, NewDelivery } from '../../src/delivery/types.js';
import type { Outcome, PublishContext, PublisherDeps } from '../../src/publishers/publisher.js';
import { targetKinds } from '../../src/publishers/registry.js';

/** A runtime built from a config's YAML, its targets' breakers and health on the clock `now`, with a fresh registry. */
export async function runtimeOf(yaml: string, now: () => number): Promise<{ rt: Runtime; metrics: Metrics; registry: Registry }> {
  const config = await parseConfig(`storage: {path: ":memory:"}\n${yaml}`, { env: {}, baseDir: '/tmp', kinds: targetKinds });
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const http = new MockAgent();
  http.disableNetConnect();
  const logger = nopLogger();
  const rt = buildRuntime(config, {
    metrics,
    logger,
    now,
    onRecovered: () => undefined,
    publisherDeps: () => ({ http, userAgent: 'test', logger, now }) as unknown as PublisherDeps,
  });
  return { rt, metrics, registry };
}

/** The runtime of the target named `name`. */
export function targetOf(rt: Runtime, name: string): TargetRuntime {
  const target = rt.targets.get(name);
  if (!target) throw new Error(`no target ${name}`);
  return target;
}

/** A publisher as a function (Alertmanager's `notifierFunc`): each call is recorded with its context. */
export type PublishFunc = (message: TargetMessage, ctx: PublishContext) => Promise<Outcome>;

/** `target` with `publish` as its publisher. */
export function withPublisher(target: TargetRuntime, publish: PublishFunc): TargetRuntime {
  return { ...target, publisher: { ...target.publisher, publish } };
}

let nextId = 0;

/** A pending delivery record as the ledger stores it (one V8 shape), with overrides. */
export function deliveryRecord(overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  const id = `d_test_${++nextId}`;
  const base: NewDelivery = {
    id,
    notificationId: `n_test_${nextId}`,
    target: 't',
    targetType: 'webhook',
    groupKey: '{}:{alertname="Disk"}',
    notificationKey: `key-${nextId}`,
    state: 'pending',
    priority: 3,
    alerts: [0],
    attempts: 0,
    createdAt: 0,
    nextAttemptAt: 0,
  };
  return Object.assign(storedDelivery(base, nextId, false), overrides);
}

/** The value of the series `name` with `labels` (a subset) in `registry`, 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const series = (metric?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
  return series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}
