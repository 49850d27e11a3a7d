import { expect } from 'chai';
import { chipState } from '../../ui/src/states.js';
import { age, fromLocalInput, relative, toLocalInput } from '../../ui/src/time.js';

describe('console helpers', () => {
  describe('chipState', () => {
    const cases: Array<[entry: Omit<Parameters<typeof chipState>[0], 'attempts'> & { attempts?: number }, label: string, tone: string]> = [
      [{ state: 'delivered' }, 'delivered', 'ok'],
      [{ state: 'succeeded' }, 'delivered', 'ok'],
      [{ state: 'dead' }, 'failed', 'bad'],
      [{ state: 'failed', deadLettered: true }, 'failed', 'bad'],
      [{ state: 'failed', queued: true }, 'retrying', 'warn'],
      [{ state: 'pending' }, 'queued', 'warn'],
      [{ state: 'pending', skipReason: 'paused' }, 'queued (paused)', 'warn'],
      [{ state: 'pending', attempts: 2, lastReason: 'serverError' }, 'retrying', 'warn'],
      [{ state: 'skipped', skipReason: 'paused', queued: true }, 'queued (paused)', 'warn'],
      [{ state: 'skipped', skipReason: 'circuit_open', queued: true }, 'queued (circuit_open)', 'warn'],
      [{ state: 'skipped', skipReason: 'filtered' }, 'skipped (filtered)', 'neutral'],
      [{ state: 'superseded' }, 'skipped (superseded)', 'neutral'],
      [{ state: 'something-new' }, 'something-new', 'neutral'],
    ];
    for (const [entry, label, tone] of cases) {
      it(`shows ${JSON.stringify(entry)} as "${label}"`, () => expect(chipState({ attempts: 0, ...entry })).to.deep.equal({ label, tone }));
    }
  });

  describe('times', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    it('says relative ages in the past and the future, and — for none', () => {
      expect(relative('2026-12-06T09:59:58Z', now)).to.equal('just now');
      expect(relative('2026-12-06T09:59:30Z', now)).to.match(/30 sec/);
      expect(relative('2026-12-06T09:57:00Z', now)).to.match(/3 min\.? ago/);
      expect(relative('2026-12-06T07:00:00Z', now)).to.match(/3 hr\.? ago/);
      expect(relative('2026-12-04T10:00:00Z', now)).to.match(/2 days ago/);
      expect(relative('2026-12-06T10:00:20Z', now)).to.match(/^in 20 sec/);
      expect(relative(undefined, now)).to.equal('—');
      expect(relative('not a time', now)).to.equal('—');
    });
    it('writes durations in the largest two units', () => {
      expect(age(42)).to.equal('42s');
      expect(age(250)).to.equal('4m 10s');
      expect(age(7380)).to.equal('2h 3m');
      expect(age(90000)).to.equal('1d 1h');
      expect(age(null)).to.equal('—');
    });
    it('turns a datetime-local value into an instant and back, in the local zone', () => {
      const iso = fromLocalInput('2026-12-06T11:30');
      expect(iso).to.equal(new Date(2026, 11, 6, 11, 30).toISOString());
      expect(toLocalInput(iso)).to.equal('2026-12-06T11:30');
      expect(fromLocalInput('')).to.equal(undefined);
      expect(toLocalInput(undefined)).to.equal('');
    });
  });
});
