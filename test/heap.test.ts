import { expect } from 'chai';
import { DEFAULT_HEAP_GROWING_PERCENT, disablePretenuring, heapGrowingPercent, limitHeapGrowth, pretenuringOff } from '../src/heap.js';

describe('the heap growing limit', () => {
  it('is the default unless the environment says otherwise', () => {
    expect(heapGrowingPercent({}, [])).to.equal(DEFAULT_HEAP_GROWING_PERCENT);
    expect(heapGrowingPercent({ ALERTMUX_HEAP_GROWING_PERCENT: '' }, [])).to.equal(DEFAULT_HEAP_GROWING_PERCENT);
  });

  it('takes ALERTMUX_HEAP_GROWING_PERCENT, where 0 leaves the growth to V8', () => {
    expect(heapGrowingPercent({ ALERTMUX_HEAP_GROWING_PERCENT: '50' }, [])).to.equal(50);
    expect(heapGrowingPercent({ ALERTMUX_HEAP_GROWING_PERCENT: '0' }, [])).to.equal(0);
  });

  it('rejects a value that is not a whole number, naming the variable', () => {
    for (const bad of ['-5', '1.5', 'fifty']) {
      expect(() => heapGrowingPercent({ ALERTMUX_HEAP_GROWING_PERCENT: bad }, [])).to.throw(/ALERTMUX_HEAP_GROWING_PERCENT must be a whole number/);
    }
  });

  it('leaves the flag alone when node was started with it, in either spelling', () => {
    expect(heapGrowingPercent({ ALERTMUX_HEAP_GROWING_PERCENT: '20' }, ['--heap-growing-percent=80'])).to.equal(undefined);
    expect(heapGrowingPercent({}, ['--heap_growing_percent=80'])).to.equal(undefined);
    expect(heapGrowingPercent({}, ['--max-old-space-size=512'])).to.equal(DEFAULT_HEAP_GROWING_PERCENT);
  });

  it('sets the V8 flag', () => {
    const set: string[] = [];
    limitHeapGrowth(70, (flags) => set.push(flags));
    expect(set).to.deep.equal(['--heap-growing-percent=70']);
  });
});

describe('allocation-site pretenuring', () => {
  it('is turned off unless node was started with the flag, either way and in either spelling', () => {
    expect(pretenuringOff([])).to.equal(true);
    expect(pretenuringOff(['--max-old-space-size=512', '--heap-growing-percent=80'])).to.equal(true);
    expect(pretenuringOff(['--allocation-site-pretenuring'])).to.equal(false);
    expect(pretenuringOff(['--no-allocation-site-pretenuring'])).to.equal(false);
    expect(pretenuringOff(['--allocation_site_pretenuring'])).to.equal(false);
  });

  it('sets the V8 flag', () => {
    const set: string[] = [];
    disablePretenuring((flags) => set.push(flags));
    expect(set).to.deep.equal(['--no-allocation-site-pretenuring']);
  });
});
