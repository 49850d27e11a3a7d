import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { buildApp, type App, type AppDeps } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { nopLogger } from '../../src/observability/logger.js';
import { targetKinds } from '../../src/publishers/registry.js';

/** What a loopback target answers: a status (and body), after an optional delay; or `hang` (never answers). */
export type Reply = { status: number; body?: string; delayMs?: number; headers?: Record<string, string> } | 'hang';

/** A real HTTP server on 127.0.0.1 that records what it receives and answers as told. */
export interface LoopbackTarget {
  url: string;
  port: number;
  received: Array<{ path: string; headers: IncomingHttpHeaders; body: unknown }>;
  reply: (req: { path: string; body: unknown }) => Reply;
  close(): Promise<void>;
}

/** Start a loopback target on `port` (0: any free one). */
export async function loopbackTarget(reply: LoopbackTarget['reply'] = () => ({ status: 200 }), port = 0): Promise<LoopbackTarget> {
  const target: LoopbackTarget = {
    url: '',
    port: 0,
    received: [],
    reply,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const path = req.url ?? '/';
      const answer = target.reply({ path, body });
      if (answer === 'hang') return;
      target.received.push({ path, headers: req.headers, body });
      const send = () => res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  target.port = (server.address() as AddressInfo).port;
  target.url = `http://127.0.0.1:${target.port}`;
  target.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return target;
}

/** A port that refuses connections (a server was there and is gone). */
export async function refusedPort(): Promise<number> {
  const t = await loopbackTarget();
  await t.close();
  return t.port;
}

/** The app in-process on a loopback port, with its config from text (`:memory:` storage unless the text says otherwise). */
export interface TestApp {
  mux: App;
  base: string;
  registry: Registry;
  setConfig(text: string): void;
  // Tests read answers loosely, as JSON.parse gives them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

/** Build and listen. `deps` overrides AppDeps (e.g. openLedger, now, random). */
export async function startApp(configText: string, deps: Partial<AppDeps> = {}, env: Record<string, string> = {}): Promise<TestApp> {
  let text = configText;
  const registry = new Registry();
  const http = new Agent({ keepAliveTimeout: 1000 });
  const mux = await buildApp({
    loadConfig: (previous) => parseConfig(text, { env, baseDir: '/tmp', previous, kinds: targetKinds }),
    logger: nopLogger(),
    registry,
    http,
    random: () => 0.5,
    ...deps,
  });
  const server = createServer(mux.handler).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new Agent({ keepAliveTimeout: 10 });
  const call = async (method: 'GET' | 'POST', path: string, body: unknown, headers: Record<string, string>) => {
    const res = await request(`${base}${path}`, {
      dispatcher: client,
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const raw = await res.body.text();
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // text answer
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.statusCode, body: parsed as any, text: raw };
  };
  return {
    mux,
    base,
    registry,
    setConfig: (t) => void (text = t),
    post: (path, body, headers = {}) => call('POST', path, body, headers),
    get: (path, headers = {}) => call('GET', path, undefined, headers),
    close: async () => {
      await mux.close(1000);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await client.close();
      await http.close();
    },
  };
}

/** Poll `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
