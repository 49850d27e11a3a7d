// `npm run build && node bench/dedup-flood.js`: what a flood of one identical
// notification costs (issue 20). alertmux (the built service, SQLite ledger in a
// temp file) with 5 loopback targets gets N identical notifications from C
// concurrent senders, then M distinct ones (each its own group key), and prints,
// per phase: wall-clock ms per notification (the window's duration / its count:
// the inverse of throughput) and mean latency, for the first and the last
// window of the duplicates, and alertmux's CPU ms per notification. Not run by
// `npm run bench`; not a test (nothing here is asserted).
//
// Environment (all optional): DEDUP_N=2000  DEDUP_DISTINCT=500  DEDUP_SENDERS=16
//   DEDUP_TARGETS=5  DEDUP_WINDOW=200 (requests per measured window)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { cpuMs, freePort, stop, waitReady } from './proc.js';
import { startTargets } from './targets.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const num = (name, fallback) => Number(process.env[name] ?? fallback);
const N = num('DEDUP_N', 2000);
const DISTINCT = num('DEDUP_DISTINCT', 500);
const SENDERS = num('DEDUP_SENDERS', 16);
const TARGETS = num('DEDUP_TARGETS', 5);
const WINDOW = num('DEDUP_WINDOW', 200);
const fixture = readFileSync(join(root, 'test/fixtures/am025-firing-2-firing-firing-noauth.json'), 'utf8');

/** Send `count` bodies from SENDERS concurrent loops; the start and end time (ms) of each request, in send order. */
async function flood(url, count, body, agent) {
  const times = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let i = next++; i < count; i = next++) {
        const start = performance.now();
        const res = await request(url, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: body(i) });
        await res.body.text();
        if (res.statusCode >= 300) throw new Error(`answer ${res.statusCode}`);
        times[i] = [start, performance.now()];
      }
    }),
  );
  return times;
}

/** ms per notification (window duration / count) and mean latency of requests [from, to). */
function window(times, from, to) {
  const slice = times.slice(from, to);
  const first = Math.min(...slice.map(([s]) => s));
  const last = Math.max(...slice.map(([, e]) => e));
  const latency = slice.reduce((sum, [s, e]) => sum + (e - s), 0) / slice.length;
  return { msPerNotification: +((last - first) / slice.length).toFixed(3), meanLatencyMs: +latency.toFixed(2) };
}

const dir = mkdtempSync(join(tmpdir(), 'alertmux-bench-dedup-'));
const targets = await startTargets(TARGETS, 0);
const port = await freePort();
const config = join(dir, 'alertmux.yml');
writeFileSync(
  config,
  [`storage: {path: ${JSON.stringify(join(dir, 'alertmux.db'))}}`, 'dispatch: {max_concurrency: 200}', 'targets:', ...targets.urls.map((u, i) => `  - {name: t${i + 1}, type: webhook, url: "${u}"}`), ''].join('\n'),
);
const log = openSync(join(dir, 'alertmux.log'), 'w');
const child = spawn(process.execPath, [join(root, 'dist/cli.js'), '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', log, 'inherit'] });
closeSync(log);
const agent = new Agent({ connections: SENDERS, keepAliveTimeout: 30_000 });
try {
  const url = `http://127.0.0.1:${port}/webhook`;
  await waitReady(`http://127.0.0.1:${port}/-/ready`, child);
  const cpu = () => {
    const { user, system } = cpuMs(child.pid);
    return user + system;
  };
  // Warm-up: distinct notifications of another run, so the first duplicates do not pay for JIT and connections.
  const distinctBody = (tag) => {
    const msg = JSON.parse(fixture);
    const parts = JSON.stringify({ ...msg, groupKey: `{}:{alertname="TestAlert",bench="${tag}-@@"}` }).split('@@');
    return (i) => parts.join(String(i));
  };
  await flood(url, 300, distinctBody('warm'), agent);

  let before = cpu();
  const duplicates = await flood(url, N, () => fixture, agent);
  const duplicateCpu = (cpu() - before) / N;
  before = cpu();
  const distinct = await flood(url, DISTINCT, distinctBody('distinct'), agent);
  const distinctCpu = (cpu() - before) / DISTINCT;

  const result = {
    settings: { notifications: N, distinct: DISTINCT, senders: SENDERS, targets: TARGETS, window: WINDOW },
    duplicatesStart: window(duplicates, 1, 1 + WINDOW),
    duplicatesEnd: window(duplicates, N - WINDOW, N),
    distinct: window(distinct, Math.max(0, DISTINCT - 2 * WINDOW), DISTINCT),
    cpuMsPerDuplicate: +duplicateCpu.toFixed(3),
    cpuMsPerDistinct: +distinctCpu.toFixed(3),
  };
  result.endOverStart = +(result.duplicatesEnd.msPerNotification / result.duplicatesStart.msPerNotification).toFixed(2);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await agent.close();
  await stop(child);
  await targets.close();
  rmSync(dir, { recursive: true, force: true });
}
