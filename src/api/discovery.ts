import express, { type Router } from 'express';
import { queryParams } from './input.js';
import type { TargetDiscovery } from '../discovery/types.js';

/** GET /api/v1/discovery: each discovered Secret with its target or why it was skipped, and each namespace's watch. */
export function createDiscoveryRouter(deps: { discovery?: TargetDiscovery }): Router {
  const router = express.Router();
  router.get('/api/v1/discovery', queryParams(), (_req, res) => {
    if (!deps.discovery) res.status(404).json({ error: 'discovery is not configured' });
    else res.json(deps.discovery.status());
  });
  return router;
}
