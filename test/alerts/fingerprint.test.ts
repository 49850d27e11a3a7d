import { expect } from 'chai';
import { groupKeyHash, labelsFingerprint, notificationKey } from '../../src/alerts/fingerprint.js';
import { fixture } from '../helpers/fixtures.js';

describe('fingerprints', () => {
  it('computes the same fingerprint Alertmanager sent for each captured alert', () => {
    for (const name of ['am025-grouped-firing.json', 'am025-mixed-firing-resolved.json', 'am025-firing-2-firing-firing-noauth.json']) {
      for (const a of fixture(name).alerts) expect(labelsFingerprint(a.labels), name).to.equal(a.fingerprint);
    }
  });

  it('hashes the group key with sha256 into 64 hex characters, as notify.Key.Hash()', () => {
    expect(groupKeyHash('{}:{alertname="X"}')).to.match(/^[0-9a-f]{64}$/);
    expect(groupKeyHash('a')).to.equal('ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
  });

  it('gives a resend the same notification key and a state change a different one', () => {
    const msg = fixture();
    expect(notificationKey(fixture())).to.equal(notificationKey(msg));
    const resolved = fixture();
    resolved.alerts[0]!.status = 'resolved';
    resolved.alerts[0]!.endsAt = '2026-11-22T23:00:00Z';
    expect(notificationKey(resolved)).to.not.equal(notificationKey(msg));
    expect(notificationKey({ ...msg, receiver: 'other' })).to.not.equal(notificationKey(msg));
  });

  it('sorts label names by their UTF-8 bytes, as Go does, not by UTF-16 code units', () => {
    // U+E000 is EE 80 80 in UTF-8, U+10000 is F0 90 80 80: Go puts U+E000 first; UTF-16 (D800 DC00 < E000) would not.
    const fnv = (bytes: number[]) => {
      let h = 0xcbf29ce484222325n;
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, '0');
    };
    const pair = (name: string, value: string) => [...Buffer.from(name), 0xff, ...Buffer.from(value), 0xff];
    const expected = fnv([...pair('\u{E000}', 'x'), ...pair('\u{10000}', 'y')]);
    expect(labelsFingerprint({ '\u{10000}': 'y', '\u{E000}': 'x' })).to.equal(expected);
    expect(labelsFingerprint({ '\u{E000}': 'x', '\u{10000}': 'y' })).to.equal(expected);
    expect(fnv([...pair('\u{10000}', 'y'), ...pair('\u{E000}', 'x')])).to.not.equal(expected);
  });

  it('gives notifications that differ only in timestamps (HA peers, Prometheus replicas) the same key', () => {
    const msg = fixture();
    const peer = fixture();
    for (const a of peer.alerts) a.startsAt = new Date(Date.parse(a.startsAt) + 7).toISOString();
    expect(notificationKey(peer)).to.equal(notificationKey(msg));
  });

  it('does not depend on the order of alerts', () => {
    const msg = fixture();
    const reversed = { ...msg, alerts: [...msg.alerts].reverse() };
    expect(notificationKey(reversed)).to.equal(notificationKey(msg));
  });
});
