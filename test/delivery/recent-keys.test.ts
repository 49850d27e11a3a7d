import { expect } from 'chai';
import { RecentKeys } from '../../src/delivery/recent-keys.js';

describe('the recent notification keys', () => {
  it('knows a key is new until it was added, for any window it has seen whole', () => {
    const keys = new RecentKeys(0);
    expect(keys.isNew('a', 0)).to.equal(true);
    keys.add('a', 100);
    expect(keys.isNew('a', 50)).to.equal(false);
    expect(keys.isNew('b', 50)).to.equal(true);
  });

  it('cannot vouch for a time before it started knowing', () => {
    const keys = new RecentKeys(1000);
    expect(keys.isNew('a', 999)).to.equal(false);
    expect(keys.isNew('a', 1000)).to.equal(true);
  });

  it('forgets keys older than the window asked about, and then cannot answer for a longer window', () => {
    const keys = new RecentKeys(0);
    keys.add('a', 100);
    keys.add('b', 200);
    expect(keys.isNew('a', 150)).to.equal(true); // a's delivery is older than the window
    expect(keys.size).to.equal(1);
    expect(keys.isNew('a', 120)).to.equal(true);
    expect(keys.isNew('a', 90)).to.equal(false); // a longer window (after a reload) reaches back to what was forgotten
    expect(keys.isNew('b', 150)).to.equal(false);
  });

  it('keeps a key added again as long as its newest delivery', () => {
    const keys = new RecentKeys(0);
    keys.add('a', 100);
    keys.add('b', 150);
    keys.add('a', 300);
    expect(keys.isNew('a', 200)).to.equal(false);
    expect(keys.isNew('b', 200)).to.equal(true);
    expect(keys.size).to.equal(1);
  });

  it('drops the oldest key past its cap, and then knows only from after it', () => {
    const keys = new RecentKeys(0, 2);
    keys.add('a', 100);
    keys.add('b', 200);
    keys.add('c', 300);
    expect(keys.size).to.equal(2);
    expect(keys.isNew('a', 0)).to.equal(false); // a was dropped, not forgotten: it may still be in the ledger
    expect(keys.isNew('d', 100)).to.equal(false);
    expect(keys.isNew('d', 101)).to.equal(true);
    expect(keys.isNew('b', 101)).to.equal(false);
  });
});
