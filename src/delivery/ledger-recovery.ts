import { LedgerHealth } from './ledger-health.js';
import { UnwrittenOutcomes } from './settled.js';
import type { Logger } from '../observability/logger.js';
import type { Ledger } from './ledger.js';
import type { DeliveryUpdate } from './types.js';
import type { WriteListener } from './writer.js';

/** The correlation-state key a probe write touches when nothing else waits to be written. */
export const PROBE_KEY = '\u0000alertmux\u0000ledger-probe';

/** What the recovery needs from outside. */
export interface LedgerRecoveryDeps {
  store: Pick<Ledger, 'stateSet'>;
  logger: Logger;
  countError: () => void;
  /** Count outcomes not applied because another replica took their deliveries (alertmux_ledger_leases_lost_total). */
  countLost?: (count: number) => void;
  now: () => number;
}

/**
 * Listens to the ledger writer: outcomes it could not write are kept as settled in memory
 * (UnwrittenOutcomes) and the ledger is marked unhealthy (LedgerHealth). While unhealthy, after
 * each backoff, the kept outcomes are written again (or, with none, a small probe write tells
 * whether the ledger commits again); a write that commits makes it healthy and sends what is
 * still kept.
 */
export class LedgerRecovery implements WriteListener {
  readonly unwritten = new UnwrittenOutcomes();
  readonly health: LedgerHealth;
  private writer?: { push(update: DeliveryUpdate): void };

  constructor(private readonly deps: LedgerRecoveryDeps) {
    this.health = new LedgerHealth({ logger: deps.logger, countError: deps.countError, now: deps.now, retry: () => this.retry() });
  }

  /** The writer that writes kept outcomes again. */
  attach(writer: { push(update: DeliveryUpdate): void }): void {
    this.writer = writer;
  }

  failed(err: Error, updates: readonly DeliveryUpdate[]): void {
    this.unwritten.failed(updates);
    this.health.failed(
      err,
      updates.length ? `${updates.length} delivery outcome(s): kept in memory as settled, written when the ledger recovers` : 'an accept: the webhook answered 503',
    );
  }

  written(updates: readonly DeliveryUpdate[]): void {
    this.unwritten.written(updates);
  }

  /** Another replica took these deliveries (this replica's lease had expired): forget their outcomes, say so once per batch. */
  lost(updates: readonly DeliveryUpdate[]): void {
    if (!updates.length) return;
    this.unwritten.written(updates);
    this.deps.countLost?.(updates.length);
    this.deps.logger.warn('delivery outcomes not recorded: another replica took over their deliveries after this replica\'s lease expired', {
      count: updates.length,
      deliveryIds: updates.slice(0, 10).map((u) => u.id),
    });
  }

  ok(): void {
    if (this.health.ok) return;
    this.health.succeeded();
    this.rewrite();
  }

  /** Stop retrying; queue what is kept for the writer's last flush. */
  close(): void {
    this.health.stop();
    this.rewrite();
  }

  private retry(): void {
    if (this.unwritten.size) return this.rewrite();
    const now = this.deps.now();
    // The probe's answer comes later; it must not be taken for a success before it does.
    let probe: Promise<void>;
    try {
      probe = this.deps.store.stateSet(PROBE_KEY, String(now), now + 60_000);
    } catch (err) {
      return this.health.failed(err, 'a probe write');
    }
    probe.then(
      () => this.health.succeeded(),
      (err: unknown) => this.health.failed(err, 'a probe write'),
    );
  }

  private rewrite(): void {
    for (const u of this.unwritten.all()) this.writer?.push(u);
  }
}
