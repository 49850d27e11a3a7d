/** The /api/v1 shapes the console reads (docs/api.md). Fields a given alertmux may not have yet are optional. */

export interface Session {
  tokenRequired: boolean;
  authenticated: boolean;
  actions: boolean;
}

/** A per-target result: delivery states (list) or dispatch-result states (detail). */
export interface TargetEntry {
  target: string;
  type: string;
  deliveryId?: string;
  state: string;
  skipReason?: string;
  attempts: number;
  lastStatus?: number;
  lastReason?: string;
  lastError?: string;
  statusCode?: number;
  reason?: string;
  error?: string;
  nextAttemptAt?: string;
  queued?: boolean;
  deadLettered?: boolean;
  fallbackFor?: string;
  durationMs?: number;
  attemptHistory?: Attempt[];
  /** What the target is sent for this delivery, rendered with its current config, secrets redacted. */
  sent?: unknown;
  /** Why there is no `sent` (target no longer configured, a kind that sends no HTTP request). */
  sentUnavailable?: string;
}

export interface Attempt {
  /** Its number among all the delivery's attempts (replays keep counting). */
  attempt?: number;
  at: string;
  outcome?: string;
  /** The first attempt after an operator's replay. */
  replay?: boolean;
  replica?: string;
  durationMs?: number;
  statusCode?: number;
  reason?: string;
  error?: string;
  nextAttemptAt?: string;
  trial?: boolean;
}

export interface NotificationRow {
  id: string;
  receivedAt: string;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  alertnames: string[];
  alerts: number;
  outcome: string;
  targets: TargetEntry[];
}

export interface Alert {
  status: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}

export interface NotificationDetail {
  id: string;
  receiver: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  outcome: string;
  receivedAt?: string;
  totals?: { targets: number; succeeded: number; failed: number; skipped: number; pending: number };
  targets: TargetEntry[];
  payload?: { alerts?: Alert[]; externalURL?: string; [k: string]: unknown };
}

export interface Delivery {
  id: string;
  notificationId: string;
  target: string;
  type: string;
  groupKey: string;
  state: string;
  skipReason?: string;
  attempts: number;
  createdAt?: string;
  updatedAt?: string;
  nextAttemptAt?: string;
  lastStatus?: number;
  lastReason?: string;
  lastError?: string;
  alerts?: number;
}

export interface HealthChange {
  at: string;
  from: string;
  to: string;
  reason?: string;
}

export interface Target {
  name: string;
  type: string;
  enabled: boolean;
  paused?: boolean;
  health: string;
  breaker: { state: string; [k: string]: unknown } | string;
  lastSuccessAt?: string;
  lastError?: { at?: string; message: string };
  source?: { kind: string; file?: string; secret?: string };
  healthHistory?: HealthChange[];
}

export interface Tile {
  name: string;
  type: string;
  health: string;
  breaker: string | { state: string };
  paused?: boolean;
  successRate1h?: number | null;
  p95Ms1h?: number | null;
  queueDepth?: number;
  oldestPendingAgeSeconds?: number | null;
  deadLetters?: number;
  lastError?: string | { at?: string; message: string };
  lastSuccessAt?: string;
  lastErrorAt?: string;
}

export interface Bucket {
  start: string;
  delivered: number;
  partial: number;
  failed: number;
  accepted: number;
}

export interface ReloadStatus {
  lastReloadAt?: string;
  lastReloadSuccess?: boolean;
  lastReloadError?: string;
}

export interface Overview {
  targets: Tile[];
  totals: Bucket[];
  config: ReloadStatus;
  deadman: { state?: string; [k: string]: unknown } | null;
}
