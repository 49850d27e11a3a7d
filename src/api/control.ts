import express, { type Router } from 'express';
import { PAUSED_UNTIL, type TargetStatuses } from '../dispatch/target-status.js';
import { queryParams } from './input.js';
import { remoteOf } from './query.js';
import { targetView } from './targets.js';
import type { Runtime } from '../dispatch/runtime.js';
import type { Ledger } from '../delivery/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What pause and resume need. */
export interface ControlDeps {
  runtime: () => Runtime;
  statuses: TargetStatuses;
  store: Ledger;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
  /** Ledger updates still in memory are written first (a pending outcome must not land after the hold). */
  flush(): Promise<void>;
  /** Released deliveries are due: the retry worker should look now. */
  onRelease(): void;
}

/**
 * POST /api/v1/targets/:name/pause and /resume. A paused target's deliveries are recorded and
 * queued (skip reason `paused`), never attempted; resume makes them due at once, in their order.
 * The flag is kept in the ledger: it survives reloads and restarts.
 */
export function createControlRouter(deps: ControlDeps): Router {
  const router = express.Router();
  for (const action of ['pause', 'resume'] as const) {
    router.post(`/api/v1/targets/:name/${action}`, queryParams(), async (req, res) => {
      const name = req.params['name'] ?? '';
      const target = deps.runtime().targets.get(name);
      if (!target) {
        res.status(404).json({ error: 'no such target' });
        return;
      }
      const remote = remoteOf(req);
      let changed: boolean;
      let moved: number;
      try {
        changed = action === 'pause' ? await deps.statuses.pause(name, remote) : await deps.statuses.resume(name, remote);
        await deps.flush();
        moved = action === 'pause' ? await deps.store.hold(name, PAUSED_UNTIL) : await deps.store.release(name, deps.now());
      } catch (err) {
        // The flag lives in the ledger: a pause it cannot record is refused, not kept in memory only.
        deps.logger.error(`target ${action} failed: the ledger cannot record it`, { target: name, remote, error: String(err) });
        res.status(503).json({ error: `cannot ${action} ${name}: the ledger cannot record it (${String(err)})` });
        return;
      }
      deps.metrics.targetPaused.set({ target: name }, action === 'pause' ? 1 : 0);
      if (action === 'pause') {
        deps.logger.info(changed ? 'target paused: its deliveries queue until it is resumed' : 'target pause requested; it was already paused', {
          target: name,
          remote,
          queued: moved,
        });
      } else {
        deps.logger.info(changed ? 'target resumed: releasing its queued deliveries' : 'target resume requested; it was not paused', {
          target: name,
          remote,
          released: moved,
        });
        if (moved > 0) deps.onRelease();
      }
      res.json(targetView(target));
    });
  }
  return router;
}
