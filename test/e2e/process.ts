import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/**
 * The sum of the samples of metric `name` in `base`'s /metrics whose labels include `labels` (0 when there is none);
 * undefined when the scrape fails (the process is gone).
 */
export async function scrape(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  let text: string;
  try {
    const res = await fetch(`${base}/metrics`);
    if (!res.ok) return undefined;
    text = await res.text();
  } catch {
    return undefined;
  }
  return sampleSum(text, name, labels);
}

/** The sum of the samples of `name` (exactly that name) in Prometheus text whose labels include `labels`. */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

/** GET a path; its status code, or 0 without an answer. */
export async function statusOf(base: string, path: string): Promise<number> {
  try {
    const res = await fetch(`${base}${path}`);
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}
