import { expect } from 'chai';
import sinon from 'sinon';
import { storageFailure } from '../../src/delivery/ledger-health.js';
import { UnwrittenOutcomes } from '../../src/delivery/settled.js';
import { PRUNE_BATCH, PRUNE_MAX_BATCHES, RetryWorker } from '../../src/delivery/worker.js';
import { recordingLogger } from '../helpers/logs.js';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';
import type { Runtime } from '../../src/dispatch/runtime.js';
import type { Metrics } from '../../src/observability/metrics.js';
import type { Ledger } from '../../src/delivery/ledger.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const RETENTION = 7 * 86_400_000;

/** A retry worker over a fake ledger whose prune() removes what `removed` says, batch after batch. */
function setup(removed: number[], fail?: Error, due: () => unknown[] = () => [], exclusive = true) {
  const calls: Array<[number, number, number | undefined]> = [];
  const asked: string[] = [];
  const store = {
    claim: async () => due(),
    nextDueAt: async () => undefined,
    exclusive: async (job: string) => (asked.push(job), exclusive),
    prune: async (before: number, now: number, limit?: number) => {
      calls.push([before, now, limit]);
      if (fail) throw fail;
      return removed.shift() ?? 0;
    },
  } as unknown as Ledger;
  const fallbacks = { dueAt: Infinity, sweep: async () => [] };
  const dispatcher = { busy: new Set<string>(), ledger: { unwritten: new UnwrittenOutcomes() }, flush: async () => undefined, fallbacks } as unknown as Dispatcher;
  const runtime = () => ({ config: { dispatch: { max_concurrency: 1 }, storage: { retention: RETENTION } } }) as unknown as Runtime;
  const { logger, lines } = recordingLogger();
  const worker = new RetryWorker({ store, dispatcher, runtime, metrics: {} as Metrics, logger, now: () => NOW });
  return { worker, calls, lines, asked };
}

describe('retention pruning (small batches, every few minutes)', () => {
  it('deletes in batches of PRUNE_BATCH until a batch finds nothing, and logs the total', async () => {
    const { worker, calls, lines } = setup([PRUNE_BATCH, PRUNE_BATCH, 17, 0]);
    worker.start();
    try {
      expect(await worker.prune()).to.equal(2 * PRUNE_BATCH + 17);
    } finally {
      worker.stop();
    }
    expect(calls).to.deep.equal(Array(4).fill([NOW - RETENTION, NOW, PRUNE_BATCH]));
    expect(lines.find((l) => l.message === 'pruned finished records')?.meta).to.deep.equal({ removed: 2 * PRUNE_BATCH + 17 });
  });

  it('leaves a large backlog to the next rounds: at most PRUNE_MAX_BATCHES batches in one', async () => {
    const { worker, calls } = setup(Array(1000).fill(PRUNE_BATCH));
    worker.start();
    try {
      expect(await worker.prune()).to.equal(PRUNE_MAX_BATCHES * PRUNE_BATCH);
    } finally {
      worker.stop();
    }
    expect(calls).to.have.length(PRUNE_MAX_BATCHES);
  });

  it('leaves the round to the replica that runs pruning (exclusive answers false), and looks again next round', async () => {
    const { worker, calls, lines, asked } = setup([PRUNE_BATCH, 0], undefined, () => [], false);
    worker.start();
    try {
      expect(await worker.prune()).to.equal(0);
    } finally {
      worker.stop();
    }
    expect(asked).to.deep.equal(['prune']);
    expect(calls).to.deep.equal([]);
    expect(lines.filter((l) => l.level === 'error')).to.deep.equal([]);
  });

  it('logs a failed round at error', async () => {
    const { worker, lines } = setup([], new Error('database is locked'));
    worker.start();
    try {
      expect(await worker.prune()).to.equal(0);
    } finally {
      worker.stop();
    }
    expect(lines.find((l) => l.level === 'error')).to.deep.include({ message: 'pruning the ledger failed' });
  });
});

describe('the retry worker on a ledger it cannot read', () => {
  it('backs off, 1 s doubling up to 30 s, logging each failed pass with its SQLite code', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let passes = 0;
    const { worker, lines } = setup([], undefined, () => {
      passes++;
      throw storageFailure('database disk image is malformed', 'SQLITE_CORRUPT');
    });
    try {
      worker.start();
      const at: number[] = [];
      for (let ms = 0; ms <= 100_000; ms += 250) {
        await clock.tickAsync(250);
        while (at.length < passes) at.push(ms);
      }
      // Passes at 0, then 1, 2, 4, 8, 16, 30, 30 s apart.
      const gaps = at.slice(1).map((t, i) => Math.round((t - (at[i] ?? 0)) / 1000));
      expect(gaps).to.deep.equal([1, 2, 4, 8, 16, 30, 30]);
      const failed = lines.filter((l) => l.message === 'retry worker pass failed');
      expect(failed).to.have.length(passes);
      expect(failed[0]?.meta).to.include({ code: 'SQLITE_CORRUPT', retryInMs: 1000 });
    } finally {
      worker.stop();
      clock.restore();
    }
  });
});
