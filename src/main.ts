import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { Agent } from 'undici';
import { buildApp } from './app.js';
import { loadConfigFile } from './config/load.js';
import { disablePretenuring, heapGrowingPercent, limitHeapGrowth, pretenuringOff } from './heap.js';
import { createKubernetesDiscovery } from './discovery/kubernetes.js';
import { LedgerOpenError } from './delivery/open-error.js';
import { createLogger, type Logger } from './observability/logger.js';

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
  const load = () => loadConfigFile(options.configPath, { env });
  const first = load();
  const logger = createLogger(env['LOG_LEVEL'] ?? first.log.level);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One keep-alive pool per origin, shared by every target: measured far cheaper per request than axios or fetch.
  const http = new Agent({ keepAliveTimeout: 30_000, connections: 128 });

  let loaded = false;
  const mux = await startApp(logger, {
    loadConfig: () => (loaded ? load() : ((loaded = true), first)),
    logger,
    registry,
    http,
    userAgent: `alertmux/${options.version}`,
    // Bench-only (npm run bench): attempt targets one after another, the reference parallel dispatch is measured against.
    sequential: env['ALERTMUX_BENCH_SEQUENTIAL'] === '1',
    // Targets from labelled Secrets; its settings take effect at start (a reload does not restart it).
    discovery: first.discovery?.kubernetes && createKubernetesDiscovery(first.discovery.kubernetes, env, dirname(resolve(options.configPath))),
  });
  const listen = options.listen ?? mux.runtime().config.listen;
  const { host, port } = splitHostPort(listen);
  const server = createServer(mux.handler).listen({ port, host });
  server.keepAliveTimeout = 65_000;
  await once(server, 'listening');
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

/** A start failure already logged as one JSON line: the command line exits 1 without printing it again. */
export class StartFailure extends Error {
  override name = 'StartFailure';
  readonly logged = true;
}

/** buildApp, with a ledger that cannot be opened logged as one line that says what to do. */
async function startApp(logger: Logger, deps: Parameters<typeof buildApp>[0]): ReturnType<typeof buildApp> {
  try {
    return await buildApp(deps);
  } catch (err) {
    if (!(err instanceof LedgerOpenError)) throw err;
    logger.error('cannot open the ledger; not starting', { path: err.path, code: err.code, error: err.message, action: err.action });
    throw new StartFailure(err.message);
  }
}

/** `127.0.0.1:9095`, `:9095`, `[::1]:9095` → host and port. */
export function splitHostPort(listen: string): { host: string | undefined; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || undefined, port: Number(listen.slice(i + 1)) };
}
