import { resolve } from 'node:path';
import { KubeClient, type KubeConnection, type KubeFailure, type KubeSecret, type WatchEvent } from './client.js';
import { inClusterConnection, loadKubeconfig } from './kubeconfig.js';
import { mergeTargets } from './merge.js';
import { parseSecret, type DiscoveredSecret } from './secret.js';
import type { DiscoveryHooks, DiscoveryStatus, NamespaceStatus, TargetDiscovery } from './types.js';
import type { Config, KubernetesDiscoveryConfig } from '../config/types.js';
import type { Dispatcher } from 'undici';

/** A shorter re-list period would only load the API server. */
const MIN_INTERVAL_MS = 10_000;

/** Timer functions; injected so tests can check that none is left behind. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}
const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How to reach the API and what to watch. */
export interface KubernetesDiscoveryOptions {
  connection: KubeConnection;
  /** Namespaces to watch; empty means the connection's own namespace. */
  namespaces: readonly string[];
  labelSelector: string;
  /** Full re-list period (ms): catches anything a watch missed. */
  intervalMs: number;
  /** Reconnect backoff after a failure (doubles up to maxMs, with jitter). */
  backoff?: { initialMs: number; maxMs: number };
  /** undici dispatcher for the API (default: an Agent with the connection's TLS settings). */
  dispatcher?: Dispatcher;
  timers?: Timers;
  now?: () => number;
  random?: () => number;
}

interface Namespace extends NamespaceStatus {
  relist: boolean;
  attempt: number;
  /** 410s in a row without a watch event in between. */
  gone: number;
  watch?: AbortController;
  refresh?: unknown;
  firstSync: () => void;
}

/** Targets from labelled Secrets: list, then watch (re-list on 410, reconnect with backoff), plus a periodic full re-list. */
export class KubernetesDiscovery implements TargetDiscovery {
  private readonly client: KubeClient;
  private readonly timers: Timers;
  private readonly now: () => number;
  private readonly stopping = new AbortController();
  private readonly entries = new Map<string, DiscoveredSecret>();
  private readonly namespaces: Namespace[];
  private readonly logged = new Set<string>();
  private clashes = new Map<string, string>();
  private hooks?: DiscoveryHooks;
  private started = false;
  private loops: Promise<void>[] = [];
  private stopped?: Promise<void>;

  constructor(private readonly options: KubernetesDiscoveryOptions) {
    this.client = new KubeClient(options.connection, options.dispatcher);
    this.timers = options.timers ?? realTimers;
    this.now = options.now ?? Date.now;
    const names = options.namespaces.length ? options.namespaces : [options.connection.namespace ?? 'default'];
    this.namespaces = [...new Set(names)].map((namespace) => ({ namespace, state: 'starting', relist: true, attempt: 0, gone: 0, firstSync: () => undefined }));
  }

  async start(hooks: DiscoveryHooks): Promise<void> {
    this.hooks = hooks;
    const firsts = this.namespaces.map((ns) => new Promise<void>((done) => (ns.firstSync = done)));
    this.loops = this.namespaces.map((ns) => this.run(ns).finally(ns.firstSync));
    await Promise.all(firsts);
    this.started = true;
  }

  merge(config: Config): Config {
    const merged = mergeTargets(config, this.entries.values());
    this.clashes = merged.clashes;
    for (const [key, reason] of merged.clashes) this.logOnce(key, reason);
    const status = this.status();
    this.hooks?.metrics.discoveryTargets.set(status.targets);
    this.hooks?.metrics.discoveryInvalid.set(status.invalid);
    return merged.config;
  }

