import type { EnrichConfig } from '../alerts/enrich.js';
import type { TargetConfig } from './target.js';
import type { Problem } from './problems.js';

/** Which targets a dispatch skips for health reasons. */
export type HealthStrategy = 'skip_unhealthy' | 'skip_unhealthy_and_degraded' | 'publish_to_all';

/** A loaded, validated, frozen alertmux.yml. Durations are milliseconds. */
export interface Config {
  listen: string;
  /** This process's name (logs, metrics, attempt history); absent: ALERTMUX_REPLICA, else the host name (src/observability/replica.ts). */
  replica?: string;
  auth: { bearer_token?: string; basic_auth?: { username: string; password: string } };
  admin: { bearer_token?: string };
  limits: { max_body_bytes: number; header_timeout: number; request_timeout: number; idle_timeout: number; max_connections: number };
  /** The ledger: `driver` selects the backend (`storageOptions` in src/config/storage.ts gives its options); durations in ms. */
  storage: {
    driver: 'sqlite' | 'postgres';
    /** The SQLite file (absolute once loaded); the default is filled in under driver postgres too, and unused there. */
    path: string;
    /** PostgreSQL URL, secrets resolved (its password is in `secrets`); present when driver is postgres. */
    url?: string;
    pool_size: number;
    statement_timeout: number;
    lease: number;
    retention: number;
  };
  dispatch: { timeout: number; response_deadline: number; max_concurrency: number; health_strategy: HealthStrategy };
  retry: { initial_backoff: number; multiplier: number; max_backoff: number; max_attempts: number; max_age: number };
  dedup: { window: number };
  health: { unhealthy_after: number; window: number; min_samples: number; degraded_failure_ratio: number; degraded_p95: number };
  breaker: {
    consecutive_failures: number;
    /** Deprecated and ignored: a failure ratio no longer opens the breaker. */
    failure_ratio?: number;
    /** Deprecated and ignored, with `failure_ratio`. */
    min_requests?: number;
    window: number;
    cooldown: number;
    max_cooldown: number;
  };
  enrich: EnrichConfig;
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
  targets_dir?: string;
  /** Poll period of targets_dir in ms (0: off). */
  targets_dir_interval: number;
  /** Targets found at run time (merged after the file's; see src/discovery). */
  discovery?: { kubernetes?: KubernetesDiscoveryConfig };
  /** The dead man's switch; absent when off. */
  deadman?: DeadmanConfig;
  /** Targets of the file first, then those of `targets_dir`. */
  targets: TargetConfig[];
  /** Every secret value the config holds, for redaction; never printed. */
  secrets: readonly string[];
  /** Where each target came from, by name (absent: the config file). */
  sources?: Readonly<Record<string, TargetSource>>;
  /** Each target file of `targets_dir` and what became of it (a broken one does not fail the load). */
  targetFiles?: readonly TargetFile[];
  /** What is legal but likely a mistake (no targets), for check-config and the load's log line. */
  warnings?: readonly string[];
}

/** Where a target's definition came from: the config file, a targets_dir file, or a Kubernetes Secret (`namespace/name`). */
export interface TargetSource {
  kind: 'config' | 'targets_dir' | 'kubernetes';
  file?: string;
  secret?: string;
}

/** A `targets_dir` file (or mounted Secret's `config`) after a load. */
export interface TargetFile {
  file: string;
  /** The target it defines now: this version's, or the kept last good version's. */
  target?: string;
  /** `loaded`: this version is in effect. Broken: `kept` its last good version, or `skipped` (it never loaded). */
  state: 'loaded' | 'kept' | 'skipped';
  /** Every problem of a broken file, with line and column where known. */
  problems: readonly Problem[];
}

/** `discovery.kubernetes`: targets from labelled Secrets through the Kubernetes API. `interval` is milliseconds. */
export interface KubernetesDiscoveryConfig {
  namespaces: string[];
  label_selector: string;
  interval: number;
  kubeconfig?: string;
}

/** `deadman`: page `targets` when no firing alert matching `match` arrived for `timeout` (milliseconds). */
export interface DeadmanConfig {
  match: string[];
  timeout: number;
  targets: string[];
}
