// `npm run bench`: alertmux side by side with a raw Node fan-out receiver, in
// parallel and in sequence, on loopback mock targets. See docs/benchmarks.md.
//
// For each target delay (0 ms, 50 ms) and each number of targets N (1, 5, 10)
// it starts the mock targets, then, one after another on the same targets:
//   raw         bench/raw-receiver.js (node:http + undici, no storage)
//   alertmux    the built service (node dist/cli.js), durable SQLite ledger on
//   sequential  bench/raw-receiver.js --sequential (targets one after another)
//   pg          the built service on PostgreSQL (storage.driver: postgres), one replica
//   pg2         two replicas of it on one database, the load split between them
//   SYSTEM@R    any of these at a sustained R notifications/s (e.g. pg2@500): an open-loop load, one request every
//               1/R s whatever the answers (bench/paced.js), latency counted from when each was due
// The PostgreSQL cells start one throwaway cluster for the run (test/helpers/postgres.ts, with fsync and
// synchronous commits on, as a database users run; Debian's postgresql package), a fresh database per
// cell, and count the database server's CPU in the CPU per notification.
// and drives each with autocannon at a fixed concurrency for a fixed time,
// every request a distinct notification (its own group key), so alertmux's
// dedup never short-cuts one.
//
// Environment (all optional):
//   BENCH_QUICK=1              short run (2 s warm-up + 4 s per cell instead of 3 s + 10 s)
//   BENCH_DURATION=S           seconds measured per cell        BENCH_WARMUP=S   warm-up seconds (at a fixed rate, 10 at least)
//   BENCH_CONNECTIONS_0=C      concurrency against 0 ms targets (default 32: capacity)
//   BENCH_CONNECTIONS_50=C     concurrency against 50 ms targets (default 8: latency under a steady load)
//   BENCH_DELAYS=0,50  BENCH_N=1,5,10  BENCH_SYSTEMS=raw,alertmux,sequential   run a subset
//   BENCH_RATE=R               a sustained R notifications/s (bench/paced.js) instead of as fast as it goes:
//                              CPU ms per notification at a fixed rate is the steadiest figure on a busy machine
//   BENCH_ALERTS=K             alerts per notification (default: the fixture's 2), e.g. 50 for a big group
//   BENCH_ALERTMUX=PATH        the alertmux entry point to run (default dist/cli.js), e.g. another build to compare
//   BENCH_NODE_ARGS=A,B        extra node flags for alertmux, e.g. --max-semi-space-size=8 (V8's young generation)
//   BENCH_PROFILE=DIR          run alertmux under --cpu-prof, profiles in DIR (summarise: node bench/cpuprofile-top.js DIR/*.cpuprofile)
//   BENCH_OUT=FILE             where to write the JSON results (default: bench/results/bench-<time>.json, git-ignored)
//   BENCH_STORAGE=PATH         alertmux storage.path (default a temp file per cell; ":memory:" to see the ledger's cost)
//   BENCH_LOG_LEVEL=LEVEL      alertmux log level (default: the config default, info)
//   BENCH_MAX_CONCURRENCY=C    alertmux dispatch.max_concurrency (default 200, the maximum; alertmux's own default is 50)
//   BENCH_KEEP=1               keep each cell's temp dir (config, ledger, log) and print its path
//   BENCH_PG_SETTINGS=JSON     extra settings of the PostgreSQL cluster, e.g. {"log_min_duration_statement":"40",
//                              "logging_collector":"on","log_directory":"/tmp/pglog"} to see slow statements
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { request } from 'undici';
import { paced } from './paced.js';
import { cpuMs, freePort, peakRssMb, stop, waitLine, waitReady } from './proc.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
/** The shortest warm-up of a cell at a fixed rate (SYSTEM@R, BENCH_RATE), in seconds: half ramp, half full rate. */
const RATE_WARMUP_S = 10;
const quick = env.BENCH_QUICK === '1';
const list = (value, fallback) => (value ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const settings = {
  duration: Number(env.BENCH_DURATION ?? (quick ? 4 : 10)),
  warmup: Number(env.BENCH_WARMUP ?? (quick ? 2 : 3)),
  connections: { 0: Number(env.BENCH_CONNECTIONS_0 ?? 32), 50: Number(env.BENCH_CONNECTIONS_50 ?? 8) },
  delays: list(env.BENCH_DELAYS, '0,50').map(Number),
  counts: list(env.BENCH_N, '1,5,10').map(Number),
  systems: list(env.BENCH_SYSTEMS, 'raw,alertmux,sequential'),
  /** Fixed offered load (requests per second, all connections together) instead of as fast as possible. */
  rate: env.BENCH_RATE ? Number(env.BENCH_RATE) : undefined,
  /** Alerts per notification (default: the fixture's 2). */
  alerts: env.BENCH_ALERTS ? Number(env.BENCH_ALERTS) : undefined,
  alertmux: resolve(env.BENCH_ALERTMUX ?? join(root, 'dist/cli.js')),
};
const connectionsFor = (delay) => settings.connections[delay] ?? settings.connections[50];
const fixture = readFileSync(join(root, 'test/fixtures/am025-firing-2-firing-firing-noauth.json'), 'utf8');

/**
 * Bodies of distinct notifications: the fixture with a group key (and group
 * label) unique per request, as many alert groups flushing at once.
 */
function bodies() {
  const msg = JSON.parse(fixture);
  if (settings.alerts) {
    // A bigger group: the fixture's alerts repeated, each with its own instance label and fingerprint.
    const [first] = msg.alerts;
    msg.alerts = Array.from({ length: settings.alerts }, (_, i) => ({
      ...first,
      labels: { ...first.labels, instance: `host${i}` },
      fingerprint: (0x1000000000000000n + BigInt(i)).toString(16),
    }));
  }
  const run = Date.now().toString(36);
  msg.groupKey = `{}:{alertname="TestAlert",bench="${run}-@@"}`;
  msg.groupLabels = { ...msg.groupLabels, bench: `${run}-@@` };
  const parts = JSON.stringify(msg).split('@@');
  let seq = 0;
  const next = () => parts.join(String(seq++));
  next.sent = () => seq;
  return next;
}

/** The targets' request count once it stops moving (attempts still in flight when the load stopped have landed). */
async function settledCount(targets) {
  let last = await targets.received();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = await targets.received();
    if (now === last) return now;
    last = now;
  }
}

