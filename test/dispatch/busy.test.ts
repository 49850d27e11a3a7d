import { expect } from 'chai';
import { BusyDeliveries } from '../../src/dispatch/busy.js';

describe('busy deliveries', () => {
  const lane = BusyDeliveries.lane('pagerduty', '{}:{alertname="X"}');
  const other = BusyDeliveries.lane('slack', '{}:{alertname="X"}');

  it('knows the busy ids, by id and by lane', () => {
    const busy = new BusyDeliveries();
    busy.add('d1', lane);
    expect(busy.inLane(lane)).to.deep.equal(['d1']);
    busy.add('d2', lane);
    busy.add('d3', other);
    expect([busy.size, busy.has('d2'), busy.has('d4')]).to.deep.equal([3, true, false]);
    expect(busy.inLane(lane)).to.deep.equal(['d1', 'd2']);
    expect(busy.inLane(other)).to.deep.equal(['d3']);
    expect(busy.inLane(BusyDeliveries.lane('pagerduty', 'another group'))).to.deep.equal([]);
  });

  it('forgets ids one at a time, and a lane once it is empty', () => {
    const busy = new BusyDeliveries();
    busy.add('d1', lane);
    busy.add('d2', lane);
    busy.add('d1', lane); // added again: still once
    busy.delete('d1');
    expect(busy.inLane(lane)).to.deep.equal(['d2']);
    busy.delete('unknown');
    busy.delete('d2');
    expect([busy.size, busy.inLane(lane)]).to.deep.equal([0, []]);
    busy.add('d5', lane);
    busy.add('d5', lane); // alone in its lane, added again: still once
    expect(busy.inLane(lane)).to.deep.equal(['d5']);
    busy.delete('d5');
    expect([busy.size, busy.has('d5'), busy.inLane(lane)]).to.deep.equal([0, false, []]);
  });

  it('keeps lanes of different targets apart even when a target name could run into the group key', () => {
    expect(BusyDeliveries.lane('a', 'b:c')).not.to.equal(BusyDeliveries.lane('a:b', 'c'));
  });
});