  status(): DiscoveryStatus {
    const secrets = [...this.entries.values()]
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map((e) => {
        const error = e.error ?? this.clashes.get(`${e.namespace}/${e.name}`);
        return { namespace: e.namespace, name: e.name, resourceVersion: e.resourceVersion, ok: !error, target: e.target?.name, error };
      });
    return {
      source: 'kubernetes',
      labelSelector: this.options.labelSelector,
      synced: this.namespaces.every((ns) => ns.lastSyncAt !== undefined),
      targets: secrets.filter((s) => s.ok).length,
      invalid: secrets.filter((s) => !s.ok).length,
      namespaces: this.namespaces.map(({ namespace, state, resourceVersion, lastSyncAt, lastError }) => ({ namespace, state, resourceVersion, lastSyncAt, lastError })),
      secrets,
    };
  }

  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.stopping.abort();
      for (const ns of this.namespaces) {
        if (ns.refresh !== undefined) this.timers.clear(ns.refresh);
        ns.watch?.abort();
      }
      await Promise.allSettled(this.loops);
      await this.client.close();
    })());
  }

  /** One namespace's loop: list when needed, then watch, until stopped. */
  private async run(ns: Namespace): Promise<void> {
    const stop = this.stopping.signal;
    const { labelSelector } = this.options;
    while (!stop.aborted) {
      if (ns.relist || ns.resourceVersion === undefined) {
        const listed = await this.client.list(ns.namespace, labelSelector, stop);
        if (stop.aborted) break;
        if (!listed.ok) {
          this.fail(ns, listed);
          ns.firstSync();
          await this.sleep(this.backoff(ns.attempt++));
          continue;
        }
        this.synced(ns, listed.resourceVersion, listed.items);
      }
      const watch = (ns.watch = new AbortController());
      const watched = await this.client.watch(ns.namespace, labelSelector, ns.resourceVersion!, AbortSignal.any([stop, watch.signal]), (e) => this.onEvent(ns, e));
      ns.watch = undefined;
      if (stop.aborted) break;
      if (watched.ok) {
        // The server ended the watch (timeoutSeconds) or the refresh timer did: go on at once, unless it ends empty-handed every time.
        if (watched.events > 0 || watch.signal.aborted) ns.attempt = 0;
        else await this.sleep(this.backoff(ns.attempt++));
      } else if (watched.reason === 'gone') {
        this.hooks?.metrics.discoveryErrors.inc({ reason: 'gone' });
        this.hooks?.logger.debug('watch resourceVersion expired; listing again', { namespace: ns.namespace });
        ns.relist = true;
        // The first 410 re-lists at once; one right after a fresh list backs off instead of looping.
        if (ns.gone++ > 0) await this.sleep(this.backoff(ns.gone - 2));
      } else {
        this.fail(ns, watched);
        await this.sleep(this.backoff(ns.attempt++));
      }
    }
  }

  private synced(ns: Namespace, resourceVersion: string, items: KubeSecret[]): void {
    if (ns.state === 'failing') this.hooks?.logger.info('kubernetes discovery recovered', { namespace: ns.namespace });
    Object.assign(ns, { relist: false, attempt: 0, resourceVersion, state: 'watching', lastSyncAt: new Date(this.now()).toISOString() });
    this.hooks?.metrics.discoverySyncTime.set({ namespace: ns.namespace }, this.now() / 1000);
    if (ns.refresh !== undefined) this.timers.clear(ns.refresh);
    ns.refresh = this.timers.set(() => {
      ns.refresh = undefined;
      ns.relist = true;
      ns.watch?.abort();
    }, this.options.intervalMs);

    const seen = new Set<string>();
    let changed = false;
    for (const item of items) {
      seen.add(`${item.metadata.namespace ?? ns.namespace}/${item.metadata.name}`);
      changed = this.upsert(item, ns.namespace) || changed;
    }
    for (const [key, e] of this.entries) {
      if (e.namespace === ns.namespace && !seen.has(key)) changed = this.entries.delete(key) || changed;
    }
    ns.firstSync();
    if (changed) this.changed();
  }

  private onEvent(ns: Namespace, event: WatchEvent): void {
    ns.gone = 0;
    const meta = event.object.metadata;
    if (meta.resourceVersion) ns.resourceVersion = meta.resourceVersion;
    if (event.type === 'BOOKMARK') return;
    const changed = event.type === 'DELETED' ? this.entries.delete(`${meta.namespace ?? ns.namespace}/${meta.name}`) : this.upsert(event.object, ns.namespace);
    if (changed) this.changed();
  }

  /** Parse and store a Secret unless this version is already known; true when something changed. */
  private upsert(secret: KubeSecret, namespace: string): boolean {
    const key = `${secret.metadata.namespace ?? namespace}/${secret.metadata.name}`;
    const old = this.entries.get(key);
    if (old && old.resourceVersion === (secret.metadata.resourceVersion ?? '') && old.resourceVersion !== '') return false;
    const entry = parseSecret(secret, namespace);
    this.entries.set(key, entry);
    if (entry.error) this.logOnce(key, entry.error);
    return true;
  }

  private changed(): void {
    if (this.started && !this.stopping.signal.aborted) this.hooks?.onChange();
  }

  private fail(ns: Namespace, failure: KubeFailure): void {
    this.hooks?.metrics.discoveryErrors.inc({ reason: failure.reason });
    const repeated = ns.state === 'failing' && ns.lastError?.reason === failure.reason;
    ns.state = 'failing';
    ns.lastError = { reason: failure.reason, message: failure.message, at: new Date(this.now()).toISOString() };
    const fields = { namespace: ns.namespace, reason: failure.reason, error: failure.message };
    if (repeated) this.hooks?.logger.debug('kubernetes discovery failed again', fields);
    else this.hooks?.logger.warn('kubernetes discovery failed; retrying with backoff', fields);
  }

  /** Log a Secret's problem once per version and problem. */
  private logOnce(key: string, error: string): void {
    const id = `${key}@${this.entries.get(key)?.resourceVersion ?? ''}:${error}`;
    if (this.logged.has(id)) return;
    if (this.logged.size >= 10_000) this.logged.clear(); // bounded: at worst a problem is logged again
    this.logged.add(id);
    this.hooks?.logger.warn('discovered Secret skipped', { secret: key, error });
  }

  private backoff(attempt: number): number {
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    return Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20)) * (0.5 + (this.options.random ?? Math.random)() / 2);
  }

  /** Wait `ms`, or less when stopped. */
  private sleep(ms: number): Promise<void> {
    const stop = this.stopping.signal;
    return new Promise((done) => {
      if (stop.aborted) return done();
      const wake = () => {
        this.timers.clear(handle);
        stop.removeEventListener('abort', wake);
        done();
      };
      const handle = this.timers.set(wake, ms);
      stop.addEventListener('abort', wake, { once: true });
    });
  }
}

/**
 * The discovery described by `discovery.kubernetes`: a kubeconfig (relative to
 * `baseDir`) when one is named, otherwise the in-cluster service account. `env` is
 * process.env, passed in by main.ts. Throws KubeconfigError when neither can be used.
 */
export function createKubernetesDiscovery(settings: KubernetesDiscoveryConfig, env: Record<string, string | undefined>, baseDir: string): KubernetesDiscovery {
  const connection = settings.kubeconfig ? loadKubeconfig(resolve(baseDir, settings.kubeconfig)) : inClusterConnection(env);
  return new KubernetesDiscovery({ connection, namespaces: settings.namespaces, labelSelector: settings.label_selector, intervalMs: Math.max(settings.interval, MIN_INTERVAL_MS) });
}
