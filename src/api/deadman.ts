import express, { type Router } from 'express';
import { queryParams } from './input.js';
import type { DeadmanStatus } from '../deadman/switch.js';

/** GET /api/v1/deadman: the dead man's switch's state, last heartbeat, timeout, targets and open page. */
export function createDeadmanRouter(deps: { status: () => DeadmanStatus }): Router {
  const router = express.Router();
  router.get('/api/v1/deadman', queryParams(), (_req, res) => void res.json(deps.status()));
  return router;
}
