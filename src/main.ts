import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { Agent } from 'undici';
import { buildApp, type App } from './app.js';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/types.js';
import { createHttpServer } from './http-server.js';
import { targetKinds } from './publishers/registry.js';
import { disablePretenuring, heapGrowingPercent, limitHeapGrowth, pretenuringOff } from './heap.js';
import { createKubernetesDiscovery } from './discovery/kubernetes.js';
import { LedgerOpenError } from './delivery/open-error.js';
import { createLogger, type Logger } from './observability/logger.js';
import { replicaName } from './observability/replica.js';
import { collectProcessMetrics } from './observability/process-metrics.js';
import type { Handler } from './receiver/webhook.js';

/** How the service is started (from the command line). */
export interface RunOptions {
  configPath: string;
  /** HOST:PORT overriding the config's `listen`. */
  listen?: string;
  version: string;
}

/**
 * Start alertmux: the only place that reads process.env, listens on a port and
 * handles signals (SIGHUP reloads; SIGTERM and SIGINT drain and exit).
 */
export async function runServer(options: RunOptions): Promise<void> {
  const env = process.env;
  // Before anything allocates much: keep the heap near what is live (src/heap.ts).
  const growing = heapGrowingPercent(env, process.execArgv);
  if (growing !== undefined) limitHeapGrowth(growing);
  if (pretenuringOff(process.execArgv)) disablePretenuring();
  // A reload passes the config in effect: a broken targets_dir file keeps its target's version from it.
  const load = (previous?: Config) => loadConfigFile(options.configPath, { env, kinds: targetKinds }, previous);
  const first = load();
  // Named in every log line, the attempt history and alertmux_replica_info: replicas are told apart.
  const replica = replicaName(first.replica, env);
  const logger = createLogger(env['LOG_LEVEL'] ?? first.log.level, { replica });
  const registry = new Registry();
  collectProcessMetrics(registry);
  // One keep-alive pool per origin, shared by every target: measured far cheaper per request than axios or fetch.
  const http = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

  // The port first: a second instance (or a taken port) must exit before it opens the ledger or sends anything.
  // Until the app is built, /-/healthy is OK and everything else 503 (Alertmanager retries).
  const listen = options.listen ?? first.listen;
  let handler: Handler = starting;
  // Connection limits and timeouts take effect at start (a reload keeps the server).
  const server = createHttpServer((req, res) => handler(req, res), first.limits, logger.child({ component: 'http' }));
  await listenOrFail(server, listen, logger);

  let loaded = false;
  let mux: App;
  try {
    mux = await buildApp({
      loadConfig: (previous) => (loaded ? load(previous) : ((loaded = true), first)),
      logger,
      registry,
      http,
      userAgent: `alertmux/${options.version}`,
      replica,
      // Targets from labelled Secrets; its settings take effect at start (a reload does not restart it).
      discovery: first.discovery?.kubernetes && createKubernetesDiscovery(first.discovery.kubernetes, env, dirname(resolve(options.configPath))),
    });
  } catch (err) {
    server.close();
    await http.close();
    if (err instanceof LedgerOpenError) {
      // One line that says what to do; the command line exits 1 without printing it again.
      logger.error('cannot open the ledger; not starting', { path: err.path, code: err.code, error: err.message, action: err.action });
      throw new StartFailure(err.message);
    }
    logger.error('alertmux cannot start', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
  handler = mux.handler;
  const address = server.address() as AddressInfo;
  logger.info('alertmux listening', {
    version: options.version,
    address: `${address.address}:${address.port}`,
    config: options.configPath,
    targets: mux.runtime().config.targets.map((t) => `${t.name} (${t.type})`),
  });

  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading config');
    void mux.reload();
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down: draining in-flight requests', { signal });
    // New webhooks get 503 (Alertmanager retries) while attempts in flight finish within the grace period;
    // what does not finish stays pending in the ledger for the next start.
    await mux.close(Number(env['ALERTMUX_SHUTDOWN_GRACE_MS'] ?? 10_000));
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeIdleConnections();
    });
    await http.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** The answer while the app is being built. */
const starting: Handler = (req, res) => {
  const healthy = req.url === '/-/healthy' && (req.method === 'GET' || req.method === 'HEAD');
  res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain', ...(healthy ? {} : { 'retry-after': '1' }) }).end(healthy ? 'OK' : 'starting');
};

/** Bind `listen`, or throw a message that says which address and why (logged too: the process then exits 1). */
async function listenOrFail(server: Server, listen: string, logger: Logger): Promise<void> {
  const { host, port } = splitHostPort(listen);
  let problem: string | undefined;
  if (!/:\d{1,5}$/.test(listen) || port > 65535) problem = 'not HOST:PORT with a port from 0 to 65535';
  else {
    try {
      server.listen({ port, host });
      await once(server, 'listening');
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      problem = `${LISTEN_ERRORS[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`;
    }
  }
  logger.error('alertmux cannot listen', { listen, error: problem });
  throw new Error(`cannot listen on ${listen}: ${problem}`);
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another alertmux, or another program on that port)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface has that address',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
};

/** A start failure already logged as one JSON line: the command line exits 1 without printing it again. */
export class StartFailure extends Error {
  override name = 'StartFailure';
  readonly logged = true;
}

/** `127.0.0.1:9095`, `:9095`, `[::1]:9095` → host and port. */
export function splitHostPort(listen: string): { host: string | undefined; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || undefined, port: Number(listen.slice(i + 1)) };
}
