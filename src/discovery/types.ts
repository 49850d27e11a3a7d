import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** What the app gives a discovery when it starts it. */
export interface DiscoveryHooks {
  /** The set of discovered targets changed: merge again and swap. Called synchronously after each change. */
  onChange(): void;
  metrics: Metrics;
  logger: Logger;
}

/** What one Secret became, as `GET /api/v1/discovery` shows it. */
export interface SecretStatus {
  namespace: string;
  name: string;
  resourceVersion: string;
  ok: boolean;
  target?: string;
  error?: string;
}

/** One watched namespace. */
export interface NamespaceStatus {
  namespace: string;
  state: 'starting' | 'watching' | 'failing';
  resourceVersion?: string;
  lastSyncAt?: string;
  lastError?: { reason: string; message: string; at: string };
}

/** The whole discovery, as `GET /api/v1/discovery` shows it. */
export interface DiscoveryStatus {
  source: 'kubernetes';
  labelSelector: string;
  /** Every namespace listed at least once. */
  synced: boolean;
  targets: number;
  invalid: number;
  namespaces: NamespaceStatus[];
  secrets: SecretStatus[];
}

/** A source of targets found at run time (Kubernetes Secrets), merged into every loaded config. */
export interface TargetDiscovery {
  /** Start listing and watching; resolves once every namespace had its first list attempt (successful or not). */
  start(hooks: DiscoveryHooks): Promise<void>;
  /** `config` plus the valid discovered targets; name clashes are recorded for status(). */
  merge(config: Config): Config;
  status(): DiscoveryStatus;
  /** Abort watches, clear timers, close connections. */
  stop(): Promise<void>;
}
