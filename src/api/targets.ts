import express, { type Router } from 'express';
import { probeTarget } from '../health/probe.js';
import { redactTarget } from '../publishers/registry.js';
import { queryParams } from './input.js';
import { startAttempt, type TrialDeps } from './trial.js';
import type { Request } from 'express';
import type { Dispatcher as HttpDispatcher } from 'undici';
import type { Ledger } from '../delivery/ledger.js';
import type { Runtime, TargetRuntime } from '../dispatch/runtime.js';
import type { Logger } from '../observability/logger.js';

/** What the targets routes need. */
export interface TargetsDeps {
  runtime: () => Runtime;
  http: HttpDispatcher;
  userAgent: string;
  store: Pick<Ledger, 'list'>;
  /** Ledger updates still in memory are written before reading. */
  flush(): Promise<void>;
  trial: TrialDeps;
  logger: Logger;
  /** Deliveries tried now: the retry worker should look (the rest of a closed breaker's backlog). */
  onTry(): void;
}

/** How many of a target's oldest pending deliveries `/try` looks at for one that is not in flight. */
const TRY_CANDIDATES = 50;

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

/** GET /api/v1/targets, GET /api/v1/targets/:name, POST /api/v1/targets/:name/check and /try. */
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
    if (!t.config.health_check) {
      // Nothing to run: say so rather than answer ok; what can close an open breaker now is a trial delivery.
      res.json({
        probed: false,
        detail: 'no health probe configured for this target; its health comes from real deliveries only',
        breaker: t.breaker.snapshot(),
        trial: { route: `POST /api/v1/targets/${encodeURIComponent(t.config.name)}/try`, what: 'attempt its oldest queued delivery now (the breaker trial)' },
        target: targetView(t),
      });
      return;
    }
    const probe = await probeTarget(t, deps.http, deps.userAgent);
    res.json({ ...probe, probed: true, target: targetView(t) });
  });

  router.post('/api/v1/targets/:name/try', queryParams(), async (req, res) => {
    const t = deps.runtime().targets.get(req.params['name'] ?? '');
    if (!t) {
      res.status(404).json({ error: 'no such target' });
      return;
    }
    await deps.flush();
    const name = t.config.name;
    const queued = await deps.store.list({ state: 'pending', target: name, oldestFirst: true, limit: TRY_CANDIDATES });
    const record = queued.find((d) => !deps.trial.busy.has(d.id));
    if (!record) {
      const detail = queued.length ? 'its queued deliveries are being attempted now' : 'nothing queued for this target';
      res.json({ target: name, tried: false, detail, breaker: t.breaker.snapshot() });
      return;
    }
    const started = startAttempt(deps.trial, record, t);
    if ('held' in started) {
      res.status(409).json({ error: `not tried: ${started.held.why}`, ...started.held, breaker: t.breaker.snapshot() });
      return;
    }
    logTry(deps.logger, req, name, record.id, record.notificationId);
    // The rest of the backlog: woken by the breaker closing, or (closed breaker) due already.
    deps.onTry();
    const result = await started.run;
    res.json({ target: name, tried: true, result, breaker: t.breaker.snapshot() });
  });
  return router;
}

function logTry(logger: Logger, req: Request, target: string, deliveryId: string, notificationId: string): void {
  logger.info('target tried now by an operator', { by: req.socket.remoteAddress ?? 'unknown', target, deliveryId, notificationId });
}
