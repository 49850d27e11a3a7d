import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request, type Dispatcher } from 'undici';

/** The built command line (`npm test` builds first). */
export const CLI = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'dist', 'cli.js');

/** A child process of the real built service. */
export interface Service {
  child: ChildProcess;
  base: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
}

/** Start `node dist/cli.js --config FILE --listen 127.0.0.1:PORT` and wait until /-/ready answers. */
export async function startService(configFile: string, port: number, env: Record<string, string> = {}): Promise<Service> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [CLI, '--config', configFile, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const base = `http://127.0.0.1:${port}`;
  // Generous: under coverage on a loaded 2-core machine a start can take many seconds.
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`alertmux exited early (${child.exitCode}):\n${out}`);
    try {
      const res = await fetch(`${base}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`alertmux did not become ready:\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, base, output: () => out, exited };
}

/** The sum of a metric's samples in `text` (Prometheus exposition) whose labels include `labels`; undefined if none. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) continue;
    sum = (sum ?? 0) + Number(match[3]);
  }
  return sum;
}

/** Scrape `base`/metrics and read one metric (see `metricValue`); undefined when it is absent or the scrape fails. */
export async function scrape(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  try {
    const res = await fetch(`${base}/metrics`);
    return res.ok ? metricValue(await res.text(), name, labels) : undefined;
  } catch {
    return undefined;
  }
}

/** GET `url`: its status code, 0 when no answer came. */
export async function statusOf(url: string): Promise<number> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

/** POST `body` as JSON to `url`: the status code (0 when no answer came: refused, reset, the process died) and the JSON answer. */
export async function postJson(client: Dispatcher, url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  try {
    const res = await request(url, { dispatcher: client, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body: parsed };
  } catch {
    return { status: 0, body: undefined };
  }
}

/** kill -9 and wait until the process is gone. */
export async function killHard(service: Service): Promise<void> {
  service.child.kill('SIGKILL');
  await service.exited;
}

/**
 * Open-loop load: call `send(i)` for i = 0, 1, ... at `perSecond` (each on its own schedule, not waiting for the
 * previous one, as independent Alertmanagers would) until `stop()` says so; resolves once every send has finished,
 * with how many were sent.
 */
export async function steadyLoad(perSecond: number, stop: (i: number) => boolean, send: (i: number) => Promise<void>): Promise<number> {
  const pending: Array<Promise<void>> = [];
  const start = Date.now();
  let i = 0;
  while (!stop(i)) {
    pending.push(send(i));
    i++;
    // On schedule from the start: a late tick sends at once rather than shifting every later one.
    const wait = start + (i * 1000) / perSecond - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await Promise.all(pending);
  return i;
}