/** alertmux's config for N targets: durable storage in a temp file (or the cell's database), as users run it. */
function alertmuxConfig(dir, urls, databaseUrl) {
  return [
    `# Generated by bench/run.js`,
    `storage:`,
    ...(databaseUrl
      ? [`  driver: postgres`, `  url: ${JSON.stringify(databaseUrl)}`]
      : [`  path: ${JSON.stringify(env.BENCH_STORAGE ?? join(dir, 'alertmux.db'))}`]),
    `dispatch:`,
    // The cap of outbound requests in flight is not what is measured: raise it to its maximum.
    `  max_concurrency: ${env.BENCH_MAX_CONCURRENCY ?? 200}`,
    `targets:`,
    ...urls.map((url, i) => `  - {name: t${i + 1}, type: webhook, url: "${url}"}`),
    '',
  ].join('\n');
}

/** The throwaway cluster of the PostgreSQL cells, started on first use; a fresh database per cell. */
let cluster;
let databases = 0;
async function postgresDatabase() {
  if (!cluster) {
    // The cluster helper is TypeScript shared with the tests: load it through tsx.
    const { register } = await import('tsx/esm/api');
    register();
    const { startPostgres } = await import('../test/helpers/postgres.ts');
    cluster = await startPostgres(undefined, { durable: true, settings: JSON.parse(process.env.BENCH_PG_SETTINGS ?? '{}') });
  }
  const name = `bench_${++databases}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

/** CPU time of the database server so far (the postmaster and every backend), in ms; 0 without a cluster. */
function databaseCpuMs() {
  if (!cluster) return 0;
  let total = 0;
  // The postmaster first: its ended children (backends whose connection closed during the cell) count too.
  for (const [i, pid] of cluster.pids().entries()) {
    try {
      const { user, system, children } = cpuMs(pid);
      total += user + system + (i === 0 ? children : 0);
    } catch {
      // A backend that ended between the listing and the read.
    }
  }
  return total;
}

async function startTargets(count, delay) {
  const child = spawn(process.execPath, [join(root, 'bench/targets.js'), String(count), String(delay)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = await waitLine(child, /^\{.*\}$/);
  const counts = () =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send('count');
    });
  const received = async () => (await counts()).received;
  const connections = async () => (await counts()).connections;
  return { child, urls: JSON.parse(line).urls, received, connections };
}

/** Start one system under test (one process; `replica` names it for the multi-replica cells); resolves to its child and URL. */
async function startSystem(system, urls, dir, databaseUrl, replica) {
  const port = await freePort();
  if (system === 'raw' || system === 'sequential') {
    const args = ['--listen', `127.0.0.1:${port}`, '--targets', urls.join(','), ...(system === 'sequential' ? ['--sequential'] : [])];
    const child = spawn(process.execPath, [join(root, 'bench/raw-receiver.js'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitLine(child, /^listening \d+/);
    return { child, url: `http://127.0.0.1:${port}/webhook` };
  }
  const configPath = join(dir, `alertmux${replica ?? ''}.yml`);
  writeFileSync(configPath, alertmuxConfig(dir, urls, databaseUrl));
  const childEnv = { ...env };
  if (replica) childEnv.ALERTMUX_REPLICA = replica;
  delete childEnv.LOG_LEVEL;
  if (env.BENCH_LOG_LEVEL) childEnv.LOG_LEVEL = env.BENCH_LOG_LEVEL;
  const nodeArgs = [...list(env.BENCH_NODE_ARGS, ''), ...(env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', resolve(env.BENCH_PROFILE)] : [])];
  // Logs go to a file, as a service's stdout goes to a journal or a container log.
  const log = openSync(join(dir, `alertmux${replica ?? ''}.log`), 'w');
  const child = spawn(process.execPath, [...nodeArgs, settings.alertmux, '--config', configPath, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', log, 'inherit'],
    env: childEnv,
  });
  closeSync(log);
  await waitReady(`http://127.0.0.1:${port}/-/ready`, child);
  return { child, url: `http://127.0.0.1:${port}/webhook` };
}

function load(url, connections, duration, next) {
  return autocannon({
    url,
    connections,
    duration,
    timeout: 20,
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: next() }) }],
  });
}

