import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import type { Registry } from 'prom-client';
import type { Dispatcher as HttpDispatcher } from 'undici';
import { createBulkRouter } from './api/bulk.js';
import { createConfigRouter, type ReloadStatus } from './api/config.js';
import { createControlRouter } from './api/control.js';
import { createDeadmanRouter } from './api/deadman.js';
import { ConfigStatus, createConfigStatusRouter } from './api/config-status.js';
import { createDeliveriesRouter } from './api/deliveries.js';
import { createNotificationsRouter } from './api/notifications.js';
import { createOverviewRouter } from './api/overview.js';
import { TargetStatuses } from './dispatch/target-status.js';
import { createDiscoveryRouter } from './api/discovery.js';
import { methodNotAllowed } from './api/input.js';
import { createPublishRouter } from './api/publish.js';
import { DispatchStats } from './api/stats.js';
import { createTargetsRouter } from './api/targets.js';
import { createUiRouter } from './api/ui.js';
import { ledgerDeadmanState } from './deadman/state.js';
import { deadmanSettings, DeadmanSwitch, type DeadmanTimers } from './deadman/switch.js';
import { openLedger } from './delivery/open.js';
import { PROBE_KEY } from './delivery/ledger-recovery.js';
import { RetryWorker } from './delivery/worker.js';
import { Dispatcher, type DispatchOptions } from './dispatch/dispatcher.js';
import { buildRuntime, type Runtime, type RuntimeHooks } from './dispatch/runtime.js';
import { SharedBreakers } from './dispatch/shared-breakers.js';
import { syncTargetSeries } from './dispatch/series.js';
import { startProbes } from './health/probe.js';
import { ConfigError } from './config/problems.js';
import { storageOptions } from './config/storage.js';
import { restartOnlyChanges } from './config/restart-only.js';
import { watchDir } from './config/watch.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { renderMetrics, ScrapeErrors } from './observability/scrape.js';
import { requireAuth } from './receiver/auth.js';
import { createWebhookHandler, webhookFirst, WEBHOOK_ROUTE, type Handler } from './receiver/webhook.js';
import type { WebhookMessage } from './alerts/types.js';
import type { Config } from './config/types.js';
import type { ExclusiveJob, Ledger, LedgerEvents } from './delivery/ledger.js';
import type { TargetDiscovery } from './discovery/types.js';
import type { Logger } from './observability/logger.js';
import type { PublisherDeps, TargetState } from './publishers/publisher.js';

/** Everything the app needs from outside. main.ts builds the real ones; tests build their own. */
export interface AppDeps {
  /**
   * Loads and validates the config; called at start and on every reload (with the file config in effect, whose
   * target versions a broken targets_dir file keeps). Throws ConfigError when the main config is invalid.
   */
  loadConfig: (previous?: Config) => Config | Promise<Config>;
  logger: Logger;
  /** Own prom-client Registry (never the global one). */
  registry: Registry;
  /** undici dispatcher for every outbound request (an Agent with keep-alive; MockAgent in tests). */
  http: HttpDispatcher;
  userAgent?: string;
  now?: () => number;
  random?: () => number;
  /**
   * Opens the ledger (throws when it cannot: the start fails fast); defaults to SQLite at `storage.path`.
   * `events`: what the ledger reports besides answers (lease takeovers and losses, database reachability).
   */
  openLedger?: (config: Config, replica: string, events: LedgerEvents) => Ledger | Promise<Ledger>;
  /** This process's name in the attempt history and `alertmux_replica_info` (main.ts: src/observability/replica.ts). Default: the config's `replica`, else the host name. */
  replica?: string;
  /** Targets found at run time (Kubernetes Secrets), merged into every loaded config; started here, stopped by close(). */
  discovery?: TargetDiscovery;
  /** The built console served at /ui/; defaults to `dist/ui/` beside the compiled app (written by `npm run build`). */
  uiDir?: string;
  /** Timers of the dead man's switch (default: unref'd setTimeout). */
  timers?: DeadmanTimers;
}

