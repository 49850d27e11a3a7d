import { expect } from 'chai';
import sinon from 'sinon';
import { Deadlines } from '../../src/dispatch/deadlines.js';

describe('attempt deadlines', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ now: 1000, toFake: ['setTimeout', 'clearTimeout', 'performance'] })));
  afterEach(() => clock.restore());

  it('aborts an attempt with a TimeoutError once its timeout passed', () => {
    const deadlines = new Deadlines();
    const { signal } = deadlines.take(500);
    clock.tick(499);
    expect(signal.aborted).to.equal(false);
    clock.tick(1);
    expect(signal.aborted).to.equal(true);
    expect((signal.reason as DOMException).name).to.equal('TimeoutError');
  });

  it('shares one signal between attempts that start in the same millisecond with the same timeout, and only those', () => {
    const deadlines = new Deadlines();
    const a = deadlines.take(500);
    const b = deadlines.take(500);
    const other = deadlines.take(800);
    expect(b).to.equal(a);
    expect(other).to.not.equal(a);
    clock.tick(1);
    const later = deadlines.take(500);
    expect(later).to.not.equal(a);
    clock.tick(499);
    expect(a.signal.aborted).to.equal(true);
    expect(later.signal.aborted).to.equal(false); // its own 500 ms count from a millisecond later
    expect(other.signal.aborted).to.equal(false);
  });

  it('clears the timer when the last attempt holding it ends, and never aborts a released one', () => {
    const deadlines = new Deadlines();
    const a = deadlines.take(500);
    deadlines.take(500);
    deadlines.release(a);
    expect(deadlines.size).to.equal(1); // one attempt still holds it
    deadlines.release(a);
    expect(deadlines.size).to.equal(0);
    expect(clock.countTimers()).to.equal(0);
    clock.tick(1000);
    expect(a.signal.aborted).to.equal(false);
    // A new attempt in the same millisecond gets a fresh deadline, not the released one.
    expect(deadlines.take(500)).to.not.equal(a);
  });

  it('aborts every attempt in flight on stop, and hands out only aborted signals afterwards', () => {
    const deadlines = new Deadlines();
    const a = deadlines.take(500);
    const b = deadlines.take(900);
    deadlines.stop(new DOMException('shutting down', 'AbortError'));
    expect([a.signal.aborted, b.signal.aborted]).to.deep.equal([true, true]);
    expect(clock.countTimers()).to.equal(0);
    clock.tick(5);
    const late = deadlines.take(500);
    expect(late.signal.aborted).to.equal(true);
    expect((late.signal.reason as DOMException).name).to.equal('AbortError');
  });

  it('takes a fresh deadline when the shared one already fired', () => {
    const deadlines = new Deadlines(() => 7); // a clock that stands still
    const a = deadlines.take(500);
    clock.tick(500);
    expect(a.signal.aborted).to.equal(true);
    expect(deadlines.take(500).signal.aborted).to.equal(false);
  });
});