/** RSS, V8 heap (total and used) and external memory in MB, from alertmux's /metrics. */
async function heapMb(metricsUrl) {
  const text = await (await request(metricsUrl)).body.text();
  const read = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 2 ** 20;
  return {
    rss: read('process_resident_memory_bytes'),
    heapTotal: read('nodejs_heap_size_total_bytes'),
    heapUsed: read('nodejs_heap_size_used_bytes'),
    external: read('nodejs_external_memory_bytes'),
  };
}

/**
 * The load on several replicas at once. At a fixed rate, one paced load sends to each in turn (as a Service in front
 * of them) and its percentiles are exact. As fast as it goes, each replica gets its share of the connections and an
 * autocannon of its own; throughput and errors add up, but latency percentiles cannot be merged exactly: p50 is the
 * mean of the replicas' p50s and p99 (and the tail) the worst replica's, which overstates rather than hides a tail.
 */
async function loadAll(urls, connections, duration, next, rate, warmup = false) {
  const perReplica = Math.max(1, Math.round(connections / urls.length));
  if (rate) return paced(urls, { rate, duration, connections: perReplica, next, ramp: warmup });
  const results = await Promise.all(urls.map((url) => load(url, perReplica, duration, next)));
  if (results.length === 1) return results[0];
  const sum = (key) => results.reduce((t, r) => t + (r[key] ?? 0), 0);
  const worst = (key) => Math.max(...results.map((r) => r.latency[key]));
  const statusCodeStats = {};
  for (const r of results) {
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + s.count };
  }
  return {
    '2xx': sum('2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    non2xx: sum('non2xx'),
    statusCodeStats,
    latency: { p50: results.reduce((t, r) => t + r.latency.p50, 0) / results.length, p90: worst('p90'), p97_5: worst('p97_5'), p99: worst('p99'), p99_9: worst('p99_9'), max: worst('max') },
  };
}

