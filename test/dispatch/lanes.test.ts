import { expect } from 'chai';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { Lanes, laneOf, startOf } from '../../src/dispatch/lanes.js';
import { recordingLogger } from '../helpers/logs.js';
import { targetMessage } from '../helpers/fixtures.js';
import { runtimeOf, targetOf } from '../helpers/targets.js';
import type { Ledger } from '../../src/delivery/ledger.js';
import { storedDeliveries } from '../../src/delivery/records.js';
import { deliveryRecord } from '../helpers/targets.js';
import type { DeliveryRecord, NewDelivery } from '../../src/delivery/types.js';

/** A promise the test resolves when it wants. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Let every queued microtask and promise continuation run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('lanes: order per target and group key, lanes independent', () => {
  let lanes: Lanes;
  let crashes: Array<[string, string]>;
  let events: string[];
  beforeEach(() => {
    crashes = [];
    events = [];
    lanes = new Lanes((record, err) => {
      crashes.push([record.id, String(err)]);
    });
  });
  /** Work that logs its start (and whether it waited), then finishes when the test says. */
  const work = (name: string, record: DeliveryRecord) => {
    const gate = deferred();
    const run = lanes.run(record, async (waited) => {
      events.push(`${name} start${waited ? ' (waited)' : ''}`);
      await gate.promise;
      events.push(`${name} end`);
      record.state = 'delivered';
      return record;
    });
    return { run, finish: gate.resolve };
  };

  it('runs the deliveries of one lane one at a time, in arrival order', async () => {
    const [a, b, c] = [deliveryRecord(), deliveryRecord(), deliveryRecord()];
    const [wa, wb, wc] = [work('a', a), work('b', b), work('c', c)];
    await turn();
    expect(events).to.deep.equal(['a start']);
    // finishing out of order changes nothing: b waits for a, c for b
    wc.finish();
    wb.finish();
    await turn();
    expect(events).to.deep.equal(['a start']);
    wa.finish();
    expect(await wc.run).to.equal(c);
    expect(events).to.deep.equal(['a start', 'a end', 'b start (waited)', 'b end', 'c start (waited)', 'c end']);
    expect(c.state).to.equal('delivered');
    await wb.run;
  });

  it('runs different lanes (another group or another target) at the same time', async () => {
    const a = deliveryRecord({ target: 'pd', groupKey: 'g1' });
    const b = deliveryRecord({ target: 'pd', groupKey: 'g2' });
    const c = deliveryRecord({ target: 'slack', groupKey: 'g1' });
    const runs = [work('a', a), work('b', b), work('c', c)];
    await turn();
    expect(events).to.deep.equal(['a start', 'b start', 'c start']);
    runs.forEach((r) => r.finish());
    await Promise.all(runs.map((r) => r.run));
  });

  it("gives a fallback delivery a lane of its own: it does not wait behind its target's group", async () => {
    const a = deliveryRecord({ target: 'pd', groupKey: 'g' });
    const fb = deliveryRecord({ target: 'pd', groupKey: 'g', fallbackOf: 'd_x', fallbackFor: 'slack' });
    expect(laneOf(fb)).not.to.equal(laneOf(a));
    const runs = [work('a', a), work('fb', fb)];
    await turn();
    expect(events).to.deep.equal(['a start', 'fb start']);
    runs.forEach((r) => r.finish());
    await Promise.all(runs.map((r) => r.run));
  });

  it('marks a delivery busy in its lane from queued until it finished, and says when all are idle', async () => {
    const [a, b] = [deliveryRecord(), deliveryRecord()];
    const [wa, wb] = [work('a', a), work('b', b)];
    expect(lanes.busy.has(a.id) && lanes.busy.has(b.id)).to.equal(true);
    expect(lanes.busy.inLane(laneOf(a))).to.have.members([a.id, b.id]);
    expect(lanes.size).to.equal(2);
    let idle = false;
    void lanes.idle().then(() => (idle = true));
    wa.finish();
    await wa.run;
    expect(lanes.busy.has(a.id)).to.equal(false);
    expect(lanes.busy.has(b.id)).to.equal(true);
    await turn();
    expect(idle).to.equal(false);
    wb.finish();
    await wb.run;
    await turn();
    expect(idle).to.equal(true);
    expect(lanes.busy.size).to.equal(0);
    expect(lanes.size).to.equal(0);
  });

  it('reports work that throws, resolves to the record unchanged, and goes on with the lane', async () => {
    const [a, b] = [deliveryRecord(), deliveryRecord()];
    const ra = lanes.run(a, () => Promise.reject(new Error('bug')));
    const wb = work('b', b);
    expect(await ra).to.equal(a);
    expect(a.state).to.equal('pending');
    expect(crashes).to.deep.equal([[a.id, 'Error: bug']]);
    wb.finish();
    await wb.run;
    expect(events).to.deep.equal(['b start (waited)', 'b end']);
  });

  it('lets the next delivery of the lane start only once a crash has been handled (its lease given back)', async () => {
    const handled = deferred();
    lanes = new Lanes(async (record) => {
      events.push(`crash ${record.id === a.id ? 'a' : '?'}`);
      await handled.promise;
      events.push('lease given back');
    });
    const a = deliveryRecord();
    const ra = lanes.run(a, () => Promise.reject(new Error('bug')));
    const wb = work('b', deliveryRecord());
    await turn();
    expect(events).to.deep.equal(['crash a']);
    handled.resolve();
    expect(await ra).to.equal(a);
    wb.finish();
    await wb.run;
    expect(events).to.deep.equal(['crash a', 'lease given back', 'b start (waited)', 'b end']);
  });

  it('starts only what the accept leases here: not a skip, not one blocked behind another replica', () => {
    const d = (state: NewDelivery['state']): NewDelivery => {
      const { seq: _seq, updatedAt: _updatedAt, ...rest } = deliveryRecord({ state });
      return rest;
    };
    const records = storedDeliveries([d('pending'), d('skipped'), d('pending'), d('pending')], { seqs: [1, 2, 3, 4], duplicates: [3], blocked: [2] });
    expect(records.map((r) => startOf(r, records))).to.deep.equal(['run', 'skipped', 'blocked', 'skipped']);
  });
});

describe("the dispatcher's lanes", () => {
  it('logs a delivery whose attempt crashed, gives its lease back, and leaves it pending', async () => {
    const { rt, metrics } = await runtimeOf('targets:\n  - {name: t, type: webhook, url: "http://t.test/hook"}', () => 0);
    const unleased: string[][] = [];
    // Only what this path reaches: the ledger cannot say which notification is the latest of the group.
    const store = {
      latestSeq: () => Promise.reject(new Error('ledger gone')),
      unlease: async (ids: readonly string[]) => void unleased.push([...ids]),
    } as unknown as Ledger;
    const { logger, lines } = recordingLogger();
    const dispatcher = new Dispatcher({ store, metrics, logger, runtime: () => rt, now: () => 0, random: () => 0.5 });
    const record = deliveryRecord({ attempts: 1 });
    const settled = await dispatcher.retry(record, targetMessage(), targetOf(rt, 't'));
    expect(settled).to.equal(record);
    expect(record.state).to.equal('pending');
    expect(unleased).to.deep.equal([[record.id]]);
    expect(lines.filter((l) => l.message === 'delivery crashed; it stays pending')[0]?.meta).to.deep.include({ deliveryId: record.id, error: 'Error: ledger gone' });
    expect(dispatcher.busy.has(record.id)).to.equal(false);
    await dispatcher.idle();
  });
});
