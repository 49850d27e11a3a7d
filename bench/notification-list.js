// `npm run build && node bench/notification-list.js`: what the console's reads cost on a big ledger (issue 24).
// Fills a SQLite ledger in a temp file with N notifications (3 targets each, a payload of two alerts of
// about 2 KB, one in 200 with a dead letter and one in 500 still pending, 50 alertnames), then times each
// query of GET /api/v1/notifications (first page, filters common and rare, a deep page by cursor, a label
// matcher) and of GET /api/v1/overview (outcome buckets, per-target queue), median of 5 runs, in ms.
// Not run by `npm run bench`; not a test (nothing here is asserted).
//
// Environment (optional): LIST_N=100000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteStore } from '../dist/delivery/sqlite.js';
import { parseMatchers, matchesAll } from '../dist/dispatch/matchers.js';

const N = Number(process.env['LIST_N'] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'alertmux-list-bench-'));
const store = openSqliteStore(join(dir, 'ledger.db'), { writerThread: false });
const T0 = Date.now() - N * 1000;
const TARGETS = ['pagerduty', 'slack', 'legacy'];

const fill = performance.now();
for (let start = 0; start < N; start += 1000) {
  const accepts = [];
  for (let i = start; i < Math.min(N, start + 1000); i++) {
    const alertname = `Alert${i % 50}`;
    const alerts = [0, 1].map((j) => ({
      status: 'firing',
      labels: { alertname, severity: i % 97 === 0 ? 'critical' : 'warning', instance: `host-${i}-${j}:9100`, job: 'node', team: `team-${i % 7}` },
      annotations: { summary: `${alertname} on host-${i}-${j}`, description: 'x'.repeat(700) },
      startsAt: new Date(T0 + i * 1000).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph?g0.expr=up',
      fingerprint: `${i}-${j}`,
    }));
    const payload = JSON.stringify({ version: '4', receiver: 'fanout', status: 'firing', groupKey: `{}:{alertname="${alertname}",i="${i}"}`, alerts });
    const id = `n_${String(i).padStart(8, '0')}`;
    const at = T0 + i * 1000;
    accepts.push({
      notification: { id, key: `k${i}`, receiver: 'fanout', groupKey: `g${i}`, status: 'firing', createdAt: at, original: payload, enriched: payload, alertnames: [alertname], alertCount: 2 },
      deliveries: TARGETS.map((target) => ({
        id: `d_${i}_${target}`,
        notificationId: id,
        target,
        targetType: 'webhook',
        groupKey: `g${i}`,
        notificationKey: `k${i}`,
        state: 'pending',
        priority: 2,
        alerts: [0, 1],
        attempts: 0,
        createdAt: at,
        nextAttemptAt: at,
      })),
    });
  }
  await store.write({ accepts, updates: [] });
  const updates = [];
  for (const a of accepts) {
    const i = Number(a.notification.id.slice(2));
    for (const d of a.deliveries) {
      const dead = d.target === 'legacy' && i % 200 === 0;
      const pending = d.target === 'legacy' && i % 500 === 1;
      if (!pending) updates.push({ id: d.id, state: dead ? 'dead' : 'delivered', attempts: 1, updatedAt: d.createdAt + 50, durationMs: 40 });
    }
  }
  store.update(updates);
}
console.log(`filled ${N} notifications (${N * 3} deliveries) in ${Math.round(performance.now() - fill)} ms`);

const time = (label, run) => {
  const runs = [];
  let result;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    result = run();
    runs.push(performance.now() - started);
  }
  runs.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} ${runs[2].toFixed(2).padStart(8)} ms  (${result} rows)`);
};
/** A page as the route reads it: up to `limit` rows, the deliveries of those, and (with matchers) their payloads. */
const page = (filter, limit = 50, matchers) => () => {
  const rows = [];
  let scanned = 0;
  for (const n of store.notifications(filter)) {
    if (rows.length === limit || scanned === 5000) break;
    scanned++;
    if (matchers) {
      const msg = JSON.parse(store.getNotification(n.id).enriched);
      if (!msg.alerts.some((a) => matchesAll(matchers, a.labels))) continue;
    }
    rows.push(n);
  }
  store.deliveriesOfMany(rows.map((n) => n.id));
  return rows.length;
};
const all = [...store.notifications({})];
const deep = all[Math.floor(N / 2)];
time('first page, no filter', page({}));
time('alertname=Alert7 (1 in 50)', page({ alertname: 'Alert7' }));
time('target=legacy', page({ target: 'legacy' }));
time('outcome=failed (1 in 200)', page({ outcome: 'failed' }));
time('outcome=pending (1 in 500)', page({ outcome: 'pending' }));
time('alertname=Nope (no match: the whole list)', page({ alertname: 'Nope' }));
time('since=1h', page({ since: T0 + (N - 3600) * 1000 }));
time('cursor half way down', page({ before: { createdAt: deep.createdAt, id: deep.id } }));
time('match {severity="critical"} (1 in 97; 5000 payloads at most)', page({}, 50, parseMatchers('{severity="critical"}')));
time('overview: outcomes of the last hour in 12 buckets', () => store.outcomeBuckets(T0 + (N - 3600) * 1000, 300_000).length);
time('overview: queue and dead letters per target', () => store.targetStats().length);
await store.close();
rmSync(dir, { recursive: true, force: true });