/** `pg2@500` → { kind: 'pg2', replicas: 2, postgres: true, rate: 500 }. */
function systemOf(name) {
  const [kind, rate] = name.split('@');
  return { kind, replicas: kind === 'pg2' ? 2 : 1, postgres: kind === 'pg' || kind === 'pg2', rate: rate ? Number(rate) : settings.rate, alertmux: kind !== 'raw' && kind !== 'sequential' };
}

/** One cell of the table: one system on N targets with one delay. */
async function cell(system, targets, count, delay) {
  const spec = systemOf(system);
  const dir = mkdtempSync(join(tmpdir(), `alertmux-bench-${spec.kind}-`));
  const databaseUrl = spec.postgres ? await postgresDatabase() : undefined;
  const suts = [];
  for (let i = 0; i < spec.replicas; i++) suts.push(await startSystem(spec.kind, targets.urls, dir, databaseUrl, spec.replicas > 1 ? `r${i + 1}` : undefined));
  const sut = suts[0];
  const pids = suts.map((s) => s.child.pid);
  const connections = connectionsFor(delay);
  const next = bodies();
  const processCpu = () => pids.map(cpuMs).reduce((t, c) => ({ user: t.user + c.user, system: t.system + c.system }), { user: 0, system: 0 });
  try {
    const receivedAtStart = await targets.received();
    const connectionsAtStart = await targets.connections();
    const urls = suts.map((s) => s.url);
    // At a fixed rate the warm-up lasts at least RATE_WARMUP_S: a service just started (JIT, the database's plans and
    // caches) answers slower for its first seconds, and an open-loop load does not wait for it.
    await loadAll(urls, connections, spec.rate ? Math.max(settings.warmup, RATE_WARMUP_S) : settings.warmup, next, spec.rate, true);
    const cpuBefore = processCpu();
    const dbBefore = databaseCpuMs();
    const result = await loadAll(urls, connections, settings.duration, next, spec.rate);
    const cpuAfter = processCpu();
    const databaseCpu = databaseCpuMs() - dbBefore;
    const cpuUser = cpuAfter.user - cpuBefore.user;
    const cpuSystem = cpuAfter.system - cpuBefore.system;
    // The database server's CPU counts: it does the work SQLite does inside alertmux's process.
    const cpu = cpuUser + cpuSystem + databaseCpu;
    const rss = Math.max(...pids.map(peakRssMb));
    const memory = !spec.alertmux ? undefined : await heapMb(sut.url.replace(/\/webhook$/, '/metrics'));
    const receivedAtEnd = await settledCount(targets);
    const opened = (await targets.connections()) - connectionsAtStart;
    const seconds = settings.duration;
    const ok = result['2xx'];
    const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
    return {
      system,
      delay,
      n: count,
      connections,
      notificationsPerSec: ok / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      // The rest of the latency distribution, for the JSON: where the tail starts.
      latency: { p90: result.latency.p90, p97_5: result.latency.p97_5, p99_9: result.latency.p99_9, max: result.latency.max },
      cpuMsPerNotification: ok ? cpu / ok : NaN,
      cpuCores: cpu / 1000 / seconds,
      cpuSystemShare: cpu ? cpuSystem / cpu : NaN,
      // Of the CPU per notification, the database server's part (PostgreSQL cells).
      databaseCpuMsPerNotification: spec.postgres && ok ? databaseCpu / ok : undefined,
      rate: spec.rate,
      peakRssMb: rss,
      // alertmux's own view at the end of the load (prom-client default metrics): where the RSS is.
      memoryMb: memory,
      codes,
      errors: result.errors + result.timeouts + result.non2xx,
      // Requests the targets saw per notification sent (warm-up included): N when nothing is lost or sent twice.
      targetRequestsPerNotification: (receivedAtEnd - receivedAtStart) / next.sent(),
      // TCP connections the targets accepted during the cell (warm-up included): few when keep-alive works.
      targetConnections: opened,
    };
  } finally {
    await Promise.all(suts.map((s) => stop(s.child)));
    // Nothing of this cell left for the next one to pay for: autovacuum of its tables, its dirty pages.
    if (databaseUrl) {
      await cluster.dropDatabase(databaseUrl);
      cluster.sql('CHECKPOINT');
    }
    if (env.BENCH_KEEP === '1') process.stderr.write(`  kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const pad = (s, n) => String(s).padStart(n);
const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

function printTable(rows) {
  const head = ['delay', 'N', 'system', 'conc', 'notif/s', 'p50 ms', 'p99 ms', 'CPU ms/notif', 'of it DB', 'CPU cores', 'peak RSS MB', 'sent/notif', 'codes', 'errors'];
  const widths = [5, 3, 10, 4, 8, 7, 7, 12, 8, 9, 11, 10, 18, 6];
  console.log(head.map((h, i) => pad(h, widths[i])).join(' '));
  for (const r of rows) {
    const codes = Object.entries(r.codes).map(([c, n]) => `${c}:${n}`).join(' ');
    console.log(
      [`${r.delay}ms`, r.n, r.system, r.connections, fmt(r.notificationsPerSec), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.cpuMsPerNotification, 3), fmt(r.databaseCpuMsPerNotification, 3), fmt(r.cpuCores, 2), fmt(r.peakRssMb, 0), fmt(r.targetRequestsPerNotification, 2), codes, r.errors]
        .map((v, i) => pad(v, widths[i]))
        .join(' '),
    );
  }
}

/** The issue's ratios and goals, from the rows of this one run. */
function ratios(rows) {
  const get = (system, delay, n) => rows.find((r) => r.system === system && r.delay === delay && r.n === n);
  const out = [];
  const goal = (name, value, ok, text) => out.push({ name, value, met: value === undefined ? undefined : ok, text });
  for (const n of settings.counts) {
    const a = get('alertmux', 0, n);
    const raw = get('raw', 0, n);
    if (a && raw) goal(`throughput alertmux/raw, N=${n}, 0 ms`, a.notificationsPerSec / raw.notificationsPerSec, undefined, 'ratio');
  }
  const a5 = get('alertmux', 0, 5);
  const r5 = get('raw', 0, 5);
  if (a5 && r5) {
    const ratio = a5.notificationsPerSec / r5.notificationsPerSec;
    goal('goal: throughput N=5, 0 ms ≥ 60% of raw', ratio, ratio >= 0.6, `${fmt(ratio * 100)}% of raw`);
  }
  if (a5) goal('goal: throughput N=5, 0 ms ≥ 1,500 notif/s', a5.notificationsPerSec, a5.notificationsPerSec >= 1500, `${fmt(a5.notificationsPerSec)} notif/s`);
  const p5 = get('alertmux', 50, 5);
  const s5 = get('sequential', 50, 5);
  if (p5 && s5) goal('goal: p50 parallel/sequential, N=5, 50 ms ≤ 0.25', p5.p50 / s5.p50, p5.p50 / s5.p50 <= 0.25, `${fmt(p5.p50, 1)} / ${fmt(s5.p50, 1)} ms`);
  const p10 = get('alertmux', 50, 10);
  const p1 = get('alertmux', 50, 1);
  if (p10) goal('goal: p99 N=10, 50 ms ≤ 60 ms', p10.p99, p10.p99 <= 60, `${fmt(p10.p99, 1)} ms (${fmt(p10.p99 - 50, 1)} ms over the target delay)`);
  if (p10 && p1) goal('p99 overhead per added target, 50 ms (N=1→10)', (p10.p99 - p1.p99) / 9, undefined, 'ms per target');
  const raw10 = get('raw', 50, 10);
  if (p10 && raw10) goal('p99 alertmux − raw, N=10, 50 ms', p10.p99 - raw10.p99, undefined, 'ms');
  // PostgreSQL (issue 23): two replicas against the SQLite default in the same run, and the tail at a steady 500/s.
  for (const system of ['pg', 'pg2']) {
    const pg = get(system, 0, 5);
    if (pg && a5) goal(`throughput ${system}/SQLite, N=5, 0 ms`, pg.notificationsPerSec / a5.notificationsPerSec, undefined, 'ratio');
  }
  const pg2 = get('pg2', 0, 5);
  if (pg2 && a5) {
    const ratio = pg2.notificationsPerSec / a5.notificationsPerSec;
    goal('goal: two replicas on PostgreSQL ≥ 50% of SQLite, N=5, 0 ms', ratio, ratio >= 0.5, `${fmt(pg2.notificationsPerSec)} / ${fmt(a5.notificationsPerSec)} notif/s`);
  }
  for (const r of rows.filter((row) => /^pg2?@500$/.test(row.system))) {
    goal(`goal: ${r.system} p99 ≤ 50 ms, N=${r.n}, ${r.delay} ms`, r.p99, r.p99 <= 50, `${fmt(r.p99, 1)} ms at ${fmt(r.notificationsPerSec)} notif/s`);
  }
  const alertmuxRows = rows.filter((r) => r.system === 'alertmux');
  if (alertmuxRows.length) {
    const peak = Math.max(...alertmuxRows.map((r) => r.peakRssMb));
    goal('goal: peak RSS ≤ 200 MB (alertmux, all cells)', peak, peak <= 200, `${fmt(peak)} MB`);
  }
  return out;
}

function printRatios(list) {
  for (const r of list) {
    const verdict = r.met === undefined ? '' : r.met ? '  [met]' : '  [NOT met]';
    console.log(`  ${r.name}: ${fmt(r.value, r.value < 10 ? 2 : 0)} ${r.text === 'ratio' ? '' : `(${r.text})`}${verdict}`);
  }
}

async function main() {
  const machine = `${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`;
  console.log(`alertmux bench: ${machine}`);
  console.log(
    `${settings.duration} s per cell after ${settings.warmup} s warm-up; concurrency ${settings.connections[0]} on 0 ms targets, ${settings.connections[50]} on 50 ms targets; loopback only\n`,
  );
  const rows = [];
  for (const delay of settings.delays) {
    for (const count of settings.counts) {
      const targets = await startTargets(count, delay);
      try {
        for (const system of settings.systems) {
          const row = await cell(system, targets, count, delay);
          rows.push(row);
          process.stderr.write(`  done ${delay}ms N=${count} ${system}: ${fmt(row.notificationsPerSec)} notif/s, p50 ${fmt(row.p50, 1)} ms\n`);
        }
      } finally {
        await stop(targets.child);
      }
    }
  }
  await cluster?.stop();
  console.log('');
  printTable(rows);
  console.log('\nratios (this run):');
  const list = ratios(rows);
  printRatios(list);
  const out = env.BENCH_OUT ?? join(root, 'bench', 'results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ machine, settings, rows, ratios: list }, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
}

await main();
