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

  it('does not depend on the order of alerts', () => {
    const msg = fixture();
    const reversed = { ...msg, alerts: [...msg.alerts].reverse() };
    expect(notificationKey(reversed)).to.equal(notificationKey(msg));
  });
});
