// An open-loop load at a fixed rate: request i is due at start + i / rate, whether or not earlier answers are back,
// and its latency counts from when it was due (a load generator that falls behind, or a connection pool that is
// full, shows as latency, not as fewer requests). This is what "a sustained R notifications/s" means.
//
// autocannon's overallRate is not that: each connection sends as fast as it can until it has sent its share of the
// second, then waits for the next second, so every second starts with a burst of the whole second's requests.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** The value at quantile q (0..1) of sorted numbers. */
const quantile = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);

/**
 * When each request is due, in ms from the start: every 1/rate s, or (ramp) at a rate growing evenly from a fifth
 * of `rate` to `rate` over the first half of the duration, then `rate`.
 */
function schedule(rate, duration, ramp) {
  const end = duration * 1000;
  const due = [];
  for (let t = 0; t < end; t += 1000 / (ramp ? Math.min(rate, rate / 5 + ((rate * 4) / 5) * ((2 * t) / end)) : rate)) due.push(t);
  return due;
}

/**
 * POST next() to the urls in turn (round robin, as a Service in front of replicas) at `rate` requests/s for
 * `duration` seconds over at most `connections` keep-alive connections per url; resolves once every request is
 * answered (or failed), with autocannon's result fields that bench/run.js reads. `ramp`: start at a fifth of the
 * rate (a warm-up: a service just started falls behind a full rate, and its backlog would spill into the run).
 */
export async function paced(urls, { rate, duration, connections, next, ramp = false, timeoutMs = 20_000 }) {
  const pools = urls.map((url) => ({ pool: new Pool(new URL(url).origin, { connections, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }), path: new URL(url).pathname }));
  const dueAt = schedule(rate, duration, ramp);
  const total = dueAt.length;
  const latencies = [];
  const statusCodeStats = {};
  let errors = 0;
  let sent = 0;
  const inFlight = new Set();
  const start = performance.now();
  const send = (i) => {
    const due = start + dueAt[i];
    const { pool, path } = pools[i % pools.length];
    const done = pool
      .request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: next() })
      .then(async (res) => {
        await res.body.dump();
        const code = String(res.statusCode);
        statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + 1 };
        if (res.statusCode >= 200 && res.statusCode < 300) latencies.push(performance.now() - due);
      })
      .catch(() => errors++)
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now() - start;
      while (sent < total && dueAt[sent] <= now) send(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, dueAt[sent] - (performance.now() - start)));
      else resolve();
    };
    tick();
  });
  while (inFlight.size) await Promise.all([...inFlight]);
  await Promise.all(pools.map(({ pool }) => pool.close()));
  const sorted = latencies.sort((a, b) => a - b);
  const ok = sorted.length;
  const at = (q) => Math.round(quantile(sorted, q) * 10) / 10;
  return {
    '2xx': ok,
    errors,
    timeouts: 0,
    non2xx: sent - ok - errors,
    statusCodeStats,
    latency: { p50: at(0.5), p90: at(0.9), p97_5: at(0.975), p99: at(0.99), p99_9: at(0.999), max: at(1) },
  };
}
