import express, { type Router } from 'express';
import { formatProblem } from '../config/problems.js';
import { queryParams } from './input.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What GET /api/v1/config/status answers: the last load and what became of each targets_dir file. */
export interface ConfigStatusBody {
  lastLoad: { ok: boolean; at: string; error?: string; problems?: string[] };
  /** Warnings of the config in effect, and of the last reload (settings that take effect at restart). */
  warnings: string[];
  targetsDir?: { dir: string; broken: number; files: Array<{ file: string; target?: string; state: string; problems: string[] }> };
}

/**
 * Keeps the outcome of the last config load and reports it: a log line per broken targets_dir file (error, with
 * every problem), the targets_dir gauges, and the status route's answer. Problems are passed through `redact`.
 */
export class ConfigStatus {
  private body: ConfigStatusBody;
  private files = new Set<string>();

  constructor(
    private readonly deps: { metrics: Metrics; logger: Logger; now: () => number; redact: (s: string) => string },
  ) {
    this.body = { lastLoad: { ok: true, at: new Date(deps.now()).toISOString() }, warnings: [] };
  }

  /** A config loaded from the file (at start or by a reload), with the warnings of the swap. */
  loaded(config: Config, reloadWarnings: string[] = []): void {
    const { metrics, logger, redact } = this.deps;
    const files = config.targetFiles ?? [];
    const broken = files.filter((f) => f.state !== 'loaded');
    for (const f of broken) {
      logger.error(f.state === 'kept' ? 'targets_dir file is broken; keeping the last good version of its target' : 'targets_dir file is broken; its target is left out', {
        file: f.file,
        target: f.target,
        problems: f.problems.map((p) => redact(formatProblem(p))),
      });
    }
    for (const file of this.files) if (!files.some((f) => f.file === file)) metrics.targetsDirFileOk.remove({ file });
    this.files = new Set(files.map((f) => f.file));
    for (const f of files) metrics.targetsDirFileOk.set({ file: f.file }, f.state === 'loaded' ? 1 : 0);
    metrics.targetsDirBroken.set(broken.length);
    const warnings = [...(config.warnings ?? []), ...reloadWarnings];
    for (const w of config.warnings ?? []) logger.warn(`config: ${w}`);
    this.body = {
      lastLoad: { ok: true, at: new Date(this.deps.now()).toISOString() },
      warnings,
      ...(config.targets_dir
        ? {
            targetsDir: {
              dir: config.targets_dir,
              broken: broken.length,
              files: files.map((f) => ({ file: f.file, ...(f.target ? { target: f.target } : {}), state: f.state, problems: f.problems.map((p) => redact(formatProblem(p))) })),
            },
          }
        : {}),
    };
  }

  /** A reload that failed: the previous config stays, and so does what is said of its files. */
  failed(error: string, problems: string[]): void {
    this.body = { ...this.body, lastLoad: { ok: false, at: new Date(this.deps.now()).toISOString(), error, ...(problems.length ? { problems } : {}) } };
  }

  status(): ConfigStatusBody {
    return this.body;
  }
}

/** GET /api/v1/config/status. */
export function createConfigStatusRouter(status: ConfigStatus): Router {
  const router = express.Router();
  router.get('/api/v1/config/status', queryParams(), (_req, res) => void res.json(status.status()));
  return router;
}
