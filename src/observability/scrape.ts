import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/**
 * The registry's text exposition, metric by metric: a metric whose collection fails (a gauge
 * read from a broken ledger) is left out and reported to `onError`, so a scrape always answers.
 * `skip`: metrics left out by the caller (their values could not be read).
 */
export async function renderMetrics(registry: Registry, skip: ReadonlySet<string>, onError: (name: string, err: unknown) => void): Promise<string> {
  const parts: string[] = [];
  for (const { name } of registry.getMetricsAsArray()) {
    if (skip.has(name)) continue;
    try {
      parts.push(await registry.getSingleMetricAsString(name));
    } catch (err) {
      onError(name, err);
    }
  }
  // As registry.metrics() joins them (Prometheus text format).
  return `${parts.join('\n\n')}\n`;
}

/** Metrics left out of scrapes because they could not be read: logged at error, once a minute per metric. */
export class ScrapeErrors {
  private readonly lastLogAt = new Map<string, number>();
  constructor(
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  log(what: string, err: unknown): void {
    const now = this.now();
    if (now - (this.lastLogAt.get(what) ?? -Infinity) < 60_000) return;
    this.lastLogAt.set(what, now);
    const code = (err as { code?: unknown } | undefined)?.code;
    this.logger.error('metrics left out of the scrape: reading them failed', { what, code: typeof code === 'string' ? code : undefined, error: String(err) });
  }
}
