import { expect } from 'chai';
import { acceptItem, dedupFor } from '../../helpers/ledger.js';
import { eventually } from '../../helpers/servers.js';
import type { Ledger, LedgerEvents } from '../../../src/delivery/ledger.js';
import type { DeliveryRecord } from '../../../src/delivery/types.js';
import { T0, acceptOn, attempted, delivery, none, notification, updateOn } from './fixtures.js';
import { useLedgers, type StoreBackend } from './index.js';

/** The lease length the replicas open with: claims move `now` past it to let a lease expire. */
const LEASE_MS = 30_000;

/** What a replica's ledger reported. */
interface Heard {
  takeovers: Array<[count: number, from: string]>;
  lost: string[][];
}

function listener(): { heard: Heard; events: LedgerEvents } {
  const heard: Heard = { takeovers: [], lost: [] };
  return {
    heard,
    events: {
      takeover: (count, from) => heard.takeovers.push([count, from]),
      leaseLost: (ids) => heard.lost.push([...ids]),
    },
  };
}

const ids = (records: readonly DeliveryRecord[]) => records.map((d) => d.id);

/**
 * Two replicas, a and b, on one database: what a shared backend guarantees across processes (issue 23: leases,
 * order, dedup, shared state, one job runner, wake-ups). A single-process backend skips it, saying so.
 */
