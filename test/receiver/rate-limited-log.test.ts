import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { RateLimitedLog, type LogClock } from '../../src/receiver/rate-limited-log.js';

/** A winston logger whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

/** A clock moved by hand, whose timers run when it passes them. */
function manualClock(): LogClock & { advance(ms: number): void; skew(ms: number): void; pending(): number } {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void }> = [];
  return {
    now: () => now,
    later: (fn, ms) => void timers.push({ at: now + ms, fn }),
    pending: () => timers.length,
    /** Move time without running timers (a timer that fires late). */
    skew: (ms) => void (now += ms),
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RateLimitedLog', () => {
  it('writes a burst, then counts what it holds back and reports the count once the bucket refills', async () => {
    const { logger, lines } = capturingLogger();
    const clock = manualClock();
    const log = new RateLimitedLog(logger, { burst: 3, refillMs: 1000 }, clock);
    for (let i = 0; i < 10; i++) log.log('warn', 'webhook rejected', { status: 401, reason: 'unauthorized' }, { remote: `10.0.0.${i}` });
    await flush();
    expect(lines.map((l) => l['remote'])).to.deep.equal(['10.0.0.0', '10.0.0.1', '10.0.0.2']);
    expect(lines.every((l) => l['level'] === 'warn' && l['status'] === 401 && l['reason'] === 'unauthorized' && !('suppressed' in l))).to.equal(true);
    // One timer for the flood, not one per suppressed line.
    expect(clock.pending()).to.equal(1);
    clock.advance(999);
    await flush();
    expect(lines).to.have.length(3);
    clock.advance(1);
    await flush();
    expect(lines[3]).to.deep.include({ message: 'webhook rejected', status: 401, reason: 'unauthorized', suppressed: 7 });
    expect(clock.pending()).to.equal(0);
  });

  it('a line of the kind that gets through before the report carries the count instead', async () => {
    const { logger, lines } = capturingLogger();
    const clock = manualClock();
    const log = new RateLimitedLog(logger, { burst: 1, refillMs: 1000 }, clock);
    log.log('warn', 'm', { status: 400 }, { n: 1 });
    log.log('warn', 'm', { status: 400 }, { n: 2 });
    // The token is back but the report's timer is late: the next line takes the token and the count.
    clock.skew(1000);
    log.log('warn', 'm', { status: 400 }, { n: 3 });
    clock.advance(0);
    await flush();
    expect(lines.map((l) => [l['n'], l['suppressed']])).to.deep.equal([
      [1, undefined],
      [3, 1],
    ]);
    expect(clock.pending()).to.equal(0);
  });

  it('limits each kind on its own: a flood of 401s does not hide a 413', async () => {
    const { logger, lines } = capturingLogger();
    const log = new RateLimitedLog(logger, { burst: 2, refillMs: 60_000 }, manualClock());
    for (let i = 0; i < 100; i++) log.log('warn', 'webhook rejected', { status: 401, reason: 'unauthorized' });
    log.log('warn', 'webhook rejected', { status: 413, reason: 'too_large' });
    log.log('error', 'webhook failed', { status: 500 });
    await flush();
    expect(lines.map((l) => `${l['level']} ${l['status']}`)).to.deep.equal(['warn 401', 'warn 401', 'warn 413', 'error 500']);
  });
});
