import { expect } from 'chai';
import sinon from 'sinon';
import { CHECKPOINT_IDLE_MS, CHECKPOINT_MIN_INTERVAL_MS, Checkpointer } from '../../src/delivery/checkpoint.js';

describe('WAL checkpoints between batches', () => {
  let clock: sinon.SinonFakeTimers;
  let runs: number[];
  let checkpoints: Checkpointer;
  beforeEach(() => {
    clock = sinon.useFakeTimers();
    runs = [];
    checkpoints = new Checkpointer(() => runs.push(Date.now()), () => Date.now());
  });
  afterEach(() => {
    checkpoints.stop();
    clock.restore();
  });

  it('waits until the writer has been idle, and the last checkpoint is old enough', () => {
    clock.tick(CHECKPOINT_MIN_INTERVAL_MS);
    checkpoints.committed();
    clock.tick(CHECKPOINT_IDLE_MS - 1);
    expect(runs).to.deep.equal([]);
    clock.tick(1);
    expect(runs).to.deep.equal([CHECKPOINT_MIN_INTERVAL_MS + CHECKPOINT_IDLE_MS]);
  });

  it('does not checkpoint in the middle of a burst: each batch pushes it back', () => {
    clock.tick(CHECKPOINT_MIN_INTERVAL_MS);
    for (let i = 0; i < 5; i++) {
      checkpoints.committed();
      clock.tick(CHECKPOINT_IDLE_MS / 2);
    }
    expect(runs).to.deep.equal([]);
    clock.tick(CHECKPOINT_IDLE_MS);
    expect(runs).to.have.length(1);
    expect(runs[0]).to.equal(CHECKPOINT_MIN_INTERVAL_MS + 4 * (CHECKPOINT_IDLE_MS / 2) + CHECKPOINT_IDLE_MS);
  });

  it('keeps idle checkpoints at least the minimum interval apart', () => {
    clock.tick(CHECKPOINT_MIN_INTERVAL_MS);
    checkpoints.committed();
    clock.tick(CHECKPOINT_IDLE_MS);
    checkpoints.committed();
    clock.tick(CHECKPOINT_MIN_INTERVAL_MS);
    expect(runs).to.deep.equal([CHECKPOINT_MIN_INTERVAL_MS + CHECKPOINT_IDLE_MS, 2 * CHECKPOINT_MIN_INTERVAL_MS + CHECKPOINT_IDLE_MS]);
  });

  it('does nothing when nothing was committed, or once stopped', () => {
    checkpoints.run();
    clock.tick(CHECKPOINT_MIN_INTERVAL_MS);
    checkpoints.committed();
    checkpoints.stop();
    clock.tick(10 * CHECKPOINT_MIN_INTERVAL_MS);
    expect(runs).to.deep.equal([]);
  });
});
