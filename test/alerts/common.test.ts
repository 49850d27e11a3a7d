import { expect } from 'chai';
import { commonPairs, withAlerts } from '../../src/alerts/common.js';
import { alert, fixture } from '../helpers/fixtures.js';

describe('common labels and group status', () => {
  it('keeps only the pairs every record shares', () => {
    expect(commonPairs([{ a: '1', b: '2', c: '3' }, { a: '1', b: 'x', c: '3' }, { a: '1', c: '3', d: '4' }])).to.deep.equal({ a: '1', c: '3' });
    expect(commonPairs([{ a: '1' }])).to.deep.equal({ a: '1' });
    expect(commonPairs([])).to.deep.equal({});
  });

  it('treats labels named like Object.prototype members as labels', () => {
    const labels = (text: string) => JSON.parse(text) as Record<string, string>;
    const common = commonPairs([labels('{"__proto__":"x","constructor":"y","a":"1"}'), labels('{"__proto__":"x","constructor":"y","a":"1"}')]);
    expect(Object.keys(common)).to.deep.equal(['__proto__', 'constructor', 'a']);
    expect(Object.getPrototypeOf(common)).to.equal(Object.prototype);
    expect(commonPairs([labels('{"constructor":"y"}'), {}])).to.deep.equal({});
  });

  it('is resolved only when every alert is resolved', () => {
    const msg = fixture();
    const firing = alert({ alertname: 'A' });
    const resolved = alert({ alertname: 'B' }, { status: 'resolved', endsAt: '2026-11-22T23:00:00Z' });
    expect(withAlerts(msg, [firing, resolved]).status).to.equal('firing');
    expect(withAlerts(msg, [resolved]).status).to.equal('resolved');
    expect(withAlerts(msg, [resolved, { ...resolved, labels: { alertname: 'C' } }]).status).to.equal('resolved');
    expect(withAlerts({ ...msg, status: 'resolved' }, [firing]).status).to.equal('firing');
  });

  it('recomputes common labels and annotations for the alerts it keeps, and keeps the rest of the message', () => {
    const msg = fixture('am025-mixed-firing-resolved.json');
    const [first] = msg.alerts;
    const one = withAlerts(msg, [first!]);
    expect(one.alerts).to.deep.equal([first]);
    expect(one.commonLabels).to.deep.equal(first!.labels);
    expect(one.commonAnnotations).to.deep.equal(first!.annotations);
    expect([one.receiver, one.groupKey, one.externalURL, one.version]).to.deep.equal([msg.receiver, msg.groupKey, msg.externalURL, msg.version]);
    expect(one.groupLabels).to.deep.equal(msg.groupLabels);
  });

  it('agrees with the common labels Alertmanager computed for the whole group', () => {
    for (const name of ['am025-grouped-firing.json', 'am025-mixed-firing-resolved.json', 'am025-all-resolved.json']) {
      const msg = fixture(name);
      const again = withAlerts(msg, msg.alerts);
      expect(again.commonLabels, name).to.deep.equal(msg.commonLabels);
      expect(again.commonAnnotations, name).to.deep.equal(msg.commonAnnotations);
      expect(again.status, name).to.equal(msg.status);
    }
  });

  it('does not change the message it copies', () => {
    const msg = fixture('am025-mixed-firing-resolved.json');
    const before = structuredClone(msg);
    withAlerts(msg, msg.alerts.slice(1));
    expect(msg).to.deep.equal(before);
  });

  it('gives an empty selection no common pairs', () => {
    const none = withAlerts(fixture(), []);
    expect(none.alerts).to.deep.equal([]);
    expect(none.commonLabels).to.deep.equal({});
    expect(none.status).to.equal('resolved');
  });
});