export function replicasContract(backend: StoreBackend): void {
  describe('replicas on one database', () => {
    if (!backend.shared) {
      it('runs only on a shared backend (skipped: single-process backend)', function () {
        this.skip();
      });
      return;
    }
    const ledgers = useLedgers(backend);
    let a: Ledger;
    let b: Ledger;
    let heardA: Heard;
    let heardB: Heard;
    beforeEach(async () => {
      const la = listener();
      const lb = listener();
      heardA = la.heard;
      heardB = lb.heard;
      a = await ledgers.open({ replica: 'a', leaseMs: LEASE_MS, events: la.events });
      b = await ledgers.open({ replica: 'b', leaseMs: LEASE_MS, events: lb.events });
    });

    it('never hands one delivery to two replicas claiming at once', async () => {
      for (let i = 0; i < 50; i++) await acceptOn(a, notification(`n${i}`, `g${i}`), [delivery(`d${i}`, `n${i}`, { groupKey: `g${i}` })]);
      const byA: string[] = [];
      const byB: string[] = [];
      for (;;) {
        const [x, y] = await Promise.all([a.claim(T0, 4, none), b.claim(T0, 4, none)]);
        if (x.length === 0 && y.length === 0) break;
        byA.push(...ids(x));
        byB.push(...ids(y));
      }
      const all = [...byA, ...byB];
      expect(new Set(all).size, 'a delivery claimed twice').to.equal(all.length);
      expect(all.sort()).to.deep.equal(Array.from({ length: 50 }, (_, i) => `d${i}`).sort());
    });

    it('lets another replica take over an expired lease, and does not apply the stale owner\'s outcome', async () => {
      await acceptOn(a, notification('n1'), [delivery('d1', 'n1')]);
      expect(ids(await a.claim(T0, 10, none))).to.deep.equal(['d1']);
      // Live: b cannot have it.
      expect(await b.claim(T0 + LEASE_MS - 1, 10, none)).to.deep.equal([]);
      // a hung past its lease: b takes the delivery over, and says from whom.
      expect(ids(await b.claim(T0 + LEASE_MS + 1, 10, none))).to.deep.equal(['d1']);
      expect(heardB.takeovers).to.deep.equal([[1, 'a']]);
      // a wakes up and writes its outcome: lost, not applied.
      const stale = await updateOn(a, [attempted('d1', T0, { state: 'delivered', nextAttemptAt: null, lastStatus: 200, lastReason: null, lastError: null, deliveredAt: T0 + 13 })]);
      expect(stale.lost).to.deep.equal(['d1']);
      expect(heardA.lost).to.deep.equal([['d1']]);
      expect(await b.getDelivery('d1')).to.include({ state: 'pending', attempts: 0 });
      expect(await a.attemptsOf('d1')).to.deep.equal([]);
      // The new owner's outcome is applied.
      const fresh = await updateOn(b, [attempted('d1', T0 + LEASE_MS + 1, { state: 'dead', nextAttemptAt: null })]);
      expect(fresh.lost ?? []).to.deep.equal([]);
      expect(await a.getDelivery('d1')).to.include({ state: 'dead', attempts: 1 });
      expect((await a.attemptsOf('d1')).map((x) => x.replica)).to.deep.equal(['b']);
    });

    it('blocks a newer notification behind another replica\'s attempt in its lane, without superseding that one', async () => {
      // a accepted n1 and holds the lease of its first attempt.
      const [first] = await acceptOn(a, notification('n1'), [delivery('d1', 'n1')], { keepLeases: true });
      expect(first).to.include({ id: 'd1', state: 'pending' });
      // The resolve reaches b meanwhile: stored, but blocked behind a's attempt, and a's is not superseded.
      const newer = await acceptOn(b, notification('n2'), [delivery('d2', 'n2')], { keepLeases: true });
      expect(newer.blocked && [...newer.blocked].map((d) => d.id)).to.deep.equal(['d2']);
      expect(await b.getDelivery('d1')).to.include({ state: 'pending' });
      expect(await b.getDelivery('d2')).to.include({ state: 'pending' });
      // Not first in its lane while d1 is pending and leased.
      expect(await b.claim(T0, 10, none)).to.deep.equal([]);
      await updateOn(a, [attempted('d1', T0, { state: 'delivered', nextAttemptAt: null, lastStatus: 200, lastReason: null, lastError: null, deliveredAt: T0 + 13 })]);
      expect(ids(await b.claim(T0, 10, none))).to.deep.equal(['d2']);
    });

    it('stores one delivery per target when two replicas accept the same notification at the same moment', async () => {
      for (let round = 0; round < 20; round++) {
        const same = (replica: string) => {
          const item = acceptItem(`${replica}${round}`, T0, { key: `key-${round}`, groupKey: `g${round}`, targets: ['t', 'u'] });
          return { ...item, dedup: dedupFor(item.deliveries, T0 - 1) };
        };
        const [x, y] = await Promise.all([a.write({ accepts: [same('a')], updates: [] }), b.write({ accepts: [same('b')], updates: [] })]);
        for (const result of [...x.accepted, ...y.accepted]) expect(result, `round ${round}`).to.not.have.property('error');
        const stored = await a.deliveriesOfMany([`a${round}`, `b${round}`]);
        const live = stored.filter((d) => d.skipReason !== 'duplicate').map((d) => d.target);
        expect(live.sort(), `round ${round}`).to.deep.equal(['t', 'u']);
      }
    });

    it('shares correlation state, and runs an exclusive job on one replica at a time', async () => {
      await a.stateSet('slack\u0000g', '{"ts":"1"}', T0 + 1000);
      expect(await b.stateGet('slack\u0000g', T0)).to.equal('{"ts":"1"}');
      await b.stateSet('slack\u0000g', '{"ts":"2"}', T0 + 1000);
      expect(await a.stateGet('slack\u0000g', T0)).to.equal('{"ts":"2"}');
      await b.stateDelete('slack\u0000g');
      expect(await a.stateGet('slack\u0000g', T0)).to.equal(undefined);

      expect(await a.exclusive('prune')).to.equal(true);
      expect(await b.exclusive('prune')).to.equal(false);
      // Held, not taken again: a still runs it.
      expect(await a.exclusive('prune')).to.equal(true);
      expect(await b.exclusive('prune')).to.equal(false);
      // Another job is free.
      expect(await b.exclusive('deadman')).to.equal(true);
      await ledgers.close(a);
      await eventually(() => b.exclusive('prune'), "b's lock of the prune job after a closed");
    });

    it('wakes another replica when a write makes work claimable: a retry, a replay', async () => {
      let woken = 0;
      const stop = b.onWork(() => woken++);
      try {
        await acceptOn(a, notification('n1'), [delivery('d1', 'n1')], { keepLeases: true });
        await updateOn(a, [attempted('d1', T0)]);
        await eventually(() => woken > 0, 'b woken by the retry a wrote');
        woken = 0;
        await updateOn(a, [attempted('d1', T0 + 1000, { attempts: 2, state: 'dead', nextAttemptAt: null })]);
        await a.replay({ ids: ['d1'] }, T0 + 2000);
        await eventually(() => woken > 0, 'b woken by the replay on a');
        expect(ids(await b.claim(T0 + 2000, 10, none))).to.deep.equal(['d1']);
      } finally {
        stop();
      }
    });

    it('makes a lease given back claimable by another replica at once', async () => {
      await acceptOn(a, notification('n1'), [delivery('d1', 'n1')], { keepLeases: true });
      expect(await b.claim(T0, 10, none)).to.deep.equal([]);
      await a.unlease(['d1']);
      expect(ids(await b.claim(T0, 10, none))).to.deep.equal(['d1']);
      expect(heardB.takeovers).to.deep.equal([]);
    });
  });
}