/** The running app: the request handler to serve, the Express app behind it, and their lifecycle. */
export interface App {
  /** What to serve: POST /webhook on bare node:http, everything else through `app`. */
  handler: Handler;
  app: Express;
  /** Load, validate and build a new config; swap only if all of it worked. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Stop accepting (503), let in-flight attempts finish within `graceMs`, leave the rest pending, release everything. */
  close(graceMs?: number): Promise<void>;
  dispatch(msg: WebhookMessage, options?: DispatchOptions): ReturnType<Dispatcher['dispatch']>;
  runtime(): Runtime;
  dispatcher: Dispatcher;
  worker: RetryWorker;
  store: Ledger;
  metrics: Metrics;
  deadman: DeadmanSwitch;
}

/** Build the app: the composition root. No globals; everything comes from `deps`. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const now = deps.now ?? Date.now;
  const userAgent = deps.userAgent ?? 'alertmux';
  const metrics = createMetrics(deps.registry);
  const initial = await deps.loadConfig();
  // Discovered targets join every loaded config; a discovery change swaps like a reload of the last good file config.
  let fileConfig = initial;
  const withDiscovered = (config: Config) => deps.discovery?.merge(config) ?? config;
  // The ledger first: a start that cannot open it fails before anything runs in the background.
  const replica = deps.replica ?? initial.replica ?? hostname();
  metrics.replicaInfo.set({ replica }, 1);
  const ledgerLog = deps.logger.child({ component: 'ledger' });
  /** Whether the ledger's database answers (a shared ledger reports it; SQLite is always up while open). */
  let databaseUp = true;
  const events: LedgerEvents = {
    takeover: (count, from) => {
      metrics.leaseTakeovers.inc(count);
      ledgerLog.info('took over deliveries whose lease another replica let expire', { count, from });
    },
    // Counted from the write results (alertmux_ledger_leases_lost_total, with a warning per batch): only noted here.
    leaseLost: (ids) => ledgerLog.debug('leases lost to another replica', { count: ids.length }),
    reachable: (up) => {
      databaseUp = up;
      metrics.databaseUp.set(up ? 1 : 0);
      if (up) ledgerLog.info('the ledger database answers again');
      else ledgerLog.error('the ledger database does not answer');
    },
  };
  const store = await (deps.openLedger ?? ((config: Config) => openLedger(storageOptions(config.storage), replica, events)))(initial, replica, events);
  metrics.databaseUp.set(1);
  /**
   * Whether this replica runs `job` now (one replica at a time on a shared ledger), shown per job as a gauge: a
   * job's series appears once this replica competes for it (no `deadman` series without a `deadman` config).
   */
  const exclusive = async (job: ExclusiveJob): Promise<boolean> => {
    const mine = await store.exclusive(job);
    metrics.exclusiveJobs.set({ task: job }, mine ? 1 : 0);
    return mine;
  };
  const statuses = new TargetStatuses(store, now);
  try {
    // The paused flags of the configured targets, read before any of them is built.
    await statuses.load(withDiscovered(initial).targets.map((t) => t.name));
    await deps.discovery?.start({ metrics, logger: deps.logger.child({ component: 'discovery' }), onChange: () => void reload(fileConfig) });
  } catch (err) {
    await store.close();
    throw err;
  }

  const targetState = (target: string): TargetState => ({
    get: async <T>(key: string) => {
      const value = await store.stateGet(`${target}\u0000${key}`, now());
      return value === undefined ? undefined : (JSON.parse(value) as T);
    },
    set: (key, value, ttlMs) => store.stateSet(`${target}\u0000${key}`, JSON.stringify(value), now() + ttlMs),
    delete: (key) => store.stateDelete(`${target}\u0000${key}`),
  });
  // Several replicas: a target one found down waits on all of them (an open breaker recorded in the ledger).
  const sharedBreakers = store.driver === 'sqlite' ? undefined : new SharedBreakers({ store, replica: store.replica, now, logger: deps.logger });
  // Paused or not and recent transitions, by target name (`statuses`, above): kept across reloads, the paused flag in the ledger.
  const hooks: RuntimeHooks = {
    breakers: sharedBreakers,
    metrics,
    logger: deps.logger,
    now,
    status: (target) => statuses.of(target),
    onRecovered: (target) => {
      // A paused target's queue waits for its resume, not for its recovery.
      if (statuses.of(target).paused) return;
      // Skips still queued in the writer must land first, or they would overwrite the wake with their later due time.
      void dispatcher
        .flush()
        .catch(() => undefined)
        .then(async () => {
          if ((await store.wake(target, now())) > 0) worker.wake();
        })
        .catch((err: unknown) => deps.logger.error('waking the deliveries of a recovered target failed', { target, error: String(err) }));
    },
    publisherDeps: (target): PublisherDeps => ({
      http: deps.http,
      userAgent,
      logger: deps.logger.child({ target }),
      state: targetState(target),
      now,
    }),
  };

  let runtime = buildRuntime(withDiscovered(initial), hooks);
  const configStatus = new ConfigStatus({ metrics, logger: deps.logger, now, redact: (s) => runtime.redact(s) });
  configStatus.loaded(initial);
  let stopProbes = startProbes(runtime.targets.values(), deps.http, userAgent);
  let stopWatch = () => {};
  /** Reload when a file under targets_dir changes (a target added, changed or removed). */
  const watchTargets = (config: Config) => {
    stopWatch();
    stopWatch = () => {};
    if (!config.targets_dir || config.targets_dir_interval <= 0) return;
    const dir = config.targets_dir;
    stopWatch = watchDir(dir, config.targets_dir_interval, () => {
      deps.logger.info('targets_dir changed; reloading', { dir });
      void reload();
    });
  };
  watchTargets(initial);
  let accepting = true;
  const current = () => runtime;
  let seriesOf: Config['targets'] = [];
  const setTargetGauges = (config: Config) => {
    metrics.targets.reset();
    for (const t of config.targets) metrics.targets.inc({ type: t.type, enabled: String(t.enabled) });
    syncTargetSeries(metrics, config.targets, seriesOf);
    for (const t of config.targets) metrics.targetPaused.set({ target: t.name }, statuses.of(t.name).paused ? 1 : 0);
    seriesOf = config.targets;
  };
  setTargetGauges(runtime.config);
  metrics.configReloadSuccess.set(1);
  metrics.configReloadTime.set(now() / 1000);
  /** The last load (the start or a reload) as the overview and GET /api/v1/config show it, from the config status. */
  const reloadStatus = (): ReloadStatus => {
    const { ok, at, error, problems = [] } = configStatus.status().lastLoad;
    return { lastReloadAt: at, lastReloadSuccess: ok, ...(ok ? {} : { lastReloadError: [error, ...problems].filter(Boolean).join('\n'), problems }) };
  };

  const dispatcher = new Dispatcher({
    store,
    metrics,
    logger: deps.logger,
    runtime: current,
    now,
    random: deps.random ?? Math.random,
  });
  const worker = new RetryWorker({ store, exclusive, dispatcher, runtime: current, metrics, logger: deps.logger, now });
  worker.start();
  // Another replica made work claimable (a shared ledger): look now rather than at the next poll.
  const stopWork = store.onWork(() => worker.wake());
  // A pause or resume made on another replica (a shared ledger), and a breaker another replica opened or closed,
  // are followed within PAUSE_SYNC_MS.
  const pauseSync =
    store.driver === 'sqlite'
      ? undefined
      : setInterval(() => {
          statuses.refresh().then(
            (changed) => {
              for (const target of changed) deps.logger.info('followed a pause change made on another replica', { target, paused: statuses.of(target).paused });
              if (changed.length) worker.wake();
            },
            (err: unknown) => deps.logger.warn('could not read the paused flags from the ledger', { error: String(err) }),
          );
          sharedBreakers?.refresh(runtime.targets).then(
            (trials) => {
              for (const target of trials) hooks.onRecovered(target);
            },
            (err: unknown) => deps.logger.warn('could not read the open circuit breakers of the other replicas from the ledger', { error: String(err) }),
          );
        }, PAUSE_SYNC_MS).unref();

  const stats = new DispatchStats(5 * 60_000, now);
  const scrapeErrors = new ScrapeErrors(deps.logger, now);
  const dispatch = async (msg: WebhookMessage, options: DispatchOptions = {}) => {
    const result = await dispatcher.dispatch(msg, options);
    stats.record(result);
    // Retries of this notification are due later; make sure the worker's next wake-up accounts for them.
    if (result.outcome !== 'delivered') worker.wake();
    return result;
  };

  // The dead man's switch pages its targets through the same durable path as any notification.
  const deadman = new DeadmanSwitch({
    now,
    timers: deps.timers ?? { set: (fn, ms) => setTimeout(fn, ms).unref(), clear: (t) => clearTimeout(t as NodeJS.Timeout) },
    send: async (msg, targets) => {
      const known = targets.filter((t) => runtime.targets.has(t));
      if (!known.length) return undefined;
      const result = await dispatch(msg, { targets: known, ignoreMatchers: true });
      return { notificationId: result.id, outcome: result.outcome };
    },
    state: ledgerDeadmanState(store, now),
    exclusive: () => exclusive('deadman'),
    metrics: { lastHeartbeat: metrics.deadmanLastHeartbeat, firing: metrics.deadmanFiring },
    logger: deps.logger.child({ component: 'deadman' }),
  });
  void deadman.configure(deadmanSettings(runtime.config.deadman));

  /** Reload from the file, or swap in `loaded` (the file config already loaded) with the current discovered targets. */
  async function reload(loaded?: Config): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      const fromFile = loaded ?? (await deps.loadConfig(fileConfig));
      const config = withDiscovered(fromFile);
      await statuses.load(config.targets.map((t) => t.name));
      const next = buildRuntime(config, hooks, runtime);
      const nextDeadman = deadmanSettings(config.deadman);
      const restartOnly = restartOnlyChanges(runtime.config, config);
      if (restartOnly.length) {
        deps.logger.warn(`config reload changes ${restartOnly.join(', ')}, which take effect only after a restart; the running values stay until then`, {
          settings: restartOnly,
        });
      }
      const replaced = [...runtime.targets.values()].filter((t) => next.targets.get(t.config.name) !== t);
      const changes = targetChanges(runtime, next);
      stopProbes();
      runtime = next;
      const watchChanged = fromFile.targets_dir !== fileConfig.targets_dir || fromFile.targets_dir_interval !== fileConfig.targets_dir_interval;
      fileConfig = fromFile;
      if (watchChanged) watchTargets(fromFile);
      stopProbes = startProbes(runtime.targets.values(), deps.http, userAgent);
      dispatcher.resize(config.dispatch.max_concurrency);
      await Promise.allSettled(replaced.map((t) => t.publisher.close?.()));
      setTargetGauges(config);
      metrics.configReloadSuccess.set(1);
      metrics.configReloadTime.set(now() / 1000);
      if (!loaded) configStatus.loaded(fromFile, restartOnly.length ? [`changed settings that take effect only after a restart: ${restartOnly.join(', ')}`] : []);
      deps.logger.info('config reloaded', { targets: config.targets.length, ...changes });
      worker.wake();
      void deadman.configure(nextDeadman);
      return { ok: true };
    } catch (err) {
      metrics.configReloadSuccess.set(0);
      const error = runtime.redact(err instanceof Error ? err.message : String(err));
      // Every problem at once, one per entry (the error text has them too, for POST /-/reload's answer).
      const problems = err instanceof ConfigError ? err.details.map((d) => runtime.redact(d)) : [];
      deps.logger.error('config reload failed; keeping the previous config', { error: error.split('\n')[0], ...(problems.length ? { problems } : {}) });
      configStatus.failed(error.split('\n')[0] ?? error, problems);
      return { ok: false, error };
    }
  }

  const webhook = createWebhookHandler({
    config: () => runtime.config,
    metrics,
    accepting: () => accepting,
    // Every accepted webhook is looked at for the Watchdog's heartbeat, then dispatched as usual.
    dispatch: (msg, options) => {
      deadman.observe(msg);
      return dispatch(msg, options);
    },
    logger: deps.logger.child({ component: 'webhook' }),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // What `handler` leaves to Express (`/webhook/`, `/WEBHOOK`, OPTIONS) is answered as before, by the same handler.
  app.use(express.Router().post(WEBHOOK_ROUTE.path, webhook));
  app.get('/metrics', async (_req, res) => {
    // Outcomes still queued for the ledger (they wait up to 50 ms for an accept) are written first.
    await dispatcher.flush();
    // A ledger that cannot be read leaves its gauges out of the scrape; everything else is still answered.
    metrics.ledgerWritable.set(dispatcher.ledger.health.ok ? 1 : 0);
    metrics.unwrittenOutcomes.set(dispatcher.ledger.unwritten.size);
    let skip: ReadonlySet<string> = new Set([QUEUE_DEPTH, OLDEST_PENDING]);
    try {
      // One replica exports what is read from the shared ledger; the others leave it out (no double count in a sum()).
      if (await exclusive('queue-gauges')) {
        await updateQueueGauges(store, metrics, now());
        skip = new Set();
      }
    } catch (err) {
      skip = new Set([QUEUE_DEPTH, OLDEST_PENDING]);
      scrapeErrors.log('ledger', err);
    }
    res.setHeader('Content-Type', deps.registry.contentType);
    res.end(await renderMetrics(deps.registry, skip, (name, err) => scrapeErrors.log(name, err)));
  });
  app.get('/-/healthy', (_req, res) => void res.type('text/plain').send('OK'));
  app.get('/-/ready', async (_req, res) => {
    // A database found unreachable is asked again here (one small read), so readiness follows it back up without
    // waiting for the next write or poll; while it does not answer, webhooks would get 503: not ready.
    if (!databaseUp) await store.stateGet(PROBE_KEY, now()).catch(() => undefined);
    const { health } = dispatcher.ledger;
    if (!accepting) res.status(503).type('text/plain').send('shutting down');
    else if (!databaseUp) res.status(503).type('text/plain').send('not ready: the ledger database does not answer');
    // Kubernetes stops routing webhooks here while the ledger cannot take responsibility for them.
    else if (!health.ok) res.status(503).type('text/plain').send(`not ready: ${health.reason ?? 'the ledger cannot commit'}`);
    else res.type('text/plain').send('OK');
  });

  const admin = requireAuth(() => runtime.config.admin);
  app.post('/-/reload', admin, async (_req, res) => {
    const result = await reload();
    if (result.ok) res.type('text/plain').send('OK');
    else res.status(500).type('text/plain').send(`failed to reload config: ${result.error}`);
  });
  // Before the admin check: the console's session route must answer without a token (it says one is needed).
  app.use(createUiRouter({ dir: deps.uiDir ?? fileURLToPath(new URL('./ui/', import.meta.url)), admin: () => runtime.config.admin }));
  app.use('/api', admin);
  app.use(createDiscoveryRouter({ discovery: deps.discovery }));
  app.use(createConfigStatusRouter(configStatus));
  app.use(createDeadmanRouter({ status: () => deadman.status() }));
  const trial = { runtime: current, busy: worker.reserved, attemptNow: worker.attemptNow.bind(worker) };
  const flush = () => dispatcher.flush();
  app.use(
    createDeliveriesRouter({
      store,
      metrics,
      now,
      onReplay: () => worker.wake(),
      flush,
      logger: deps.logger.child({ component: 'api' }),
      trial,
      targetMessage: (original, enriched, alerts) => dispatcher.targetMessage(original, enriched, alerts),
    }),
  );
  app.use(
    createTargetsRouter({
      runtime: current,
      http: deps.http,
      userAgent,
      store,
      flush,
      trial,
      logger: deps.logger.child({ component: 'api' }),
      onTry: () => worker.wake(),
    }),
  );
  app.use(createNotificationsRouter({ store, now, flush }));
  app.use(createBulkRouter({ store, now, flush, logger: deps.logger.child({ component: 'api' }) }));
  app.use(
    createControlRouter({
      runtime: current,
      statuses,
      store,
      metrics,
      now,
      flush,
      logger: deps.logger.child({ component: 'api' }),
      onRelease: () => worker.wake(),
    }),
  );
  const deadmanStatus = () => {
    const status = deadman.status();
    return status.enabled ? status : undefined;
  };
  app.use(createOverviewRouter({ runtime: current, store, now, flush, reloadStatus, deadman: deadmanStatus }));
  app.use(createConfigRouter({ runtime: current, reloadStatus }));
  app.use(createPublishRouter({ config: () => runtime.config, accepting: () => accepting, stats, dispatch }));
  app.use(methodNotAllowed({ '/-/reload': 'POST', '/metrics': 'GET, HEAD', '/-/healthy': 'GET, HEAD', '/-/ready': 'GET, HEAD' }));
  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') res.status(413).json({ error: 'payload too large' });
    else if (e.status && e.status >= 400 && e.status < 500) res.status(e.status).json({ error: e.message ?? 'bad request' });
    else {
      deps.logger.error('request failed', { error: runtime.redact(String(err)) });
      res.status(500).json({ error: 'internal error' });
    }
  });

  let closed: Promise<void> | undefined;
  return {
    handler: webhookFirst(webhook, app),
    app,
    reload,
    close: (graceMs = 10_000) =>
      (closed ??= (async () => {
        accepting = false;
        await deps.discovery?.stop();
        await deadman.stop();
        worker.stop();
        stopWork();
        clearInterval(pauseSync);
        stopProbes();
        stopWatch();
        await dispatcher.close(graceMs);
        await Promise.allSettled([...runtime.targets.values()].map((t) => t.publisher.close?.()));
        await store.close();
        metrics.databaseUp.set(0);
      })()),
    dispatch,
    runtime: current,
    dispatcher,
    worker,
    store,
    metrics,
    deadman,
  };
}

