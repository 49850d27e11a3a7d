import { expect } from 'chai';
import { Limiter } from '../../src/dispatch/limiter.js';

describe('Limiter', () => {
  it('hands out slots at once up to its cap, then in arrival order as slots come back', async () => {
    const limiter = new Limiter(2);
    expect([limiter.acquire(), limiter.acquire(), limiter.inFlight]).to.deep.equal([undefined, undefined, 2]);
    const order: string[] = [];
    const third = limiter.acquire()?.then(() => order.push('third'));
    const fourth = limiter.acquire()?.then(() => order.push('fourth'));
    expect(third).to.be.instanceOf(Promise);
    await Promise.resolve();
    expect(order).to.deep.equal([]);
    limiter.release();
    await third;
    expect([order, limiter.inFlight]).to.deep.equal([['third'], 2]);
    limiter.release();
    await fourth;
    expect(order).to.deep.equal(['third', 'fourth']);
    limiter.release();
    limiter.release();
    expect(limiter.inFlight).to.equal(0);
  });

  it('lets waiters in when a reload raises the cap, and holds new ones when it lowers it', async () => {
    const limiter = new Limiter(1);
    limiter.acquire();
    const waiting = [limiter.acquire(), limiter.acquire()];
    limiter.resize(3);
    await Promise.all(waiting);
    expect(limiter.inFlight).to.equal(3);
    limiter.resize(1);
    const held = limiter.acquire();
    expect(held).to.be.instanceOf(Promise);
    let in4 = false;
    void held?.then(() => (in4 = true));
    limiter.release();
    limiter.release();
    await Promise.resolve();
    expect([in4, limiter.inFlight]).to.deep.equal([false, 1]);
    limiter.release();
    await held;
    expect([in4, limiter.inFlight]).to.deep.equal([true, 1]);
  });
});
