import { duration, secretString, type TargetKinds } from './target.js';

const obj = (description: string, properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  description,
  properties,
  ...extra,
});

/** A target of any of `kinds`; ajv picks the branch by `type`, which also lets it apply that branch's defaults. */
export function targetSchemaOf(kinds: TargetKinds) {
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { type: 'string', description: 'Target type.' } },
    discriminator: { propertyName: 'type' },
    oneOf: kinds.map((k) => k.schema),
  } as const;
}

/** JSON Schema of alertmux.yml. Defaults live here; durations become milliseconds while validating. */
export const configSchema = {
  $id: 'https://alertmux.dev/schema/config.json',
  title: 'alertmux configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'string',
      pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):[0-9]{1,5}$',
      default: '127.0.0.1:9095',
      description: 'HOST:PORT to listen on (`--listen` overrides).',
    },
    replica: {
      type: 'string',
      minLength: 1,
      maxLength: 253,
      pattern: '^\\S+$',
      description:
        "This process's name: the `replica` field of every log line, the `alertmux_replica_info` metric and the attempt history. Default: `ALERTMUX_REPLICA`, else the host name (in Kubernetes, the pod's name). Applies at start.",
    },
    auth: obj('Inbound auth for `POST /webhook`: what Alertmanager\'s `http_config` sends. Both may be set; either is accepted.', {
      bearer_token: { ...secretString, description: 'Expected `Authorization: Bearer` token.' },
      basic_auth: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        description: 'Expected HTTP basic auth.',
        properties: { username: { type: 'string', minLength: 1 }, password: secretString },
      },
    }),
    admin: obj('Auth of the admin API (everything but /webhook, /metrics, /-/healthy, /-/ready).', {
      bearer_token: { ...secretString, description: 'Expected `Authorization: Bearer` token on admin routes.' },
    }),
    limits: obj('Inbound limits.', {
      max_body_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'Largest accepted webhook body; larger gets 413.' },
      header_timeout: duration('Time a client has to send the request headers; a slower one gets 408 and its connection closed. At most `request_timeout`; applies at start.', '10s'),
      request_timeout: duration('Time a client has to send a whole request (headers and body); a slower one gets 408 and its connection closed. Applies at start.', '30s'),
      idle_timeout: duration('How long an idle keep-alive connection stays open. Applies at start.', '65s'),
      max_connections: { type: 'integer', minimum: 1, default: 1024, description: 'Open connections at most; more are closed at once (and logged). Applies at start.' },
    }),
    storage: obj(
      'The durable delivery ledger: an embedded SQLite file (the default, one process), or a PostgreSQL database shared by several replicas (see docs/operations.md, "Running several replicas"). Every field but `retention` applies at start.',
      {
        driver: { enum: ['sqlite', 'postgres'], default: 'sqlite', description: '`sqlite`: the file `path`. `postgres`: the database at `url`, which N replicas share.' },
        path: { type: 'string', minLength: 1, default: 'data/alertmux.db', description: 'SQLite file (driver sqlite); `:memory:` keeps nothing across restarts. Ignored, with a warning, under driver postgres.' },
        url: {
          type: 'string',
          minLength: 1,
          description:
            'PostgreSQL URL (driver postgres, where it is required): `postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=verify-full`; TLS through `sslmode`. Write the password (or the whole URL) as a secret reference; a literal password is a warning. Its password is redacted everywhere.',
          examples: ['postgres://alertmux:${env:PGPASSWORD}@db:5432/alertmux?sslmode=verify-full'],
        },
        pool_size: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'Connections to PostgreSQL at most, per replica.' },
        statement_timeout: duration('Longest a PostgreSQL statement may run; a slower one fails like an unreachable database (the webhook answers 503, an outcome is written later).', '5s'),
        lease: duration(
          "How long a replica's claim on a delivery lasts without renewal (driver postgres): renewed every third of it while an attempt runs; a dead replica's deliveries are taken over once it expires. At least 1s; shorter than 3 × `dispatch.timeout` is a warning.",
          '30s',
        ),
        retention: duration('How long delivered, skipped and superseded records are kept. Applies at once on a reload.', '7d'),
      },
      {
        examples: [
          { driver: 'postgres', url: 'postgres://alertmux:${env:PGPASSWORD}@db:5432/alertmux?sslmode=verify-full', pool_size: 10, lease: '30s' },
          { path: '/var/lib/alertmux/alertmux.db', retention: '7d' },
        ],
      },
    ),
    dispatch: obj('Fan-out.', {
      timeout: duration('Timeout of one attempt to one target.', '10s'),
      response_deadline: duration(
        "How long the webhook answer may wait for first attempts (keep it below Alertmanager's 10s flush timeout).",
        '8s',
      ),
      max_concurrency: { type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Outbound requests in flight at once, all targets together.' },
      health_strategy: {
        enum: ['skip_unhealthy', 'skip_unhealthy_and_degraded', 'publish_to_all'],
        default: 'skip_unhealthy',
        description: 'Which targets a dispatch skips (their deliveries stay queued).',
      },
    }),
    retry: obj('Durable retries: exponential backoff with full jitter.', {
      initial_backoff: duration('First retry delay (upper bound of the jitter).', '1s'),
      multiplier: { type: 'number', minimum: 1, default: 2, description: 'Growth of the backoff per attempt.' },
      max_backoff: duration('Largest retry delay.', '5m'),
      max_attempts: { type: 'integer', minimum: 1, default: 12, description: 'Attempts before a delivery is dead-lettered.' },
      max_age: duration('Age after which a pending delivery is dead-lettered.', '24h'),
    }),
    dedup: obj('Idempotency of resends (Alertmanager retries, HA peers).', {
      window: duration(
        "Within this window of a group's last accepted notification, a notification with nothing new for a target (Alertmanager's nflog rule, on alert fingerprints) skips it as duplicate.",
        '10m',
      ),
    }),
    health: obj('Passive health from delivery outcomes.', {
      unhealthy_after: {
        type: 'integer',
        minimum: 1,
        default: 3,
        description:
          'Failures in a row that make a target with no success in `window` unhealthy. A target with successes in it needs a run longer than bad luck explains at its failure ratio (20 at 50%).',
      },
      window: duration('Sliding window of outcomes for the degraded thresholds.', '5m'),
      min_samples: { type: 'integer', minimum: 1, default: 5, description: 'Outcomes in the window before degraded can be decided.' },
      degraded_failure_ratio: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'Failure ratio above which a target is degraded.' },
      degraded_p95: duration('p95 latency above which a target is degraded.', '5s'),
    }),
    breaker: obj('Circuit breaker per target: it opens for a target that is down, never for one that is only flaky (see docs/operations.md).', {
      consecutive_failures: {
        type: 'integer',
        minimum: 1,
        default: 10,
        description:
          'Failed deliveries in a row that open the breaker of a target with no success in `window`. A target with successes in it needs a run longer than bad luck explains at its failure ratio (20 at 50%).',
      },
      failure_ratio: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: 'Deprecated and ignored: a failure ratio no longer opens the breaker (a high one makes the target `degraded`, see `health`).',
      },
      min_requests: { type: 'integer', minimum: 1, description: 'Deprecated and ignored, with `failure_ratio`.' },
      window: duration('Sliding window of outcomes that tells a flaky target (it still succeeds) from a down one.', '1m'),
      cooldown: duration('Time open before a half-open trial.', '30s'),
      max_cooldown: duration('Cap of the cooldown, which doubles on each repeated trip.', '5m'),
    }),
    enrich: obj('Enrichment applied to every alert before routing.', {
      labels: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Static labels added where absent.' },
      severity_map: {
        type: 'object',
        additionalProperties: { type: 'string' },
        default: {},
        description: 'Severity normalisation (`P1: critical`), matched case-insensitively.',
      },
      links: {
        type: 'object',
        additionalProperties: { type: 'string' },
        default: {},
        description: 'Annotation name → Handlebars template (`{{labels.alertname}}`, `{{annotations.x}}`, `{{externalURL}}`, `{{urlquery x}}`).',
      },
      silence_link: { type: 'boolean', default: true, description: 'Add `silence_url`: Alertmanager\'s new-silence page for the alert.' },
    }),
    log: obj('Logging.', {
      level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'Log level (`LOG_LEVEL` overrides).' },
    }),
    targets_dir: {
      type: 'string',
      minLength: 1,
      description: 'Directory of extra targets: each *.yml, *.yaml or *.json file, or each sub-directory holding a `config` file (a mounted Secret), is one target.',
    },
    discovery: obj('Targets found at run time, in addition to `targets` and `targets_dir` (see docs/discovery.md).', {
      kubernetes: {
        type: 'object',
        additionalProperties: false,
        description: 'Targets from labelled Kubernetes Secrets through the API: list, watch, and a periodic full re-list.',
        properties: {
          namespaces: {
            type: 'array',
            items: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
            default: [],
            description: "Namespaces to watch (default: the pod's own namespace, or the kubeconfig context's).",
          },
          label_selector: { type: 'string', minLength: 1, default: 'alertmux.io/target=true', description: 'Label selector of the Secrets that define targets.' },
          interval: duration('Period of the full re-list that catches anything a watch missed.', '5m'),
          kubeconfig: { type: 'string', minLength: 1, description: 'kubeconfig file (relative to this file); default: the in-cluster service account.' },
        },
      },
    }),
    deadman: {
      type: 'object',
      additionalProperties: false,
      required: ['targets'],
      description:
        "Dead man's switch (off when absent): when no firing alert matching `match` (Alertmanager's Watchdog) has arrived on `POST /webhook` for `timeout`, page `targets` with one critical alert, and resolve it when the heartbeat returns (see docs/operations.md).",
      properties: {
        match: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          default: ['alertname="Watchdog"'],
          description: 'Matchers (the syntax of a target\'s `match`) on the labels of each alert as Alertmanager sent it; a firing alert matching all of them is a heartbeat.',
        },
        timeout: duration("Silence after the last heartbeat that pages (at least 1s). Keep it a few times the Watchdog route's `repeat_interval`.", '5m'),
        targets: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          minItems: 1,
          description: 'Names of configured targets (of `targets` or `targets_dir`) the page goes to, whatever their `match`.',
        },
      },
    },
    targets_dir_interval: duration('How often targets_dir is checked for changes (a change reloads the config); 0s turns it off.', '30s'),
    // Its items are the target kinds' schemas, which the loader is given (config names no kind).
    targets: { type: 'array', default: [], description: 'Delivery targets.' },
  },
} as const;
