// `npm run build && node bench/attempt-history.js`: what the attempt history costs the ledger's writer
// (issue 23, part 9). Notifications to 5 targets are accepted, then each delivery's first outcome is
// committed in batches on a file ledger (main-thread writes, as the writer thread makes them): in
// alternating rounds once without an attempt row (as a skip writes it) and once with one (one INSERT
// more per update, in the same transaction). Prints wall-clock and CPU µs per update for each (medians of
// the rounds), and the CPU difference (less sensitive to other load on the machine than wall-clock time).
// Delivery ids are UUIDv7 as in the service (time-ordered: first attempts append to the history's index).
// Not run by `npm run bench`; not a test (nothing here is asserted).
//
// Environment (all optional): ATTEMPTS_NOTIFICATIONS=10000  ATTEMPTS_BATCH=100  ATTEMPTS_ROUNDS=6
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { uuidv7 } from '../dist/delivery/ids.js';
import { openSqliteStore } from '../dist/delivery/sqlite.js';

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const NOTIFICATIONS = num('ATTEMPTS_NOTIFICATIONS', 10_000);
const BATCH = num('ATTEMPTS_BATCH', 100);
const ROUNDS = num('ATTEMPTS_ROUNDS', 6);
const TARGETS = 5;

const dir = mkdtempSync(join(tmpdir(), 'alertmux-attempts-bench-'));
const store = openSqliteStore(join(dir, 'ledger.db'), { writerThread: false, replica: 'bench' });
const t0 = Date.now();

/** Accept NOTIFICATIONS notifications (not measured); their delivery ids, in order. */
async function accept() {
  const ids = [];
  for (let n = 0; n < NOTIFICATIONS; n += 200) {
    const accepts = [];
    for (let i = n; i < Math.min(n + 200, NOTIFICATIONS); i++) {
      const nid = `n_${uuidv7()}`;
      const groupKey = `{}:{alertname="A${i}"}`;
      const deliveries = Array.from({ length: TARGETS }, (_, k) => {
        const id = `d_${uuidv7()}`;
        ids.push(id);
        return { id, notificationId: nid, target: `t${k}`, targetType: 'webhook', groupKey, notificationKey: nid, state: 'pending', priority: 3, alerts: [0], attempts: 0, createdAt: t0, nextAttemptAt: t0 };
      });
      accepts.push({ notification: { id: nid, key: nid, receiver: 'r', groupKey, status: 'firing', createdAt: t0, original: '{}', enriched: '{}' }, deliveries });
    }
    await store.write({ accepts, updates: [] });
  }
  return ids;
}

/** Commit every delivery's first outcome, in batches; wall-clock and CPU µs per update. */
async function round(ids, withHistory) {
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < ids.length; i += BATCH) {
    const updates = ids.slice(i, i + BATCH).map((id) => ({
      id, state: 'delivered', skipReason: null, attempts: 1, nextAttemptAt: null, lastStatus: 202, lastReason: null, lastError: null,
      retryable: null, durationMs: 12.3, deliveredAt: t0 + 1, updatedAt: t0 + 1, attemptedAt: withHistory ? t0 : null, trial: false, replay: false,
    }));
    const result = await store.write({ accepts: [], updates });
    if (result.updateError) throw new Error(result.updateError);
  }
  const used = process.cpuUsage(cpu);
  return { wall: ((performance.now() - start) * 1000) / ids.length, cpu: (used.user + used.system) / ids.length };
}

const results = { without: [], with: [] };
// Alternating which goes first: the ledger grows with every round.
for (let r = 0; r < ROUNDS; r++) {
  for (const withHistory of r % 2 ? [true, false] : [false, true]) {
    results[withHistory ? 'with' : 'without'].push(await round(await accept(), withHistory));
  }
}
const median = (xs) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2);
const of = (key) => ({ withoutHistory: median(results.without.map((r) => r[key])), withHistory: median(results.with.map((r) => r[key])) });
const wall = of('wall');
const cpu = of('cpu');
console.log(
  JSON.stringify({
    updatesPerRound: NOTIFICATIONS * TARGETS,
    batch: BATCH,
    rounds: ROUNDS,
    wallUsPerUpdate: wall,
    cpuUsPerUpdate: cpu,
    extraCpuUsPerAttempt: +(cpu.withHistory - cpu.withoutHistory).toFixed(2),
  }),
);
await store.close();
rmSync(dir, { recursive: true, force: true });
