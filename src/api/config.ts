import express, { type Router } from 'express';
import { redactFields } from '../publishers/redaction.js';
import { targetSecretFields } from '../publishers/registry.js';
import { queryParams } from './input.js';
import type { Runtime } from '../dispatch/runtime.js';
import type { SecretField } from '../publishers/redaction.js';

/** The last reload (or the start, before any reload) as the API shows it. */
export interface ReloadStatus {
  lastReloadAt: string;
  lastReloadSuccess: boolean;
  /** Why the last reload failed and every problem, one per line, secrets redacted. */
  lastReloadError?: string;
  /** Its problems one by one (as GET /api/v1/config/status lists them). */
  problems?: string[];
}

/** Secret fields outside the targets: inbound auth and the admin token. Every resolved secret reference is redacted too. */
const CONFIG_SECRETS: readonly SecretField[] = [
  { path: 'auth.bearer_token', shape: 'bearer' },
  { path: 'auth.basic_auth', shape: 'basic' },
  { path: 'admin.bearer_token', shape: 'bearer' },
];

/** The running config safe to show: each target by its kind's secret declarations, the rest by CONFIG_SECRETS, every string redacted. */
export function redactedConfig(rt: Runtime): Record<string, unknown> {
  const { secrets: _secrets, sources: _sources, targets, ...rest } = rt.config;
  return {
    ...redactFields(rest, CONFIG_SECRETS, rt.redact),
    targets: targets.map((t) => redactFields(t, targetSecretFields[t.type] ?? [], rt.redact)),
  };
}

/** What GET /api/v1/config needs. */
export interface ConfigRouteDeps {
  runtime: () => Runtime;
  reloadStatus: () => ReloadStatus;
}

/** GET /api/v1/config: the running config (durations in ms, secrets redacted), where each target came from, and the last reload. */
export function createConfigRouter(deps: ConfigRouteDeps): Router {
  const router = express.Router();
  router.get('/api/v1/config', queryParams(), (_req, res) => {
    const rt = deps.runtime();
    const sources = Object.fromEntries(rt.config.targets.map((t) => [t.name, rt.targets.get(t.name)?.source ?? { kind: 'config' }]));
    res.json({ config: redactedConfig(rt), sources, reload: deps.reloadStatus() });
  });
  return router;
}
