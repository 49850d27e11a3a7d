import express, { type Router } from 'express';
import { probeTarget } from '../health/probe.js';
import { redactTarget } from '../publishers/registry.js';
import { queryParams } from './input.js';
import type { Dispatcher as HttpDispatcher } from 'undici';
import type { Runtime, TargetRuntime } from '../dispatch/runtime.js';

/** What the targets routes need. */
export interface TargetsDeps {
  runtime: () => Runtime;
  http: HttpDispatcher;
  userAgent: string;
}

/** A target as the API shows it: config (secrets redacted), health and breaker. */
export function targetView(t: TargetRuntime) {
  const health = t.health.snapshot();
  return {
    name: t.config.name,
    type: t.config.type,
    enabled: t.config.enabled,
    health: health.status,
    breaker: t.breaker.snapshot(),
    lastSuccessAt: health.lastSuccessAt,
    lastError: health.lastError === undefined ? undefined : { at: health.lastErrorAt, message: health.lastError },
    counts: { succeeded: health.succeeded, failed: health.failed, consecutiveFailures: health.consecutiveFailures },
    window: health.window,
    lastProbe: health.lastProbe,
    paused: t.status.paused,
    pausedAt: t.status.pausedAt === undefined ? undefined : new Date(t.status.pausedAt).toISOString(),
    source: t.source,
    healthHistory: t.status.history(),
    config: redactTarget(t.config),
  };
}

/** GET /api/v1/targets, GET /api/v1/targets/:name, POST /api/v1/targets/:name/check. */
export function createTargetsRouter(deps: TargetsDeps): Router {
  const router = express.Router();
  router.get('/api/v1/targets', queryParams(), (_req, res) => {
    res.json({ targets: [...deps.runtime().targets.values()].map(targetView) });
  });
  router.get('/api/v1/targets/:name', queryParams(), (req, res) => {
    const t = deps.runtime().targets.get(req.params['name'] ?? '');
    if (!t) res.status(404).json({ error: 'no such target' });
    else res.json(targetView(t));
  });
  router.post('/api/v1/targets/:name/check', queryParams(), async (req, res) => {
    const t = deps.runtime().targets.get(req.params['name'] ?? '');
    if (!t) {
      res.status(404).json({ error: 'no such target' });
      return;
    }
    const probe = await probeTarget(t, deps.http, deps.userAgent);
    res.json({ ...probe, probed: t.config.health_check !== undefined, target: targetView(t) });
  });
  return router;
}