/** Which targets a reload added, changed (rebuilt: its health and breaker start fresh) and removed, by name. */
export function targetChanges(before: Runtime, after: Runtime): { added: string[]; changed: string[]; removed: string[] } {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [name, t] of after.targets) {
    const old = before.targets.get(name);
    if (!old) added.push(name);
    else if (old !== t) changed.push(name);
  }
  const removed = [...before.targets.keys()].filter((name) => !after.targets.has(name));
  return { added, changed, removed };
}

/** How often a replica on a shared ledger reads the paused flags again (a pause made on another replica). */
export const PAUSE_SYNC_MS = 5000;
const QUEUE_DEPTH = 'alertmux_delivery_queue_depth';
const OLDEST_PENDING = 'alertmux_delivery_oldest_pending_age_seconds';

/** Queue depth by state and priority and the oldest pending age, read from the ledger at scrape time. */
async function updateQueueGauges(store: Ledger, metrics: Metrics, now: number): Promise<void> {
  const stats = await store.stats();
  metrics.queueDepth.reset();
  for (const state of ['pending', 'dead']) for (const p of [0, 1, 2, 3]) metrics.queueDepth.set({ state, priority: String(p) }, 0);
  for (const row of stats.byStateAndPriority) metrics.queueDepth.set({ state: row.state, priority: String(row.priority) }, row.count);
  metrics.oldestPending.set(stats.oldestPendingAt === undefined ? 0 : Math.max(0, (now - stats.oldestPendingAt) / 1000));
}
