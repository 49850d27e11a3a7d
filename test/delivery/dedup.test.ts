import { expect } from 'chai';
import { DedupIndex, laneBytes, listBytes } from '../../src/delivery/dedup-index.js';
import { dedupLane, needsUpdate, type DedupEntry, type DedupReason, type DedupState } from '../../src/delivery/dedup.js';

const WINDOW = 600_000;
const T0 = Date.parse('2026-12-06T04:00:00Z');

const entry = (firing: string[], resolved: string[] = [], extra: Partial<DedupEntry> = {}): DedupEntry => ({
  receiver: 'r',
  groupKey: 'g',
  target: 't',
  firing,
  resolved,
  sendResolved: false,
  repeat: false,
  ...extra,
});
const state = (firing: string[], resolved: string[] = [], at = T0 - 1000): DedupState => ({ firing, resolved, at });

describe("dedup: Alertmanager's nflog rule (DedupStage.needsUpdate)", () => {
  // The cases of Alertmanager's TestDedupStageNeedsUpdate, with alertmux's window in place of the nflog's retention
  // and notification_reason in place of its own repeat interval.
  const cases: Array<{ name: string; last?: DedupState; entry: DedupEntry; now?: number; want: DedupReason | undefined }> = [
    { name: 'no state, firing alerts', entry: entry(['2', '3', '4']), want: 'first notification' },
    // Alertmanager sends a resolved-only group only when its own log had it firing; alertmux cannot know, so it goes.
    { name: 'no state, only resolved alerts', entry: entry([], ['1']), want: 'first notification' },
    { name: 'new firing alerts', last: state(['1', '2', '3']), entry: entry(['2', '3', '4']), want: 'new alerts added' },
    { name: 'firing again after everything resolved', last: state([], ['1', '2']), entry: entry(['1']), want: 'first notification' },
    { name: 'same firing alerts', last: state(['1', '2', '3']), entry: entry(['1', '2', '3']), want: undefined },
    { name: 'fewer firing alerts, send_resolved off', last: state(['1', '2', '3']), entry: entry(['1', '2'], ['3']), want: undefined },
    {
      name: 'fewer firing alerts, send_resolved on',
      last: state(['1', '2', '3']),
      entry: entry(['1', '2'], ['3'], { sendResolved: true }),
      want: 'some alerts resolved',
    },
    {
      name: 'the same resolved alerts, send_resolved on',
      last: state(['1', '2'], ['3']),
      entry: entry(['1', '2'], ['3'], { sendResolved: true }),
      want: undefined,
    },
    { name: 'everything resolved, the last had firing alerts', last: state(['1', '2']), entry: entry([], ['1', '2']), want: 'all alerts resolved' },
    {
      name: 'everything resolved, send_resolved on',
      last: state(['1', '2']),
      entry: entry([], ['1', '2'], { sendResolved: true }),
      want: 'all alerts resolved',
    },
    { name: 'everything resolved again (the other HA peer)', last: state([], ['1', '2']), entry: entry([], ['1', '2']), want: undefined },
    {
      name: 'resolved alerts the receiver never saw firing',
      last: state([], ['1']),
      entry: entry([], ['1', '2'], { sendResolved: true }),
      want: undefined,
    },
    { name: 'repeat interval elapsed (notification_reason)', last: state(['1']), entry: entry(['1'], [], { repeat: true }), want: 'repeat interval elapsed' },
    { name: 'the same, the state older than the window', last: state(['1'], [], T0 - WINDOW - 1), entry: entry(['1']), want: 'first notification' },
    { name: 'the same, the state just inside the window', last: state(['1'], [], T0 - WINDOW), entry: entry(['1']), want: undefined },
    { name: 'the same, later: the window has moved past it', last: state(['1'], [], T0 - WINDOW), entry: entry(['1']), now: T0 + 1, want: 'first notification' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.want ?? 'duplicate'}`, () => {
      expect(needsUpdate(c.last, c.entry, (c.now ?? T0) - WINDOW)).to.equal(c.want);
    });
  }
});

describe('dedup: the index of the states in the window (early sends)', () => {
  // An injected clock: each claim is at `now`, the window starts WINDOW before it.
  let now = T0;
  const claim = (index: DedupIndex, ...entries: Array<DedupEntry | undefined>) => index.claim(entries, now, now - WINDOW);
  beforeEach(() => (now = T0));

  it('vouches for a first notification, then leaves the identical one (the HA peer) to the commit', () => {
    const index = new DedupIndex(T0 - WINDOW);
    expect(claim(index, entry(['1']))).to.equal(true);
    now += 5;
    expect(claim(index, entry(['1']))).to.equal(false);
    expect(claim(index, entry(['1', '2']))).to.equal(true);
    expect(claim(index, entry([], ['1', '2']))).to.equal(true);
    expect(claim(index, entry([], ['1', '2']))).to.equal(false);
    // Flapping: firing again after the resolve is news.
    expect(claim(index, entry(['1']))).to.equal(true);
  });

  it('needs every entry certain; a delivery without an entry takes no part', () => {
    const index = new DedupIndex(T0 - WINDOW);
    expect(claim(index, entry(['1']), undefined)).to.equal(true);
    expect(claim(index, entry(['1'], [], { target: 'u' }), entry(['1']))).to.equal(false);
    // u was recorded by that claim, whatever t was.
    expect(claim(index, entry(['1'], [], { target: 'u' }))).to.equal(false);
  });

  it('forgets states as the window moves on, and then cannot answer for an earlier window', () => {
    const index = new DedupIndex(T0 - WINDOW);
    expect(claim(index, entry(['1']))).to.equal(true);
    now += WINDOW + 1;
    expect(claim(index, entry(['1']))).to.equal(true);
    expect(index.lanesCount).to.equal(1);
    // A longer window (after a reload) reaches back before what the index knows: only the ledger can tell.
    expect(index.claim([entry(['1'], [], { target: 'v' })], now, now - 3 * WINDOW)).to.equal(false);
  });

  it('past its budget, drops the oldest lanes and leaves lanes it no longer knows to the commit until the window passes them', () => {
    // Room for a (with its list of fingerprints) and b (which shares a's list: the same fingerprints).
    const budget = laneBytes(dedupLane(entry([], [], { target: 'a' }))) + listBytes(['1']) + laneBytes(dedupLane(entry([], [], { target: 'b' })));
    const index = new DedupIndex(T0 - WINDOW, budget);
    expect(claim(index, entry(['1'], [], { target: 'a' }))).to.equal(true);
    now += 1;
    expect(claim(index, entry(['1'], [], { target: 'b' }))).to.equal(true);
    now += 1;
    // b's arrival pushed nothing out; c's pushes a out.
    expect(index.lanesCount).to.equal(2);
    expect(claim(index, entry(['1'], [], { target: 'c' }))).to.equal(true);
    expect(index.lanesCount).to.equal(2);
    now += 1;
    expect(claim(index, entry(['1'], [], { target: 'a' }))).to.equal(false);
    expect(claim(index, entry(['1'], [], { target: 'new' }))).to.equal(false);
    // The commit decided for these; once the window has passed them, the index knows again.
    now += WINDOW + 10;
    expect(claim(index, entry(['1'], [], { target: 'a' }))).to.equal(true);
  });

  it('vouches for a repeat whatever it knows', () => {
    const index = new DedupIndex(T0);
    expect(claim(index, entry(['1']))).to.equal(false);
    expect(claim(index, entry(['1'], [], { repeat: true }))).to.equal(true);
  });
});
