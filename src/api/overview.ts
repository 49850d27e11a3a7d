import express, { type Router } from 'express';
import { queryParams } from './input.js';
import type { ReloadStatus } from './config.js';
import type { Runtime, TargetRuntime } from '../dispatch/runtime.js';
import type { Ledger } from '../delivery/ledger.js';
import type { TargetQueueStats } from '../delivery/types.js';

/** The overview's span and bucket: twelve five-minute buckets over the last hour. */
export const OVERVIEW_SPAN_MS = 3600_000;
export const OVERVIEW_BUCKET_MS = 300_000;

/** What GET /api/v1/overview needs. */
export interface OverviewDeps {
  runtime: () => Runtime;
  store: Ledger;
  now: () => number;
  reloadStatus: () => ReloadStatus;
  /** The dead man's switch status, when one is configured. */
  deadman?: () => unknown;
  flush(): Promise<void>;
}

/** One target's tile. */
function tile(t: TargetRuntime, queue: TargetQueueStats | undefined, now: number) {
  const health = t.health.snapshot();
  const recent = t.status.recent.summary(now);
  return {
    name: t.config.name,
    type: t.config.type,
    enabled: t.config.enabled,
    health: health.status,
    breaker: t.breaker.snapshot().state,
    paused: t.status.paused,
    // Attempts of the last hour (null without any): delivered / attempted, and the p95 duration.
    successRate1h: recent.count ? Math.round((1 - recent.failureRatio) * 1000) / 1000 : null,
    p95Ms1h: recent.count ? Math.round(t.status.recent.p95(now) * 10) / 10 : null,
    attempts1h: recent.count,
    queueDepth: queue?.pending ?? 0,
    oldestPendingAgeSeconds: queue?.oldestPendingAt === undefined ? 0 : Math.max(0, Math.round((now - queue.oldestPendingAt) / 1000)),
    deadLetters: queue?.dead ?? 0,
    lastError: health.lastError,
    lastErrorAt: health.lastErrorAt,
    lastSuccessAt: health.lastSuccessAt,
  };
}

/** GET /api/v1/overview: per target tiles, notifications by outcome over the last hour, config and dead man's switch status. */
export function createOverviewRouter(deps: OverviewDeps): Router {
  const router = express.Router();
  router.get('/api/v1/overview', queryParams(), async (_req, res) => {
    await deps.flush();
    const now = deps.now();
    const rt = deps.runtime();
    const queues = new Map((await deps.store.targetStats()).map((q) => [q.target, q]));
    // Aligned to the bucket, so a chart polled every few seconds keeps its columns.
    const start = Math.floor(now / OVERVIEW_BUCKET_MS) * OVERVIEW_BUCKET_MS - OVERVIEW_SPAN_MS + OVERVIEW_BUCKET_MS;
    const counted = new Map((await deps.store.outcomeBuckets(start, OVERVIEW_BUCKET_MS)).map((b) => [b.bucket, b]));
    const totals = Array.from({ length: OVERVIEW_SPAN_MS / OVERVIEW_BUCKET_MS }, (_, i) => {
      const b = counted.get(i);
      return {
        start: new Date(start + i * OVERVIEW_BUCKET_MS).toISOString(),
        delivered: b?.delivered ?? 0,
        partial: b?.partial ?? 0,
        failed: b?.failed ?? 0,
        accepted: b?.accepted ?? 0,
      };
    });
    res.json({
      at: new Date(now).toISOString(),
      targets: [...rt.targets.values()].map((t) => tile(t, queues.get(t.config.name), now)),
      totals,
      config: deps.reloadStatus(),
      deadman: deps.deadman?.() ?? null,
    });
  });
  return router;
}
