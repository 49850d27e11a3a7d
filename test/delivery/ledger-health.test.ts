import { expect } from 'chai';
import { LOG_EVERY_MS, LedgerHealth, RETRY_FIRST_MS, RETRY_MAX_MS, storageFailure } from '../../src/delivery/ledger-health.js';
import { recordingLogger } from '../helpers/logs.js';

/** A clock and timers the test moves by hand. */
function manualTime() {
  let now = 1_000_000;
  const timers: Array<{ at: number; fn: () => void; cleared: boolean }> = [];
  return {
    now: () => now,
    setTimer: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t: unknown) => void ((t as { cleared: boolean }).cleared = true),
    /** Move the clock by `ms`, firing the timers that come due. */
    advance(ms: number) {
      now += ms;
      for (const t of timers.splice(0)) {
        if (t.cleared) continue;
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    },
    /** Delays of the timers still waiting. */
    waiting: () => timers.filter((t) => !t.cleared).map((t) => t.at - now),
  };
}

const full = () => storageFailure('database or disk is full', 'SQLITE_FULL');

describe('the ledger health (readiness, rate-limited error logs, retries with backoff)', () => {
  const setup = () => {
    const time = manualTime();
    const { logger, lines } = recordingLogger();
    let errors = 0;
    let retries = 0;
    const health = new LedgerHealth({
      logger,
      countError: () => void errors++,
      retry: () => void retries++,
      now: time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
    });
    return { time, lines, health, errors: () => errors, retries: () => retries };
  };

  it('is unhealthy from a failed write until one succeeds, with the SQLite code in its reason', () => {
    const { health } = setup();
    expect(health.ok).to.equal(true);
    expect(health.reason).to.equal(undefined);
    health.failed(full(), 'outcomes');
    expect(health.ok).to.equal(false);
    expect(health.reason).to.match(/SQLITE_FULL: database or disk is full/);
    health.succeeded();
    expect(health.ok).to.equal(true);
    expect(health.reason).to.equal(undefined);
  });

  it('logs the first failure at once, then at most one error line per interval that counts the lines left out; counts every failure', () => {
    const { health, time, lines, errors } = setup();
    health.failed(full(), 'outcomes');
    for (let i = 0; i < 50; i++) {
      time.advance(100);
      health.failed(full(), 'outcomes');
    }
    // 5 s of failures: one line.
    const errorLines = () => lines.filter((l) => l.level === 'error');
    expect(errorLines()).to.have.length(1);
    expect(errorLines()[0]).to.deep.include({ message: 'ledger write failed' });
    expect(errorLines()[0]?.meta).to.include({ code: 'SQLITE_FULL', failuresNotLogged: 0 });
    time.advance(LOG_EVERY_MS);
    health.failed(full(), 'outcomes');
    expect(errorLines()).to.have.length(2);
    expect(errorLines()[1]?.meta).to.include({ code: 'SQLITE_FULL', failuresNotLogged: 50 });
    expect(errors()).to.equal(52);
  });

  it('logs the recovery, and the first failure after it at once again', () => {
    const { health, time, lines } = setup();
    health.failed(full(), 'outcomes');
    time.advance(1000);
    health.failed(storageFailure('database disk image is malformed', 'SQLITE_CORRUPT'), 'an accept');
    time.advance(500);
    health.succeeded();
    expect(lines.at(-1)).to.deep.include({ level: 'info', message: 'ledger writable again' });
    expect(lines.at(-1)?.meta).to.include({ downForMs: 1500, failures: 2 });
    health.succeeded(); // already healthy: nothing more
    expect(lines.filter((l) => l.level === 'info')).to.have.length(1);
    time.advance(100);
    health.failed(full(), 'outcomes');
    expect(lines.filter((l) => l.level === 'error')).to.have.length(2);
  });

  it('asks for a retry after a backoff that doubles up to its maximum, never more than one waiting, none once healthy', () => {
    const { health, time, retries } = setup();
    health.failed(full(), 'outcomes');
    health.failed(full(), 'outcomes');
    expect(time.waiting()).to.deep.equal([RETRY_FIRST_MS]);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const [wait = 0] = time.waiting();
      delays.push(wait);
      time.advance(wait);
      // The retry failed too.
      health.failed(full(), 'a probe write');
    }
    expect(delays).to.deep.equal([1000, 2000, 4000, 8000, RETRY_MAX_MS, RETRY_MAX_MS]);
    expect(retries()).to.equal(6);
    time.advance(RETRY_MAX_MS);
    expect(retries()).to.equal(7);
    health.succeeded();
    time.advance(RETRY_MAX_MS * 3);
    expect(retries()).to.equal(7);
    // The backoff starts over after a recovery.
    health.failed(full(), 'outcomes');
    expect(time.waiting()).to.deep.equal([RETRY_FIRST_MS]);
  });

  it('stops retrying once stopped', () => {
    const { health, time, retries } = setup();
    health.failed(full(), 'outcomes');
    health.stop();
    time.advance(RETRY_MAX_MS);
    health.failed(full(), 'outcomes');
    time.advance(RETRY_MAX_MS);
    expect(retries()).to.equal(0);
  });
});
