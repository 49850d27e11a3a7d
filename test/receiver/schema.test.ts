import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { validateWebhook } from '../../src/receiver/schema.js';
import { FIXTURES, alert, fixture } from '../helpers/fixtures.js';

const errorsOf = (body: unknown): string[] => {
  const result = validateWebhook(body);
  if (result.ok) throw new Error('expected the payload to be rejected');
  return result.errors;
};

describe('webhook payload schema', () => {
  const captured = readdirSync(FIXTURES).filter((f) => /^am025-.*\.json$/.test(f));

  it('has captured payloads to check', () => {
    expect(captured.length).to.be.at.least(10);
  });

  for (const name of captured) {
    it(`accepts the payload Alertmanager 0.25 sent (${name}) unchanged`, () => {
      const body = fixture(name);
      const result = validateWebhook(body);
      expect(result.ok, JSON.stringify(result)).to.equal(true);
      if (result.ok) expect(result.message).to.deep.equal(body);
    });
  }

  it('keeps the zero endsAt of firing alerts as Alertmanager sent it', () => {
    const result = validateWebhook(fixture());
    expect(result.ok && result.message.alerts.every((a) => a.endsAt === '0001-01-01T00:00:00Z')).to.equal(true);
  });

  it('accepts unknown extra fields of newer Alertmanager versions and keeps them', () => {
    const body = {
      ...fixture(),
      notification_reason: 'resolved',
      routeLabels: { team: 'ops' },
      alerts: fixture().alerts.map((a) => ({ ...a, silencedBy: [], extra: { x: 1 } })),
    };
    const result = validateWebhook(body);
    expect(result.ok).to.equal(true);
    if (result.ok) {
      expect(result.message['notification_reason']).to.equal('resolved');
      expect(result.message['routeLabels']).to.deep.equal({ team: 'ops' });
      expect(result.message.alerts[0]!['silencedBy']).to.deep.equal([]);
    }
  });

  it('takes routeLabels (Alertmanager >= 0.34) as a label set, null as none, and leaves it out when absent', () => {
    const ok = (routeLabels: unknown) => validateWebhook({ ...fixture(), routeLabels }).ok;
    expect(ok({ 'service.name': 'checkout', team: 'payments' })).to.equal(true);
    expect(ok({})).to.equal(true);
    expect(ok(null)).to.equal(true);
    const absent = validateWebhook(fixture());
    expect(absent.ok && 'routeLabels' in absent.message).to.equal(false);
    expect(errorsOf({ ...fixture(), routeLabels: { team: 1 } })).to.deep.equal(['/routeLabels/team: must be string']);
    expect(errorsOf({ ...fixture(), routeLabels: ['team'] })).to.deep.equal(['/routeLabels: must be object']);
  });

  it('fills optional maps and strings that a minimal sender leaves out', () => {
    const result = validateWebhook({
      version: '4',
      status: 'firing',
      receiver: 'r',
      groupKey: '{}:{}',
      alerts: [{ status: 'firing', labels: { alertname: 'A' }, startsAt: '2026-11-22T23:00:00Z' }],
    });
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result.message).to.deep.include({ groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: '' });
    expect(result.message.alerts[0]).to.deep.equal({
      status: 'firing',
      labels: { alertname: 'A' },
      annotations: {},
      startsAt: '2026-11-22T23:00:00Z',
      endsAt: '',
      fingerprint: '',
    });
  });

  it('does not change the body it validates', () => {
    const body = { version: '4', status: 'firing', receiver: 'r', groupKey: 'k', alerts: [{ status: 'firing', labels: {}, startsAt: 'x' }] };
    const before = structuredClone(body);
    validateWebhook(body);
    expect(body).to.deep.equal(before);
  });

  it('rejects another payload version with a clear message', () => {
    expect(errorsOf({ ...fixture(), version: '3' })).to.deep.equal(['/version: must be "4" (Alertmanager webhook payload version 4)']);
    expect(errorsOf({ ...fixture(), version: 4 })).to.deep.equal(['/version: must be "4" (Alertmanager webhook payload version 4)']);
  });

  it('rejects a body without alerts, or with none', () => {
    const { alerts: _alerts, ...rest } = fixture();
    expect(errorsOf(rest)).to.deep.equal(["/: must have required property 'alerts'"]);
    expect(errorsOf({ ...fixture(), alerts: [] })).to.deep.equal(['/alerts: must NOT have fewer than 1 items']);
  });

  it('names every problem with its path', () => {
    const body = { ...fixture(), status: 'broken', alerts: [alert({ a: 'b' }, { status: 'pending' as 'firing', labels: { n: 1 as unknown as string } })] };
    delete (body.alerts[0] as { startsAt?: string }).startsAt;
    expect(errorsOf(body)).to.have.members([
      '/status: must be one of firing, resolved',
      "/alerts/0: must have required property 'startsAt'",
      '/alerts/0/status: must be one of firing, resolved',
      '/alerts/0/labels/n: must be string',
    ]);
  });

  it('rejects what is not an object', () => {
    for (const body of [null, 'text', 42, []]) expect(errorsOf(body)).to.deep.equal(['/: must be object']);
  });

  it('keeps the list of problems short', () => {
    const body = { ...fixture(), alerts: Array.from({ length: 100 }, () => ({ status: 'nope' })) };
    expect(errorsOf(body)).to.have.length(20);
  });

  it('hints at posting the body when given a capture file', () => {
    const errors = errorsOf({ capturedFrom: 'alertmanager 0.25', requestHeaders: {}, body: fixture() });
    expect(errors[0]).to.equal('this looks like a capture file ({capturedFrom, requestHeaders, body}): post its "body" instead');
    expect(errors.slice(1)).to.include("/: must have required property 'version'");
  });
});
