import type { Dispatcher } from 'undici';
import type { TargetMessage } from '../alerts/types.js';
import type { Logger } from '../observability/logger.js';

/** Why a delivery failed. Used as the `reason` label on failure metrics (Alertmanager's names where they overlap). */
export const FAILURE_REASONS = ['clientError', 'serverError', 'authError', 'rateLimited', 'timeout', 'canceled', 'network', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Result of one delivery attempt to one target: Alertmanager's `(retry bool, err error)` as a value. */
export type Outcome =
  | { ok: true; status?: number }
  | {
      ok: false;
      retryable: boolean;
      reason: FailureReason;
      message: string;
      status?: number;
      /** How long the vendor asked us to wait (`Retry-After`, Discord's `retry_after`). */
      retryAfterMs?: number;
    };

/** What a publisher knows about the attempt it is making. */
export interface PublishContext {
  /** The delivery's id: stable across retries of the same delivery (Standard Webhooks `webhook-id`). */
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted on the per-attempt timeout or on shutdown. */
  signal: AbortSignal;
  /** Set on a fallback delivery: the target this notification was meant for (the payload says so where it can). */
  fallbackFor?: string;
}

/**
 * Correlation state of one target (Slack `channel`+`ts`, Rootly ids, ...), kept in
 * the same store as the delivery ledger so it survives restarts.
 */
export interface TargetState {
  /** The ledger's answers come later (a shared database); an in-memory state may answer at once. Always awaited. */
  get<T>(key: string): T | undefined | Promise<T | undefined>;
  /** Keep `value` under `key` for `ttlMs`; it expires with the alert it correlates. */
  set(key: string, value: unknown, ttlMs: number): void | Promise<void>;
  delete(key: string): void | Promise<void>;
}

/** What building a request needs of a delivery: its id and, on a fallback, the target it stands in for. */
export type RequestContext = Pick<PublishContext, 'deliveryId' | 'fallbackFor'>;

/** One HTTP request exactly as it would go out: headers include those `send` adds, the body is the bytes sent. */
export interface PlannedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The requests of one delivery, in order, and what a reader must know about them (state they depend on). */
export interface RequestPlan {
  requests: PlannedRequest[];
  note?: string;
}

/** A Publisher delivers one alert group to one configured target. It never throws for vendor or network failures. */
export interface Publisher {
  readonly type: string;
  readonly name: string;
  publish(msg: TargetMessage, ctx: PublishContext): Promise<Outcome>;
  /**
   * The requests `publish` would make for `msg`, built by the same code, without sending anything (secrets NOT yet
   * redacted: `renderRequests` in registry.ts does that). Absent for kinds that send no HTTP request.
   */
  request?(msg: TargetMessage, ctx: RequestContext): RequestPlan;
  /** Releases files or timers the publisher holds. */
  close?(): Promise<void>;
}

/** What every publisher factory may use. Nothing else reaches a publisher. */
export interface PublisherDeps {
  /** undici dispatcher (keep-alive pools); tests pass a MockAgent. */
  http: Dispatcher;
  userAgent: string;
  logger: Logger;
  state: TargetState;
  now: () => number;
  /** Redacts the target's secrets (and their derived forms) from a text; `createPublisher` sets it from the kind's secret fields. */
  redact?: (text: string) => string;
}
